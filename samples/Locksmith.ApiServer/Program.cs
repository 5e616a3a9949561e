using System;
using System.Linq;
using Locksmith.ApiServer;
using Locksmith.ApiServer.MainJob;

// --serve: the server alone, until Ctrl+C. Otherwise the main job (it starts the server itself).
if (args.Contains("--serve", StringComparer.Ordinal))
{
    await using var app = ApiServerApp.Build(ApiServerApp.CreateBuilder(args));
    await app.RunAsync();
    return 0;
}

return await MainJobRunner.RunAsync(args);

/// <summary>The entry point, public so <c>WebApplicationFactory&lt;Program&gt;</c> can find it.</summary>
public partial class Program
{
}
