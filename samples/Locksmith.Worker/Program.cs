using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Worker;

/// <summary>
/// <c>dotnet run --project samples/Locksmith.Worker [-- --items 25000 --rounds 200 …]</c>: runs the seed's producers and
/// consumers and its matrix phases once under the generic host, prints the totals, and exits 0 only if all are exact.
/// </summary>
public static class Program
{
    /// <summary>The entry point; returns the exit code.</summary>
    public static async Task<int> Main(string[] args)
    {
        IHost host = BuildHost(args);
        // Resolved before the run: RunAsync disposes the host, and its services with it.
        var outcome = host.Services.GetRequiredService<WorkOutcome>();
        await host.RunAsync().ConfigureAwait(false);
        return outcome.ExitCode;
    }

    /// <summary>The worker's host: <c>AddLocksmith</c> from the <c>Locksmith</c> section, the worker from <c>Worker</c>.</summary>
    public static IHost BuildHost(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddCommandLine(args, WorkerOptions.SwitchMappings());
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Services.AddLocksmith(builder.Configuration.GetSection(LocksmithOptions.SectionName))
            .AddSeedWorker(builder.Configuration.GetSection(WorkerOptions.SectionName));
        return builder.Build();
    }
}
