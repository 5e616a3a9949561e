using System;
using System.IO;
using System.Linq;
using Locksmith.ApiServer;
using Locksmith.ApiServer.MainJob;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// --serve: the server alone, until Ctrl+C. Otherwise the main job (it starts the server itself).
if (args.Contains("--serve", StringComparer.Ordinal))
{
    // The same command line as the main job's: --port P binds 127.0.0.1:P (else appsettings' Urls, or --urls).
    var options = MainJobOptions.Parse(args, out string? error);
    if (options is null)
    {
        Console.Error.WriteLine(error);
        Console.Error.WriteLine(MainJobOptions.Usage);
        return 2;
    }

    try
    {
        var builder = ApiServerApp.CreateBuilder(options.ServerArgs, options.PortGiven ? options.Port : null);
        var quiet = new QuietStart();
        quiet.AttachTo(builder.Logging);
        await using var app = ApiServerApp.Build(builder);
        await app.StartAsync();
        quiet.Started();
        await app.WaitForShutdownAsync();
        return 0;
    }
    catch (OptionsValidationException ex)
    {
        Console.Error.WriteLine($"The server's settings are invalid: {ex.Message}");
        return 2;
    }
    catch (IOException ex)
    {
        // Kestrel could not bind (the port is taken): say so instead of a stack trace.
        Console.Error.WriteLine($"The server could not start: {ex.Message} Pass --port P (or --urls) to listen elsewhere.");
        return 2;
    }
}

return await MainJobRunner.RunAsync(args);

/// <summary>The entry point, public so <c>WebApplicationFactory&lt;Program&gt;</c> can find it.</summary>
public partial class Program
{
}
