using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Worker.Tests;

/// <summary>The worker's work without a host, over shapes that make the queue and the barrier work hardest.</summary>
public sealed class SeedWorkTests
{
    private static SeedWork NewWork() => new(
        new ExclusiveLock(WorkerRegistration.QueueLockName, WorkerRegistration.QueueLevel),
        new ExclusiveLock(WorkerRegistration.TotalsLockName, WorkerRegistration.TotalsLevel));

    /// <summary>A run on the pool, awaited within the hang guard: a lost wake-up fails the test instead of hanging the suite.</summary>
    private static Task<T> Guarded<T>(Func<T> run) => Task.Run(run).WaitAsync(Guard.HangLimit);

    [Theory]
    [InlineData(1, 1, 1, 1)]       // one slot: every item is a hand-off between the two threads
    [InlineData(4, 1, 2, 3)]       // more producers than slots: producers wait on "not full"
    [InlineData(1, 4, 3, 2)]       // more consumers than items in flight: consumers wait on "not empty"
    [InlineData(3, 3, 64, 4)]
    public async Task Producers_and_consumers_through_the_bounded_queue_lose_and_duplicate_nothing(int producers, int consumers, int capacity, int participants)
    {
        var options = new WorkerOptions
        {
            Producers = producers, Consumers = consumers, ItemsPerProducer = 3_000, Capacity = capacity,
            Participants = participants, Rows = 5, Columns = 8, Rounds = 20,
        };

        var report = await Guarded(() => NewWork().Run(options));

        Assert.Equal(producers * 3_000L, report.ItemsConsumed);
        Assert.Equal(SeedWork.ExpectedItemChecksum(producers, 3_000), report.ConsumedChecksum);
        Assert.InRange(report.MaxDepth, 1, capacity);
        Assert.True(report.IsExact, Describe(report));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 9, 13)]     // rows not a multiple of participants
    [InlineData(5, 3, 4)]      // more participants than rows: some own no row and still meet every phase
    [InlineData(4, 64, 64)]
    public async Task Matrix_phases_on_the_barrier_equal_the_sequential_result(int participants, int rows, int columns)
    {
        const int Rounds = 40;

        var (checksum, phases) = await Guarded(() => MatrixPhases.RunParallel(participants, rows, columns, Rounds, CancellationToken.None));

        Assert.Equal(2 * Rounds, phases);
        Assert.Equal(MatrixPhases.ExpectedChecksum(rows, columns, Rounds), checksum);
    }

    [Fact]
    public void The_matrix_checksum_changes_with_the_rounds_so_a_skipped_phase_would_show()
    {
        Assert.NotEqual(MatrixPhases.ExpectedChecksum(8, 8, 10), MatrixPhases.ExpectedChecksum(8, 8, 11));
    }

    [Fact]
    public async Task A_report_with_any_total_off_is_not_exact()
    {
        var report = await Guarded(() => NewWork().Run(new WorkerOptions { ItemsPerProducer = 100, Rounds = 2, Rows = 4, Columns = 4, Participants = 2 }));
        Assert.True(report.IsExact, Describe(report));

        Assert.False((report with { ItemsConsumed = report.ItemsConsumed - 1 }).IsExact);
        Assert.False((report with { ConsumedChecksum = report.ConsumedChecksum + 1 }).IsExact);
        Assert.False((report with { MaxDepth = report.Capacity + 1 }).IsExact);
        Assert.False((report with { PhasesCompleted = report.PhasesCompleted - 1 }).IsExact);
        Assert.False((report with { MatrixChecksum = report.MatrixChecksum ^ 1 }).IsExact);
    }

    [Fact]
    public void A_cancelled_run_ends_with_OperationCanceledException()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => NewWork().Run(new WorkerOptions { ItemsPerProducer = 1_000, Rounds = 10 }, cancelled.Token));
    }

    private static string Describe(WorkReport report)
    {
        using var text = new System.IO.StringWriter();
        report.WriteTo(text);
        return text.ToString();
    }
}
