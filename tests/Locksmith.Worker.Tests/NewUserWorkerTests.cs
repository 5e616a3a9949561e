using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Worker.Tests;

/// <summary>
/// A new user's trial of README "The worker sample": each switch and its <c>Worker</c> key, each refusal's exact line,
/// <c>--help</c>, the progress lines, the table, and the queue and barrier the work runs on. In process, small counts.
/// </summary>
public sealed class NewUserWorkerTests
{
    // The README's table header: its columns say where each row's got, expected and ok start.
    private const string Header = "total                    got                   expected              ok";

    // A run of a few milliseconds: 3 producers move 150 items, 3 rounds of a 4 x 4 matrix on 2 participants.
    private static readonly string[] s_small =
        ["--producers", "3", "--consumers", "2", "--items", "50", "--capacity", "4", "--participants", "2", "--rows", "4", "--columns", "4", "--rounds", "3"];

    [Theory]
    [InlineData("--producers", "Producers")]
    [InlineData("--consumers", "Consumers")]
    [InlineData("--items", "ItemsPerProducer")]
    [InlineData("--capacity", "Capacity")]
    [InlineData("--participants", "Participants")]
    [InlineData("--rows", "Rows")]
    [InlineData("--columns", "Columns")]
    [InlineData("--rounds", "Rounds")]
    [InlineData("--progress", "ProgressSeconds")]
    public void Each_switch_and_its_Worker_key_set_the_same_setting(string flag, string key)
    {
        Assert.NotEqual(7, Bound([], key));   // so 7 below is the switch's doing, not the default
        Assert.Equal(7, Bound([flag, "7"], key));
        Assert.Equal(7, Bound([$"--Worker:{key}", "7"], key));
    }

    [Fact]
    public void Without_switches_the_settings_are_the_defaults_of_the_READMEs_command_line()
    {
        using var host = Program.BuildHost([]);
        var o = host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;

        Assert.Equal((2, 2, 100_000, 64, 4, 64, 256, 1_000, 5),
            (o.Producers, o.Consumers, o.ItemsPerProducer, o.Capacity, o.Participants, o.Rows, o.Columns, o.Rounds, o.ProgressSeconds));
    }

    [Fact]
    public async Task Help_lists_every_switch_with_its_default_on_one_line_and_exits_0()
    {
        var run = await RunMainAsync("--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
        string usage = Assert.Single(Lines(run.Output));
        foreach (var (flag, value) in new[]
        {
            ("--producers", 2), ("--consumers", 2), ("--items", 100_000), ("--capacity", 64), ("--participants", 4),
            ("--rows", 64), ("--columns", 256), ("--rounds", 1_000), ("--progress", 5),
        })
        {
            Assert.Matches($@"\[{flag} [^\]]*\({value}\)\]", usage);
        }
    }

    public static TheoryData<string[], string> Refusals => new()
    {
        // A count out of range, each named by its switch with its minimum.
        { ["--producers", "0"], "--producers must be at least 1, not 0." },
        { ["--consumers", "0"], "--consumers must be at least 1, not 0." },
        { ["--items", "-1"], "--items must be at least 0, not -1." },
        { ["--capacity", "0"], "--capacity must be at least 1, not 0." },
        { ["--participants", "0"], "--participants must be at least 1, not 0." },
        { ["--rows", "0"], "--rows must be at least 1, not 0." },
        { ["--columns", "0"], "--columns must be at least 1, not 0." },
        { ["--rounds", "-1"], "--rounds must be at least 0, not -1." },
        { ["--progress", "-1"], "--progress must be at least 0, not -1." },
        { ["--rows", "100000", "--columns", "100000"],
            "The matrix, --rows by --columns, must have at most 16777216 cells (8 bytes each, and the run builds it twice), not 10000000000 (100000 by 100000)." },
        { ["--rounds", "5", "--items"], "--items needs a value." },
        { ["--items=", "--rounds", "1"], "--items needs a value." },
        { ["--itmes", "10"], "Unknown switch '--itmes'." },
        { ["--producers", "abc"], "Failed to convert configuration value 'abc' at 'Worker:Producers' to type 'System.Int32'." },
        { ["--Worker:Rounds", "x"], "Failed to convert configuration value 'x' at 'Worker:Rounds' to type 'System.Int32'." },
        { ["--Worker:Roundz", "10"],
            "'Worker:Roundz' is not a Worker setting; they are Producers, Consumers, ItemsPerProducer, Capacity, Participants, Rows, Columns, Rounds, ProgressSeconds." },
        // The README quotes only its start ("…").
        { ["--Locksmith:WatchdogInterval=0"], "Locksmith:WatchdogInterval = '00:00:00' is invalid: …" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Each_refusal_is_one_line_then_the_usage_with_exit_code_1_and_nothing_runs(string[] args, string line)
    {
        var run = await RunMainAsync(args);

        Assert.Equal(1, run.ExitCode);
        string[] error = Lines(run.Error);
        Assert.Equal(2, error.Length);
        if (line.EndsWith('…'))
        {
            Assert.StartsWith(line[..^1], error[0], StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(line, error[0]);
        }

        Assert.Equal(WorkerOptions.Usage(), error[1]);
        Assert.Equal("", run.Output);   // no progress line, no table: nothing ran
    }

    [Fact]
    public async Task The_lowest_counts_are_accepted_no_items_and_no_rounds_run_and_are_exact()
    {
        var run = await RunMainAsync("--items", "0", "--rounds", "0", "--progress", "0", "--rows", "1", "--columns", "1", "--participants", "1");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var table = Table(run.Output);
        Assert.Equal(("0", "0", "yes"), table["items consumed"]);
        Assert.Equal(("0", "0", "yes"), table["phases completed"]);
        Assert.Equal("every total is exact", Lines(run.Output)[^1]);
    }

    [Fact]
    public async Task Items_count_per_producer_and_every_row_of_the_table_is_exact_for_small_counts()
    {
        var run = await RunMainAsync(s_small);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Equal("", run.Error);
        string[] lines = Lines(run.Output);
        var table = Table(run.Output);
        string items = (3 * 50).ToString(CultureInfo.InvariantCulture);
        string checksum = SeedWork.ExpectedItemChecksum(3, 50).ToString(CultureInfo.InvariantCulture);
        string matrix = MatrixPhases.ExpectedChecksum(4, 4, 3).ToString(CultureInfo.InvariantCulture);

        Assert.Equal(
            ["items produced", "items consumed", "checksum produced", "checksum consumed", "max queue depth", "phases completed", "matrix checksum"],
            table.Keys);
        Assert.Equal((items, items, "yes"), table["items produced"]);
        Assert.Equal((items, items, "yes"), table["items consumed"]);
        Assert.Equal((checksum, checksum, "yes"), table["checksum produced"]);
        Assert.Equal((checksum, checksum, "yes"), table["checksum consumed"]);
        Assert.InRange(int.Parse(table["max queue depth"].Got, CultureInfo.InvariantCulture), 1, 4);
        Assert.Equal(("<= 4", "yes"), (table["max queue depth"].Expected, table["max queue depth"].Ok));
        Assert.Equal(("6", "6", "yes"), table["phases completed"]);
        Assert.Equal((matrix, matrix, "yes"), table["matrix checksum"]);
        Assert.Matches(@"^waits: producers [0-9,]+ \(queue full\), consumers [0-9,]+ \(queue empty\)$", lines[^2]);
        Assert.Equal("every total is exact", lines[^1]);

        // The expected column is the sample's own one-thread sum, computed as above: pin it to README's table for the
        // defaults, so a hash or matrix step that went wrong in both columns alike cannot pass as exact.
        Assert.Equal(-6711081553332823140, SeedWork.ExpectedItemChecksum(2, 100_000));
        Assert.Equal(7534159726234428530, MatrixPhases.ExpectedChecksum(64, 256, 1_000));
    }

    [Fact]
    public void The_table_prints_as_the_README_shows_it_in_any_culture()
    {
        var report = new WorkReport
        {
            ItemsExpected = 200_000, ItemsProduced = 200_000, ItemsConsumed = 200_000,
            ChecksumExpected = -6711081553332823140, ProducedChecksum = -6711081553332823140, ConsumedChecksum = -6711081553332823140,
            Capacity = 64, MaxDepth = 64, ProducerWaits = 3_634, ConsumerWaits = 3_124,
            PhasesExpected = 2_000, PhasesCompleted = 2_000,
            MatrixChecksumExpected = 7534159726234428530, MatrixChecksum = 7534159726234428530,
        };

        // German groups thousands with '.': the table must not change with the user's culture.
        string printed = InCulture("de-DE", () => Write(report));

        Assert.Equal(
            [
                Header,
                "items produced           200000                200000                yes",
                "items consumed           200000                200000                yes",
                "checksum produced        -6711081553332823140  -6711081553332823140  yes",
                "checksum consumed        -6711081553332823140  -6711081553332823140  yes",
                "max queue depth          64                    <= 64                 yes",
                "phases completed         2000                  2000                  yes",
                "matrix checksum          7534159726234428530   7534159726234428530   yes",
                "waits: producers 3,634 (queue full), consumers 3,124 (queue empty)",
                "every total is exact",
            ],
            Lines(printed));
        Assert.True(report.IsExact);
    }

    [Fact]
    public async Task A_total_off_is_not_marked_ok_and_the_table_does_not_say_every_total_is_exact()
    {
        var options = new WorkerOptions { ItemsPerProducer = 20, Capacity = 2, Participants = 2, Rows = 3, Columns = 3, Rounds = 2 };
        var report = await Task.Run(() => NewWork().Run(options)).WaitAsync(Guard.HangLimit);
        Assert.True(report.IsExact);

        string offByOne = Write(report with { ItemsConsumed = report.ItemsConsumed - 1 });
        string overfull = Write(report with { MaxDepth = report.Capacity + 1 });

        Assert.NotEqual("yes", Table(offByOne)["items consumed"].Ok);
        Assert.Equal("yes", Table(offByOne)["items produced"].Ok);
        Assert.NotEqual("yes", Table(overfull)["max queue depth"].Ok);
        Assert.DoesNotContain("every total is exact", offByOne, StringComparison.Ordinal);
        Assert.DoesNotContain("every total is exact", overfull, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_progress_0_every_round_is_logged_on_one_line_in_order_with_the_time_since_the_work_started()
    {
        var run = await RunMainAsync([.. s_small, "--progress", "0"]);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var progress = Lines(run.Output)
            .Where(static l => l.Contains(" s elapsed", StringComparison.Ordinal))
            .Select(static l => Regex.Match(l, @"^info: Locksmith\.Worker\.SeedWorkerService\[1\] (.+), ([0-9]+\.[0-9]) s elapsed$"))
            .ToArray();
        Assert.All(progress, static m => Assert.True(m.Success, m.Value));
        Assert.Equal(
            [
                "items: 150 of 150 through the queue",
                "matrix: round 1 of 3", "matrix: round 2 of 3", "matrix: round 3 of 3",
                "check on one thread: round 1 of 3", "check on one thread: round 2 of 3", "check on one thread: round 3 of 3",
            ],
            progress.Select(static m => m.Groups[1].Value));
        // The time since the work started: it never goes back from one line to the next.
        double[] elapsed = [.. progress.Select(static m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))];
        Assert.Equal(elapsed.Order(), elapsed);
    }

    [Fact]
    public async Task A_long_progress_interval_still_logs_the_items_and_the_last_round_of_each_stage()
    {
        // An interval no run reaches: the lines left are the ones the README says are always written.
        var lines = new List<string>();
        var options = new WorkerOptions { ItemsPerProducer = 10, Participants = 2, Rows = 3, Columns = 3, Rounds = 5, ProgressSeconds = int.MaxValue };

        await Task.Run(() => NewWork().Run(options, lines.Add)).WaitAsync(Guard.HangLimit);

        Assert.Equal(
            ["items: 20 of 20 through the queue", "matrix: round 5 of 5", "check on one thread: round 5 of 5"],
            lines.Select(static l => Regex.Replace(l, @", [0-9]+\.[0-9] s elapsed$", "")));
    }

    [Fact]
    public void The_queue_and_the_totals_have_their_own_locks_work_queue_at_level_10_and_work_totals_at_level_20()
    {
        using var host = Program.BuildHost([]);
        var queueLock = host.Services.GetRequiredKeyedService<ExclusiveLock>("work-queue");
        var totalsLock = host.Services.GetRequiredKeyedService<ExclusiveLock>("work-totals");

        Assert.Equal(("work-queue", (int?)10), (queueLock.Name, queueLock.Level));
        Assert.Equal(("work-totals", (int?)20), (totalsLock.Name, totalsLock.Level));
    }

    [Fact]
    public void A_producer_waits_while_the_queue_is_full_and_goes_on_once_a_consumer_takes()
    {
        var queueLock = new ExclusiveLock("work-queue", 10);
        var queue = new BoundedQueue(queueLock, capacity: 1);
        queue.Put(1, CancellationToken.None);

        var producer = Locksmith.Testing.Support.Worker.Start("producer", () => queue.Put(2, CancellationToken.None));
        // Counted holding the lock, just before the wait releases it: seen here, the producer is waiting.
        Guard.SpinUntil(() => queue.Statistics().ProducerWaits == 1);
        Assert.False(producer.HasEnded);

        Assert.True(queue.Take(out long first, CancellationToken.None));
        producer.JoinGuarded();
        Assert.True(queue.Take(out long second, CancellationToken.None));

        Assert.Equal((1L, 2L), (first, second));
        Assert.Equal((1, 1L, 0L), queue.Statistics());   // never above its one slot; one wait, by the producer
        Assert.False(queueLock.IsHeld);
    }

    [Fact]
    public void A_consumer_waits_while_the_queue_is_empty_and_completing_it_ends_the_wait()
    {
        var queue = new BoundedQueue(new ExclusiveLock("work-queue", 10), capacity: 2);
        var taken = new List<long>();
        var consumer = Locksmith.Testing.Support.Worker.Start("consumer", () =>
        {
            while (queue.Take(out long item, CancellationToken.None))
            {
                taken.Add(item);
            }
        });

        Guard.SpinUntil(() => queue.Statistics().ConsumerWaits == 1);
        queue.Put(5, CancellationToken.None);
        // It took the item and waits again on the empty queue, not completed yet.
        Guard.SpinUntil(() => queue.Statistics().ConsumerWaits == 2);
        Assert.False(consumer.HasEnded);
        queue.Complete();
        consumer.JoinGuarded();

        Assert.Equal([5L], taken);
        Assert.Equal(0L, queue.Statistics().ProducerWaits);
    }

    [Fact]
    public void A_completed_queue_is_drained_in_order_before_Take_says_there_is_no_more()
    {
        var queue = new BoundedQueue(new ExclusiveLock("work-queue", 10), capacity: 3);
        foreach (long item in new long[] { 7, 8, 9 })
        {
            queue.Put(item, CancellationToken.None);
        }

        queue.Complete();
        var drained = new List<long>();
        while (queue.Take(out long item, CancellationToken.None))
        {
            drained.Add(item);
        }

        Assert.Equal([7L, 8L, 9L], drained);
        Assert.False(queue.Take(out _, CancellationToken.None));
        Assert.Equal((3, 0L, 0L), queue.Statistics());
    }

    [Fact]
    public async Task The_barrier_ends_every_phase_and_each_round_is_reported_once_in_order_by_both_runs()
    {
        var parallelRounds = new List<int>();
        var sequentialRounds = new List<int>();

        var (checksum, phases) = await Task.Run(() => MatrixPhases.RunParallel(3, 5, 4, 6, CancellationToken.None, parallelRounds.Add))
            .WaitAsync(Guard.HangLimit);
        long expected = MatrixPhases.ExpectedChecksum(5, 4, 6, sequentialRounds.Add);

        Assert.Equal(12, phases);
        Assert.Equal(expected, checksum);
        Assert.Equal([1, 2, 3, 4, 5, 6], parallelRounds);
        Assert.Equal([1, 2, 3, 4, 5, 6], sequentialRounds);
    }

    private static SeedWork NewWork() => new(new ExclusiveLock("work-queue", 10), new ExclusiveLock("work-totals", 20));

    private static int Bound(string[] args, string setting)
    {
        using var host = Program.BuildHost(args);
        var options = host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;
        return (int)typeof(WorkerOptions).GetProperty(setting)!.GetValue(options)!;
    }

    // Program.Main as the user runs it, its standard output and error captured (tests run one at a time).
    private static async Task<(int ExitCode, string Output, string Error)> RunMainAsync(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (consoleOut, consoleError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int exitCode = await Program.Main(args).WaitAsync(Guard.HangLimit);
            return (exitCode, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(consoleOut);
            Console.SetError(consoleError);
        }
    }

    private static string[] Lines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => l.TrimEnd('\r'))];

    // The table's rows by name, each cut at the README header's columns.
    private static Dictionary<string, (string Got, string Expected, string Ok)> Table(string output)
    {
        string[] lines = Lines(output);
        int start = Array.IndexOf(lines, Header);
        Assert.True(start >= 0, $"no table header:\n{output}");
        int got = Header.IndexOf("got", StringComparison.Ordinal);
        int expected = Header.IndexOf("expected", StringComparison.Ordinal);
        int ok = Header.IndexOf("ok", StringComparison.Ordinal);
        return lines[(start + 1)..]
            .TakeWhile(static l => !l.StartsWith("waits: ", StringComparison.Ordinal))
            .ToDictionary(
                l => l[..got].TrimEnd(),
                l => (l[got..expected].TrimEnd(), l[expected..ok].TrimEnd(), l[ok..]));
    }

    private static string Write(WorkReport report)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        report.WriteTo(text);
        return text.ToString();
    }

    private static T InCulture<T>(string name, Func<T> body)
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(name);
        try
        {
            return body();
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }
}
