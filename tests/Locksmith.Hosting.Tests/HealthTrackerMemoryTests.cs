using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

public sealed class HealthTrackerMemoryTests
{
    private const int Listed = 20;   // LocksmithHealthCheck.ListedLongWaits

    /// <summary>A clock the test moves: the health window's pruning is read against it.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; } = 1;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    private static (IHost Host, ManualClock Clock) Build(string window)
    {
        var clock = new ManualClock();
        var host = TestHost.Build(
            $$"""{ "Locksmith": { "LongWaitThreshold": "00:00:00", "HealthWindow": "{{window}}", "DegradedTimeoutCount": 0 } }""",
            l => l.AddExclusiveLock("ledger", 10),
            s =>
            {
                s.AddSingleton<TimeProvider>(clock);
                s.AddHealthChecks().AddLocksmith();
            });
        return (host, clock);
    }

    // As the policy reports them: every third long wait timed out (a timeout too), the rest were granted.
    private static string Record(LockEventTracker tracker, int i)
    {
        var waited = TimeSpan.FromMilliseconds(10 + i);
        if (i % 3 == 0)
        {
            tracker.TimeoutOccurred(new LockTimeoutEvent("ledger", LockMode.Exclusive, waited, 1_000 + i, 7));
            return $"'ledger' (Exclusive) timed out after waiting {waited.TotalMilliseconds:0.###} ms, waiter thread {1_000 + i}";
        }

        tracker.LongWaitOccurred(new LongWaitEvent("ledger", LockMode.Exclusive, waited, 1_000 + i));
        return $"'ledger' (Exclusive) waited {waited.TotalMilliseconds:0.###} ms, waiter thread {1_000 + i}";
    }

    [Fact]
    public async Task A_storm_of_long_waits_keeps_only_the_listed_ones_described_and_the_report_counts_them_all()
    {
        // Before, the tracker kept every long wait of the window (a record and a waiter's name each): 10,000 retained.
        const int Waits = 10_000;
        var ct = TestContext.Current.CancellationToken;
        var (host, clock) = Build("01:00:00");
        using var _ = host;
        var tracker = host.Services.GetRequiredService<LockEventTracker>();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var lines = new string[Waits];
        for (int i = 0; i < Waits; i++)
        {
            clock.Ticks += TimeSpan.TicksPerMillisecond;
            lines[i] = Record(tracker, i);
        }

        var entry = (await health.CheckHealthAsync(ct)).Entries["locksmith"];

        int timedOut = Enumerable.Range(0, Waits).Count(static i => i % 3 == 0);
        Assert.Equal(Listed, tracker.RetainedLongWaits);
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.StartsWith($"{Waits} long wait(s) ({timedOut} of them timed out) and {timedOut} timeout(s) within the last 01:00:00;", entry.Description, StringComparison.Ordinal);
        Assert.Equal(timedOut, entry.Data["timeouts"]);
        Assert.Equal(
            [$"{Waits - Listed} earlier long wait(s) within the window are not listed", .. lines[^Listed..]],
            (string[])entry.Data["longWaits"]);
    }

    [Fact]
    public async Task Long_waits_leave_the_counts_and_the_list_as_they_leave_the_window()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, clock) = Build("00:00:01");
        using var _ = host;
        var tracker = host.Services.GetRequiredService<LockEventTracker>();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        // 60 waits 25 ms apart: as the last ends, the 1 s window holds it and the 40 before it.
        var lines = new string[60];
        for (int i = 0; i < lines.Length; i++)
        {
            clock.Ticks += 25 * TimeSpan.TicksPerMillisecond;
            lines[i] = Record(tracker, i);
        }

        var within = (await health.CheckHealthAsync(ct)).Entries["locksmith"];
        clock.Ticks += 995 * TimeSpan.TicksPerMillisecond;   // the one before the last is 1.02 s old now
        var lastOne = (await health.CheckHealthAsync(ct)).Entries["locksmith"];
        clock.Ticks += 10 * TimeSpan.TicksPerMillisecond;
        var none = (await health.CheckHealthAsync(ct)).Entries["locksmith"];

        int timedOutWithin = Enumerable.Range(19, 41).Count(static i => i % 3 == 0);
        Assert.StartsWith($"41 long wait(s) ({timedOutWithin} of them timed out) and {timedOutWithin} timeout(s)", within.Description, StringComparison.Ordinal);
        Assert.Equal(["21 earlier long wait(s) within the window are not listed", .. lines[^Listed..]], (string[])within.Data["longWaits"]);
        Assert.StartsWith("1 long wait(s) (0 of them timed out) and 0 timeout(s)", lastOne.Description, StringComparison.Ordinal);
        Assert.Equal([lines[^1]], (string[])lastOne.Data["longWaits"]);
        Assert.Equal(HealthStatus.Healthy, none.Status);
        Assert.Empty((string[])none.Data["longWaits"]);
        Assert.Equal(0, tracker.RetainedLongWaits);
    }

    [Fact]
    public void A_storm_of_timeouts_allocates_nothing_in_the_tracker_and_the_report_counts_them_all()
    {
        // Before, the tracker queued each timeout's time (8 B retained a timeout, and the queue's growth allocated).
        const int Calls = 100_000;
        var clock = new ManualClock();
        using var host = TestHost.Build(
            """{ "Locksmith": { "LongWaitThreshold": "-00:00:00.001", "HealthWindow": "01:00:00" } }""",
            services: s => s.AddSingleton<TimeProvider>(clock));
        var tracker = host.Services.GetRequiredService<LockEventTracker>();
        var timeout = new LockTimeoutEvent("ledger", LockMode.Exclusive, TimeSpan.FromMilliseconds(5), 1_000, 7);
        tracker.TimeoutOccurred(timeout);

        // The fewest bytes of three windows: a one-off of the process landing on this thread does not count.
        long fewest = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Calls; i++)
            {
                clock.Ticks += TimeSpan.TicksPerMillisecond;
                tracker.TimeoutOccurred(timeout);
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
        Assert.Equal(1 + 3 * Calls, tracker.Recent().Timeouts);
    }
}
