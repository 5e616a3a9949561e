using System;
using System.IO;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Locksmith.ApiServer.MainJob;

/// <summary>
/// The main job, README's first command: starts the API server in-process on loopback, drives the seed's load against
/// it over real HTTP (10,000 requests by default, all in flight at once), shows a progress bar while it runs, then
/// prints the totals against what they must be and the most contended locks. Exit code 0 only if every total is exact;
/// 1 otherwise; 2 for a bad command line or a server that could not start.
/// </summary>
public static class MainJobRunner
{
    /// <summary>Runs the main job on the process's console; returns the process exit code.</summary>
    /// <param name="args">
    /// <c>--requests N</c>, <c>--concurrency C</c>, <c>--connections K</c>, <c>--port P</c>, <c>--keep-running</c>; any
    /// other argument is server configuration.
    /// </param>
    public static Task<int> RunAsync(string[] args) =>
        RunAsync(args, Console.Out, interactive: !Console.IsOutputRedirected, CancellationToken.None);

    /// <summary>
    /// Runs the main job writing to <paramref name="output"/>. Not <paramref name="interactive"/> (redirected output,
    /// CI, tests): plain text, ASCII tables and a line per tenth of the requests instead of the progress bar.
    /// </summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter output, bool interactive, CancellationToken ct)
    {
        var writer = TextWriter.Synchronized(output);
        var console = CreateConsole(writer, interactive);
        var options = MainJobOptions.Parse(args, out string? error);
        if (options is null)
        {
            writer.WriteLine(error);
            writer.WriteLine(MainJobOptions.Usage);
            return 2;
        }

        // Only warnings from the server: the table is the output. (Added last, so it wins over appsettings' Default.)
        var (started, failure) = await ApiServerApp.StartAsync(
            options.ServerArgs, options.Port, static builder => builder.Logging.AddFilter(static (_, level) => level >= LogLevel.Warning), ct)
            .ConfigureAwait(false);
        if (started is null)
        {
            writer.WriteLine(failure);
            return 2;
        }

        await using var app = started;
        if (ApiServerApp.BaseAddress(app).Port == 0)
        {
            // Kestrel replaces port 0 with the one it bound. Still 0: a test host runs this entry point and swapped Kestrel
            // for its in-memory server (WebApplicationFactory<Program>), so there is no socket to drive the load through;
            // serve the test's requests until it stops the host, as --serve does, instead of failing the load and
            // disposing the app under the test's client.
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            return 0;
        }

        // Ctrl+C or SIGTERM: the host's console lifetime takes the signal and stops the app, and the load stops with it.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, app.Lifetime.ApplicationStopping);
        try
        {
            return await RunLoadAsync(app, console, writer, interactive, options, stopping.Token, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            writer.WriteLine("Stopped (Ctrl+C or SIGTERM) before the load finished: no totals were checked.");
            return 1;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The load and its report; <paramref name="ct"/> ends the load, <paramref name="keepRunning"/> the server kept running after it.</summary>
    private static async Task<int> RunLoadAsync(
        WebApplication app, IAnsiConsole console, TextWriter writer, bool interactive, MainJobOptions options, CancellationToken ct, CancellationToken keepRunning)
    {
        Uri address = ApiServerApp.BaseAddress(app);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections };
        using var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
        console.MarkupLine(Markup.Escape(
            $"Locksmith API server on {address}: {MainJobReport.N(options.Requests)} requests, {MainJobReport.N(options.Concurrency)} in flight"));

        (await client.PostAsync("reset", null, ct).ConfigureAwait(false)).EnsureSuccessStatusCode();
        var before = ServerReadings.ReadTotals(await client.GetFromJsonAsync<JsonElement>("totals", ct).ConfigureAwait(false));
        int accounts = before.Accounts ?? 0;
        if (accounts < 2)
        {
            writer.WriteLine($"The server reports {accounts} accounts; transfers need at least 2.");
            return 2;
        }

        var load = await DriveAsync(console, writer, interactive, client, options, accounts, ct).ConfigureAwait(false);
        var totals = ServerReadings.ReadTotals(await client.GetFromJsonAsync<JsonElement>("totals", ct).ConfigureAwait(false));
        var locks = ServerReadings.ReadLocks(await client.GetFromJsonAsync<JsonElement>("locks.json", ct).ConfigureAwait(false));
        var report = MainJobReport.Create(options, load, totals, locks);
        report.Write(console, plain: !interactive);

        if (options.KeepRunning)
        {
            console.MarkupLine(Markup.Escape($"The server keeps running: open {new Uri(address, "locks")} (Ctrl+C stops it)."));
            await app.WaitForShutdownAsync(keepRunning).ConfigureAwait(false);
        }

        return report.Passed ? 0 : 1;
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!interactive)
        {
            // Redirected output has no width of its own; wide enough that no row wraps.
            console.Profile.Width = 120;
        }

        return console;
    }

    private static async Task<LoadResult> DriveAsync(
        IAnsiConsole console, TextWriter writer, bool interactive, HttpClient client, MainJobOptions options, int accounts, CancellationToken ct)
    {
        if (interactive)
        {
            return await console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"{MainJobReport.N(options.Requests)} requests", maxValue: options.Requests);
                    return await LoadDriver.RunAsync(client, options.Requests, options.Concurrency, accounts, () => task.Increment(1), ct)
                        .ConfigureAwait(false);
                }).ConfigureAwait(false);
        }

        // No terminal to redraw: a line at each tenth.
        int done = 0;
        int step = Math.Max(1, options.Requests / 10);
        return await LoadDriver.RunAsync(client, options.Requests, options.Concurrency, accounts, () =>
        {
            int n = Interlocked.Increment(ref done);
            if (n % step == 0 || n == options.Requests)
            {
                writer.WriteLine($"  {MainJobReport.N(n)} / {MainJobReport.N(options.Requests)} requests");
            }
        }, ct).ConfigureAwait(false);
    }
}
