using System;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Locksmith.Worker;

/// <summary>
/// <c>dotnet run --project samples/Locksmith.Worker [-- --items 25000 --rounds 200 …]</c>: runs the seed's producers and
/// consumers and its matrix phases once under the generic host, prints the totals, and exits 0 only if all are exact.
/// </summary>
public static class Program
{
    /// <summary>The entry point; returns the exit code.</summary>
    public static Task<int> Main(string[] args) => RunAsync(args, configure: null);

    /// <summary>
    /// What <see cref="Main"/> does, with <paramref name="configure"/> applied to the host's builder last (a test's
    /// logging provider, say); returns the exit code.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, Action<HostApplicationBuilder>? configure)
    {
        if (args.Any(static a => a is "--help" or "-h" or "-?"))
        {
            Console.WriteLine(WorkerOptions.Usage());
            return 0;
        }

        if (WorkerOptions.CommandLineProblems(args) is { Count: > 0 } lineProblems)
        {
            Console.Error.WriteLine(string.Join(" ", lineProblems));
            Console.Error.WriteLine(WorkerOptions.Usage());
            return 1;
        }

        IHost host;
        try
        {
            host = BuildHost(args, configure);
        }
        catch (FormatException error)
        {
            // A switch without a number (--producers abc), or without a value at all.
            Console.Error.WriteLine(error.Message);
            Console.Error.WriteLine(WorkerOptions.Usage());
            return 1;
        }

        // Checked before the host starts, so a bad count is one line, not a failed start's stack trace.
        string? problems = null;
        try
        {
            if (host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value.Problems() is { Count: > 0 } found)
            {
                problems = string.Join(" ", found);
            }
        }
        catch (InvalidOperationException error)
        {
            problems = error.Message;   // the binder names the key and the value: "Failed to convert configuration value 'abc' at 'Worker:Producers' ..."
        }

        // Locksmith's section too: the host checks it as it starts, where a bad value (WatchdogInterval = 0, a time that
        // does not parse, a misspelt key) was the failed start's stack trace and an aborted process, not exit code 1.
        if (problems is null)
        {
            try
            {
                _ = host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;
            }
            catch (Exception error) when (error is OptionsValidationException or InvalidOperationException)
            {
                problems = error.Message;
            }
        }

        if (problems is not null)
        {
            Console.Error.WriteLine(problems);
            Console.Error.WriteLine(WorkerOptions.Usage());
            host.Dispose();
            return 1;
        }

        // Resolved before the run: RunAsync disposes the host, and its services with it.
        var outcome = host.Services.GetRequiredService<WorkOutcome>();
        await host.RunAsync().ConfigureAwait(false);
        // Printed here, after RunAsync disposed the host: the console logger writes on a thread of its own and drains
        // its queue on dispose, so a table printed by the service could have the work's last progress lines inside it,
        // and a failure's line could come before the timeout warnings it sums up.
        outcome.Report?.WriteTo(Console.Out);
        if (outcome.ErrorLine is { } errorLine)
        {
            await Console.Error.WriteLineAsync(errorLine).ConfigureAwait(false);
        }

        return outcome.ExitCode;
    }

    /// <summary>The worker's host: <c>AddLocksmith</c> from the <c>Locksmith</c> section, the worker from <c>Worker</c>.</summary>
    public static IHost BuildHost(string[] args) => BuildHost(args, configure: null);

    /// <summary><see cref="BuildHost(string[])"/>, with <paramref name="configure"/> applied to the builder last.</summary>
    public static IHost BuildHost(string[] args, Action<HostApplicationBuilder>? configure)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddCommandLine(args, WorkerOptions.SwitchMappings());
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // One line per entry: a timeout's warning (14001) keeps its severity, lock, holder and time waited together, where
        // the default layout put the message on a second, indented line.
        builder.Logging.AddSimpleConsole(static console => console.SingleLine = true);
        builder.Services.AddLocksmith(builder.Configuration.GetSection(LocksmithOptions.SectionName))
            .AddSeedWorker(builder.Configuration.GetSection(WorkerOptions.SectionName));
        configure?.Invoke(builder);
        return builder.Build();
    }
}
