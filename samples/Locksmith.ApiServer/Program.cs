using System;
using System.Linq;
using Locksmith.ApiServer;
using Locksmith.ApiServer.MainJob;
using Microsoft.Extensions.Hosting;

// --help: the usage, as the worker sample answers it.
if (args.Any(static arg => arg is "--help" or "-h" or "-?"))
{
    Console.WriteLine(MainJobOptions.Usage);
    return 0;
}

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

    var (app, failure) = await ApiServerApp.StartAsync(options.ServerArgs, options.PortGiven ? options.Port : null, null, default);
    if (app is null)
    {
        Console.Error.WriteLine(failure);
        return 2;
    }

    await using (app)
    {
        await app.WaitForShutdownAsync();
    }

    return 0;
}

return await MainJobRunner.RunAsync(args);

/// <summary>
/// The entry point, public so <c>WebApplicationFactory&lt;Program&gt;</c> can find it: run by the factory (no arguments, an
/// in-memory server) it serves the factory's client until the factory is disposed, instead of running the main job.
/// </summary>
public partial class Program
{
}
