using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.ApiServer.MainJob;

namespace Locksmith.ApiServer.Tests.MainJob;

/// <summary>
/// README's first command, run in-process through its entry point (<see cref="MainJobRunner"/>) with redirected output,
/// bounded by a request count: exit code 0 and a printed table whose totals are exact.
/// </summary>
public sealed class MainJobCommandTests
{
    [Fact]
    public async Task The_main_job_drives_two_thousand_requests_and_prints_every_total_exact()
    {
        const int Requests = 2_000;
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await MainJobRunner.RunAsync(["--requests", "2000"], output, interactive: false, TestContext.Current.CancellationToken);

        string text = output.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        var rows = TableRows(text);

        // The rotation is ten requests: three hits, two transfers, two reads, a write, an I/O and a rate-limited call.
        Assert.Equal(0, exit);
        Assert.Contains(MainJobReport.Pass, text, StringComparison.Ordinal);
        Assert.Equal(10, text.Split('\n').Count(static l => l.EndsWith(" / 2,000 requests", StringComparison.Ordinal)));
        Assert.Equal("2,000", rows["requests"][0]);
        Assert.Equal(["0", "0", MainJobReport.Exact], rows["errors (other than 429)"]);
        Assert.Equal(["600", "600", MainJobReport.Exact], rows["guarded counter (/hit)"]);
        Assert.Equal("600", rows["unguarded twin (/hit)"][1]);
        Assert.InRange(Number(rows["unguarded twin (/hit)"][0]), 1, 600);
        Assert.Equal(MainJobReport.Exact, rows["transfers"][2]);
        Assert.Equal(rows["transfers"][0], rows["transfers"][1]);
        Assert.Equal(Requests / 10 * 2, Number(rows["transfers"][0]) + Number(rows["transfers declined (no funds)"][0]));
        foreach (string conserved in (string[])["total balance (conserved)", "pool idle at the end"])
        {
            Assert.Equal(MainJobReport.Exact, rows[conserved][2]);
            Assert.Equal(rows[conserved][1], rows[conserved][0]);
            Assert.True(Number(rows[conserved][0]) > 0, conserved);
        }

        Assert.Equal(["200", "200", MainJobReport.Exact], rows["pool borrows (/io)"]);
        Assert.Equal(["200", "200", MainJobReport.Exact], rows["price writes"]);
        Assert.Equal(MainJobReport.Exact, rows["429s from /limited"][2]);
        Assert.Equal(MainJobReport.Exact, rows["/limited allowed"][2]);
        Assert.Equal(200, Number(rows["429s from /limited"][0]) + Number(rows["/limited allowed"][0]));
        Assert.EndsWith(" ms", rows["p99 latency (client)"][0], StringComparison.Ordinal);

        // The contended-locks table lists the server's locks with their figures.
        Assert.Contains("Top contended locks", text, StringComparison.Ordinal);
        string[] lockRows = rows.Keys.Where(static k => k is ApiServerLocks.Pool or ApiServerLocks.Prices or ApiServerLocks.Hits
            or ApiServerLocks.Journal or ApiServerLocks.PoolConnections or ApiServerLocks.Limiter
            || k.StartsWith(ApiServerLocks.AccountPrefix, StringComparison.Ordinal)).ToArray();
        Assert.Equal(MainJobReport.TopLocks, lockRows.Length);
        Assert.All(lockRows, k => Assert.True(Number(rows[k][1]) > 0, $"{k} has acquisitions"));
    }

    [Fact]
    public async Task Keep_running_leaves_the_server_up_with_its_locks_page_until_the_host_stops()
    {
        var writer = new SignalingWriter("The server keeps running");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = MainJobRunner.RunAsync(["--requests", "200", "--keep-running"], writer, interactive: false, stop.Token);
        var first = await Task.WhenAny(writer.Seen, run).WaitAsync(Guard.HangLimit, TestContext.Current.CancellationToken);
        Assert.True(first == writer.Seen, $"the main job ended without keeping the server running:\n{writer}");
        var address = UrlIn(await writer.Seen);
        using var client = new HttpClient();
        using var page = await client.GetAsync(address, TestContext.Current.CancellationToken);
        string html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        bool stillRunning = !run.IsCompleted;
        await stop.CancelAsync();
        int exit = await run.WaitAsync(Guard.HangLimit, TestContext.Current.CancellationToken);

        Assert.True(stillRunning);
        Assert.Equal("/locks", address.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("lock-node", html, StringComparison.Ordinal);
        Assert.Equal(0, exit);
        Assert.Contains(MainJobReport.Pass, writer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_command_line_exits_2_with_the_usage_and_starts_no_server()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await MainJobRunner.RunAsync(["--requests", "many"], output, interactive: false, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Contains("--requests needs a whole number of at least 1.", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(MainJobOptions.Usage, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelt_switch_exits_2_naming_it_and_starts_no_server()
    {
        // Passed on to the server's configuration it bound to nothing, and the job ran its 10,000 default requests.
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await MainJobRunner.RunAsync(["--reqests", "10"], output, interactive: false, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Contains("Unknown switch '--reqests'.", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(MainJobOptions.Usage, output.ToString(), StringComparison.Ordinal);
        var passed = MainJobOptions.Parse(["--ApiServer:Seed", "-1", "--environment", "Production", "--urls", "http://127.0.0.1:0", "--keep-running"], out string? error);
        Assert.Null(error);
        Assert.Equal(["--ApiServer:Seed", "-1", "--environment", "Production", "--urls", "http://127.0.0.1:0"], passed!.ServerArgs);
        Assert.Null(MainJobOptions.Parse(["--keep-running", "-x"], out error));
        Assert.Equal("Unknown switch '-x'.", error);
    }

    [Fact]
    public async Task A_taken_port_exits_2_saying_the_server_could_not_start()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        string port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await MainJobRunner.RunAsync(["--port", port], output, interactive: false, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Contains("The server could not start", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_command_line_reads_counts_and_flags_and_passes_the_rest_to_the_server()
    {
        var options = MainJobOptions.Parse(["--keep-running", "--requests", "100", "--ApiServer:Accounts=4", "--port", "5081"], out string? error);
        var small = MainJobOptions.Parse(["--requests", "50", "--concurrency", "8", "--connections", "64"], out _);
        var defaults = MainJobOptions.Parse([], out _);

        Assert.Null(error);
        Assert.Equal(new MainJobOptions(100, 100, 100, 5081, true, options!.ServerArgs) { PortGiven = true }, options);
        Assert.Equal(["--ApiServer:Accounts=4"], options.ServerArgs);
        Assert.Equal((50, 8, 8, false), (small!.Requests, small.Concurrency, small.Connections, small.KeepRunning));
        Assert.Equal((10_000, 10_000, MainJobOptions.DefaultConnections, 0), (defaults!.Requests, defaults.Concurrency, defaults.Connections, defaults.Port));
        Assert.Null(MainJobOptions.Parse(["--port", "70000"], out error));
        Assert.Contains("--port", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_server_settings_exit_2_naming_each_key_before_a_server_starts()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await MainJobRunner.RunAsync(["--requests", "10", "--ApiServer:PoolSize=0", "--ApiServer:Accounts=1"], output, interactive: false, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Contains("ApiServer:PoolSize = '0' is invalid: the pool needs at least 1 connection.", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("ApiServer:Accounts = '1' is invalid: transfers need at least 2 accounts.", output.ToString(), StringComparison.Ordinal);
        var thrown = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => ApiServerApp.CreateBuilder(["--ApiServer:RateLimitPerSecond=0"]));
        Assert.Equal(["ApiServer:RateLimitPerSecond = '0' is invalid: it must be a positive number."], thrown.Failures);
        var notANumber = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => ApiServerApp.CreateBuilder(["--ApiServer:PoolSize=abc"]));
        Assert.Contains("'abc' at 'ApiServer:PoolSize'", Assert.Single(notANumber.Failures), StringComparison.Ordinal);

        // A misspelt key bound to nothing, and the default ran unseen (a trial: --ApiServer:Acounts=16 ran 8 accounts).
        var misspelt = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => ApiServerApp.CreateBuilder(["--ApiServer:Acounts=16", "--ApiServer:poolsize=4"]));
        Assert.StartsWith("'ApiServer:Acounts' is not an ApiServer setting; they are Accounts, ", Assert.Single(misspelt.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_locksmith_settings_exit_2_naming_the_key_before_a_server_starts()
    {
        // The Locksmith section is the sample's too (appsettings.json): a bad value there escaped from the host's start as
        // an unhandled exception with its stack trace, and the process aborted (exit 134) instead of exiting 2.
        string[][] commands =
        [
            ["--requests", "10", "--Locksmith:WatchdogInterval=0"],
            ["--requests", "10", "--Locksmith:DefaultTimeout=abc"],
            ["--requests", "10", "--Locksmith:DefaultTimeOutt=00:00:01"],
        ];
        string[] named =
        [
            "Locksmith:WatchdogInterval = '00:00:00' is invalid: it must be at least 00:00:00.001",
            "Locksmith:DefaultTimeout = 'abc' is invalid: it must be a time span",
            "'DefaultTimeOutt'",
        ];

        for (int i = 0; i < commands.Length; i++)
        {
            using var output = new StringWriter(CultureInfo.InvariantCulture);

            int exit = await MainJobRunner.RunAsync(commands[i], output, interactive: false, TestContext.Current.CancellationToken);

            string text = output.ToString();
            Assert.True(exit == 2, $"exit code {exit} for {string.Join(' ', commands[i])}:\n{text}");
            Assert.StartsWith("The server's settings are invalid: ", text, StringComparison.Ordinal);
            Assert.Contains(named[i], text, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Serve_mode_reads_the_same_command_line_so_port_binds_the_server_and_serve_is_no_configuration_key()
    {
        var serve = MainJobOptions.Parse(["--serve", "--port", "5090", "--ApiServer:Accounts=16"], out string? error);
        var configured = MainJobOptions.Parse(["--serve"], out _);

        Assert.Null(error);
        Assert.True(serve!.PortGiven);
        Assert.Equal(5090, serve.Port);
        Assert.Equal(["--ApiServer:Accounts=16"], serve.ServerArgs);
        Assert.False(configured!.PortGiven);
        Assert.Empty(configured.ServerArgs);
    }

    private static Uri UrlIn(string line)
    {
        string url = line.Split(' ').Single(static w => w.StartsWith("http://", StringComparison.Ordinal));
        return new Uri(url);
    }

    private static long Number(string cell) => long.Parse(cell, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    // The ASCII tables' rows: "| figure | value | expected | result |" keyed by the first cell (first one wins).
    private static Dictionary<string, string[]> TableRows(string text)
    {
        var rows = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            string trimmed = line.TrimEnd('\r', ' ');
            if (!trimmed.StartsWith("| ", StringComparison.Ordinal) || !trimmed.EndsWith('|'))
            {
                continue;
            }

            string[] cells = trimmed[1..^1].Split('|').Select(static c => c.Trim()).ToArray();
            rows.TryAdd(cells[0], cells[1..]);
        }

        return rows;
    }
}
