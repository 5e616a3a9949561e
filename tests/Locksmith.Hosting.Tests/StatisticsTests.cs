using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>The catalog's live statistics per lock (from the container's meter) and the nesting edges it saw.</summary>
public sealed class StatisticsTests
{
    private const string On = """{ "Locksmith": { "StatisticsEnabled": true } }""";

    [Fact]
    public async Task Acquisitions_contentions_waits_and_timeouts_are_counted_per_lock_from_the_containers_meter()
    {
        using var host = TestHost.Build(On, l => l.AddAsyncExclusiveLock("outbox", level: 10).AddExclusiveLock("ledger", level: 20));
        await host.StartAsync(TestContext.Current.CancellationToken);
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var catalog = host.Services.GetRequiredService<ILockCatalog>();

        for (int i = 0; i < 100; i++)
        {
            using var scope = ledger.Acquire();
        }

        // One contention that ends in a wait, one that ends in a timeout: the holder lets go only after the waiter queued.
        var held = await outbox.AcquireAsync(TestContext.Current.CancellationToken);
        Task<AsyncLockScope> waiter;
        Task<AsyncLockScope> late;
        using (ExecutionContext.SuppressFlow())
        {
            // Other flows: this one holds the lock, and a flow shares its holds with what it starts.
            waiter = Task.Run(() => outbox.AcquireAsync().AsTask());
            late = Task.Run(() => outbox.TryAcquireAsync(TimeSpan.FromMilliseconds(20)).AsTask());
        }

        Assert.False((await late).IsAcquired);
        Guard.SpinUntil(() => outbox.WaitingCount == 1);
        held.Dispose();
        (await waiter.WaitAsync(Guard.HangLimit, TestContext.Current.CancellationToken)).Dispose();

        var entries = catalog.Snapshot().ContainerLocks();
        var ledgerStats = entries.Single(static e => e.Name == "ledger").Statistics;
        var outboxStats = entries.Single(static e => e.Name == "outbox").Statistics;
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new LockStatistics(100, 0, 0, 0, 0, 0), ledgerStats);
        Assert.Equal(2, outboxStats.Acquisitions);
        Assert.Equal(2, outboxStats.Contentions);
        Assert.Equal(2, outboxStats.Waits);
        Assert.Equal(1, outboxStats.Timeouts);
        // How long the waits took is the clock's business; the percentile arithmetic has tests of its own (below).
        Assert.True(outboxStats.MaxWaitMilliseconds >= outboxStats.P99WaitMilliseconds);
    }

    [Fact]
    public void Nesting_edges_name_the_held_lock_and_the_taken_one_with_a_count_in_the_global_order()
    {
        using var host = TestHost.Build(On, l => l
            .AddExclusiveLock("accounts", level: 10)
            .AddExclusiveLock("journal", level: 20)
            .AddReadWriteLock("rates", level: 5));
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var accounts = host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var journal = host.Services.GetRequiredKeyedService<ExclusiveLock>("journal");
        var rates = host.Services.GetRequiredKeyedService<ReadWriteLock>("rates");

        for (int i = 0; i < 5; i++)
        {
            using var a = accounts.Acquire();
            using var j = journal.Acquire();
        }

        using (rates.AcquireRead())
        using (accounts.Acquire())
        {
        }

        Assert.Equal(
            [new LockNestingEdge("rates", 5, "accounts", 10, 1), new LockNestingEdge("accounts", 10, "journal", 20, 5)],
            catalog.NestingEdges());
    }

    [Fact]
    public async Task Stopping_the_host_stops_its_statistics_and_nesting_recorder_and_keeps_the_figures_readable()
    {
        // Before, only disposing the container stopped them: a stopped host kept the process-wide nesting recorder open
        // (every nested acquisition of the process recorded) and its listener turned on, counting after the stop.
        var ct = TestContext.Current.CancellationToken;
        bool recordingBefore = LockNesting.IsRecording;
        using var host = TestHost.Build(On, l => l.AddExclusiveLock("ledger", level: 10).AddExclusiveLock("journal", level: 20));
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var journal = host.Services.GetRequiredKeyedService<ExclusiveLock>("journal");
        await host.StartAsync(ct);
        bool recordingWhileRunning = LockNesting.IsRecording;
        using (ledger.Acquire())
        using (journal.Acquire())
        {
        }

        await host.StopAsync(ct);
        bool recordingAfterStop = LockNesting.IsRecording;
        using (ledger.Acquire())
        using (journal.Acquire())
        {
        }

        Assert.False(recordingBefore);
        Assert.True(recordingWhileRunning);
        Assert.False(recordingAfterStop);
        Assert.Equal([new LockNestingEdge("ledger", 10, "journal", 20, 1)], catalog.NestingEdges());
        Assert.Equal(1, catalog.Snapshot().Single(static e => e.Name == "ledger").Statistics.Acquisitions);
    }

    [Fact]
    public void Nesting_edges_list_striped_locks_by_their_own_names_outer_and_inner()
    {
        // ILockCatalog.NestingEdges' docs said striped locks kept theirs on their stripes and were not listed; they are
        // listed, as the striped lock (README's Statistics paragraph), which this pins.
        using var host = TestHost.Build(On, l => l
            .AddExclusiveLock("ledger", level: 10)
            .AddStripedLock<int>("rows", stripeCount: 4, level: 20)
            .AddExclusiveLock("audit", level: 30));
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var rows = host.Services.GetRequiredKeyedService<StripedLock<int>>("rows");
        var audit = host.Services.GetRequiredKeyedService<ExclusiveLock>("audit");

        using (ledger.Acquire())
        using (rows.Acquire(3))
        using (audit.Acquire())
        {
        }

        Assert.Equal(
            [new LockNestingEdge("ledger", 10, "rows", 20, 1), new LockNestingEdge("rows", 20, "audit", 30, 1)],
            catalog.NestingEdges());
    }

    [Fact]
    public void By_default_the_catalog_counts_nothing_and_records_no_nesting()
    {
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("a", level: 1).AddExclusiveLock("b", level: 2));
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var a = host.Services.GetRequiredKeyedService<ExclusiveLock>("a");
        var b = host.Services.GetRequiredKeyedService<ExclusiveLock>("b");
        bool recordingElsewhere = LockNesting.IsRecording;

        using (a.Acquire())
        using (b.Acquire())
        {
        }

        Assert.All(catalog.Snapshot().ContainerLocks(), static e => Assert.Equal(default, e.Statistics));
        Assert.False(recordingElsewhere);
        Assert.Empty(catalog.NestingEdges());
    }

    [Fact]
    public void The_wait_histogram_puts_the_99th_percentile_in_a_bucket_within_a_quarter_of_it()
    {
        var histogram = new WaitHistogram();
        for (int ms = 1; ms <= 100; ms++)
        {
            histogram.Record(ms / 1000.0);
        }

        var totals = WaitHistogram.NewTotals();
        histogram.AddTo(totals);
        var (count, p99, max) = WaitHistogram.Summarize(totals);

        Assert.Equal(100, count);
        Assert.InRange(p99, 99, 99 * 1.25);
        Assert.InRange(max, 100, 100 * 1.25);
        Assert.Equal((0, 0.0, 0.0), WaitHistogram.Summarize(WaitHistogram.NewTotals()));
        for (long v = 1; v < 1_000_000; v = (v * 5 / 4) + 1)
        {
            Assert.InRange(WaitHistogram.UpperBoundMicros(WaitHistogram.IndexOf(v)), v, Math.Max(v * 1.25, v + 1));
        }
    }
}
