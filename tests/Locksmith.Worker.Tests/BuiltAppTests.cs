using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Worker.Tests;

/// <summary>The built sample as a user starts it: its own process, small counts, the exit code and the printed totals.</summary>
public sealed class BuiltAppTests
{
    [Fact]
    public async Task The_built_app_prints_exact_totals_and_exits_0()
    {
        var (exitCode, output) = await RunAppAsync("--items", "1000", "--rounds", "30", "--participants", "3");

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Contains("items consumed           2000", output, StringComparison.Ordinal);
        Assert.Contains("phases completed         60", output, StringComparison.Ordinal);
        Assert.Contains("every total is exact", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_says_which_round_it_is_on_as_it_goes()
    {
        // Before, a long run (--rows 4096 --columns 4096 --rounds 1000, about 20 minutes) printed nothing until its
        // totals. --progress 0 logs every round, so the lines are counted, not timed.
        var (exitCode, output) = await RunAppAsync("--items", "100", "--rounds", "7", "--participants", "3", "--progress", "0");
        string[] lines = output.Split('\n');

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Single(lines, static l => l.Contains("items: 200 of 200 through the queue", StringComparison.Ordinal));
        for (int round = 1; round <= 7; round++)
        {
            Assert.Single(lines, l => l.Contains($"matrix: round {round} of 7, ", StringComparison.Ordinal));
            Assert.Single(lines, l => l.Contains($"check on one thread: round {round} of 7, ", StringComparison.Ordinal));
        }

        Assert.Equal(14, lines.Count(static l => l.Contains(" s elapsed", StringComparison.Ordinal) && l.Contains(": round ", StringComparison.Ordinal)));
        Assert.Contains("phases completed         14", output, StringComparison.Ordinal);
        Assert.Contains("every total is exact", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_default_progress_interval_logs_the_last_round_of_each_stage_only_for_a_short_run()
    {
        // The default (--progress 5) logs a round once 5 s passed since the last line, and always the last one: a run of
        // a few milliseconds writes one line per stage, not one per round.
        var (exitCode, output) = await RunAppAsync("--items", "100", "--rounds", "3", "--participants", "2", "--rows", "4", "--columns", "4");
        string[] lines = output.Split('\n');

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Single(lines, static l => l.Contains("matrix: round 3 of 3, ", StringComparison.Ordinal));
        Assert.Single(lines, static l => l.Contains("check on one thread: round 3 of 3, ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_built_app_exits_1_when_the_work_cannot_run()
    {
        var (exitCode, output) = await RunAppAsync("--capacity", "0", "--rounds", "-3");
        var (badNumber, badNumberOutput) = await RunAppAsync("--producers", "abc");

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{output}");
        Assert.Contains("--capacity must be at least 1, not 0. --rounds must be at least 0, not -3.", output, StringComparison.Ordinal);
        Assert.Contains(WorkerOptions.Usage(), output, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Locksmith", output, StringComparison.Ordinal);   // a message, not a stack trace
        Assert.True(badNumber == 1, $"exit code {badNumber}:\n{badNumberOutput}");
        Assert.Contains("'abc' at 'Worker:Producers'", badNumberOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Microsoft", badNumberOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_locksmith_setting_exits_1_with_one_line_naming_the_key_and_runs_nothing()
    {
        // Checked only as the host started: the failed start's stack trace, and the process aborted (exit code 134).
        var (rangeExit, rangeOutput) = await RunAppAsync("--items", "100", "--Locksmith:WatchdogInterval=0");
        var (parseExit, parseOutput) = await RunAppAsync("--items", "100", "--Locksmith:DefaultTimeout=abc");

        Assert.True(rangeExit == 1, $"exit code {rangeExit}:\n{rangeOutput}");
        Assert.Contains("Locksmith:WatchdogInterval = '00:00:00' is invalid", rangeOutput, StringComparison.Ordinal);
        Assert.Contains(WorkerOptions.Usage(), rangeOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Microsoft", rangeOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("items consumed", rangeOutput, StringComparison.Ordinal);
        Assert.True(parseExit == 1, $"exit code {parseExit}:\n{parseOutput}");
        Assert.Contains("Locksmith:DefaultTimeout = 'abc' is invalid: it must be a time span", parseOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Microsoft", parseOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_switch_without_a_value_or_a_misspelt_switch_exits_1_and_runs_nothing()
    {
        // Left to the configuration binder, the last would be ignored and the typo bound to nothing: both ran the defaults.
        var (lastExit, lastOutput) = await RunAppAsync("--rounds", "5", "--items");
        var (typoExit, typoOutput) = await RunAppAsync("--itmes", "10", "--rounds", "5");
        var (nextExit, nextOutput) = await RunAppAsync("--items", "--rounds", "5");

        Assert.True(lastExit == 1, $"exit code {lastExit}:\n{lastOutput}");
        Assert.Contains("--items needs a value.", lastOutput, StringComparison.Ordinal);
        Assert.Contains(WorkerOptions.Usage(), lastOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("items consumed", lastOutput, StringComparison.Ordinal);
        Assert.True(typoExit == 1, $"exit code {typoExit}:\n{typoOutput}");
        Assert.Contains("Unknown switch '--itmes'.", typoOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("items consumed", typoOutput, StringComparison.Ordinal);
        Assert.True(nextExit == 1, $"exit code {nextExit}:\n{nextOutput}");
        Assert.Contains("--items needs a value.", nextOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelt_key_of_the_Worker_section_exits_1_and_runs_nothing()
    {
        // Before, --Worker:Roundz 10 bound to nothing and the default 2,000 rounds ran (a trial); then it was refused in
        // the binder's words ("'ErrorOnUnknownConfiguration' was set on the provided BinderOptions, but ..."), where the
        // API server says which key is wrong and which there are.
        var (exit, output) = await RunAppAsync("--Worker:Roundz", "10");
        var (inFile, inFileOutput) = await RunAppAsync("--worker:Rounds", "2", "--Worker:Items", "5");

        Assert.True(exit == 1, $"exit code {exit}:\n{output}");
        Assert.Contains(
            "'Worker:Roundz' is not a Worker setting; they are Producers, Consumers, ItemsPerProducer, Capacity, Participants, Rows, Columns, Rounds, ProgressSeconds.",
            output, StringComparison.Ordinal);
        Assert.DoesNotContain("ErrorOnUnknownConfiguration", output, StringComparison.Ordinal);
        Assert.True(inFile == 1, $"exit code {inFile}:\n{inFileOutput}");
        Assert.Contains("'Worker:Items' is not a Worker setting; they are", inFileOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Rounds' is not", inFileOutput, StringComparison.Ordinal);   // keys match as the binder does, ignoring case
        Assert.Contains(WorkerOptions.Usage(), output, StringComparison.Ordinal);
        Assert.DoesNotContain("items consumed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_matrix_too_large_to_build_is_refused_up_front_naming_the_limit_and_the_switches()
    {
        // Before, --rows 100000 --columns 100000 set about building 10^10 cells (80 GB, twice) and said nothing for over a
        // minute (a trial). Checked as options first, so that this test, watched failing, never starts that run.
        const string Refusal = "The matrix, --rows by --columns, must have at most 16777216 cells (8 bytes each, and the run builds it twice), not 10000000000 (100000 by 100000).";
        Assert.Equal([Refusal], new WorkerOptions { Rows = 100_000, Columns = 100_000, Rounds = 1 }.Problems());
        Assert.Empty(new WorkerOptions { Rows = 4_096, Columns = 4_096 }.Problems());   // the limit itself runs
        Assert.Single(new WorkerOptions { Rows = 4_097, Columns = 4_096 }.Problems());
        Assert.Single(new WorkerOptions { Rows = int.MaxValue, Columns = int.MaxValue }.Problems());   // no overflow into a small product

        var (exit, output) = await RunAppAsync("--rows", "100000", "--columns", "100000", "--rounds", "1");

        Assert.True(exit == 1, $"exit code {exit}:\n{output}");
        Assert.Contains(Refusal, output, StringComparison.Ordinal);
        Assert.Contains(WorkerOptions.Usage(), output, StringComparison.Ordinal);
        Assert.DoesNotContain("items consumed", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Section_keys_host_switches_and_negative_values_are_not_command_line_problems()
    {
        Assert.Empty(WorkerOptions.CommandLineProblems(["--Worker:Rounds", "3", "--environment", "Production", "--rounds", "-3", "--Items=4", "--ITEMS", "5"]));
        Assert.Equal(["Unknown switch '-x'.", "--rounds needs a value."], WorkerOptions.CommandLineProblems(["-x", "--rounds"]));
        Assert.Equal(["Unknown switch '--itmes'.", "Unknown switch '/rouns'."], WorkerOptions.CommandLineProblems(["--itmes=10", "/rouns", "3", "/rounds", "4"]));
    }

    [Fact]
    public async Task Help_prints_every_switch_with_its_default_and_runs_nothing()
    {
        var (exitCode, output) = await RunAppAsync("--help");

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Equal(WorkerOptions.Usage(), output.Trim());
        Assert.Contains("--items N per producer (100000)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SIGTERM_during_the_work_prints_that_it_stopped_before_the_work_finished_and_exits_1()
    {
        // README: "Ctrl+C or SIGTERM before the work is done prints `stopped before the work finished` and exits 1". A run
        // of 100,000 rounds of a 1024 x 1024 matrix takes minutes; the signal goes once the first round is logged, so the
        // host is up and the work under way (counted by lines, not timed).
        using var process = StartApp("--items", "10", "--rows", "1024", "--columns", "1024", "--rounds", "100000", "--progress", "0");
        var stderr = process.StandardError.ReadToEndAsync();
        using var hang = new CancellationTokenSource(Guard.HangLimit);
        var seen = new System.Text.StringBuilder();
        try
        {
            while (await process.StandardOutput.ReadLineAsync(hang.Token) is { } line)
            {
                seen.AppendLine(line);
                if (line.Contains("matrix: round 1 of 100000", StringComparison.Ordinal))
                {
                    using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    await kill.WaitForExitAsync(hang.Token);
                    Assert.Equal(0, kill.ExitCode);
                    break;
                }
            }

            string rest = await process.StandardOutput.ReadToEndAsync(hang.Token);
            seen.Append(rest);
            await process.WaitForExitAsync(hang.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Hang guard: the worker app did not stop within {Guard.HangLimit} of SIGTERM.\n{seen}");
        }

        string output = seen + await stderr;
        Assert.True(process.ExitCode == 1, $"exit code {process.ExitCode}:\n{output}");
        Assert.Contains("stopped before the work finished", await stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("every total is exact", output, StringComparison.Ordinal);
        Assert.DoesNotContain("matrix: round 100000 of 100000", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAppAsync(params string[] args)
    {
        using var process = StartApp(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var hang = new CancellationTokenSource(Guard.HangLimit);
        try
        {
            await process.WaitForExitAsync(hang.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Hang guard: the worker app did not exit within {Guard.HangLimit}.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static Process StartApp(params string[] args)
    {
        // The referenced sample is copied beside the tests; run it with the same dotnet host as this test process.
        string app = typeof(Program).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(app)!,
        };
        start.ArgumentList.Add(app);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"Could not start {dotnet} {app}.");
    }
}
