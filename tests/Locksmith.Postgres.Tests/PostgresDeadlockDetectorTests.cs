using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

public sealed class PostgresDeadlockDetectorTests
{
    [Fact]
    public async Task ACycleThroughADistributedAndAnInProcessLock_IsInTheDetectorsGraph()
    {
        await using var provider = PostgresServer.Provider();
        var distributed = provider.CreateExclusiveLock(PostgresServer.Unique("ledger"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("cache"));
        var firstHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var breakTheCycle = new CancellationTokenSource();

        var first = Task.Run(async () =>
        {
            await using var held = await distributed.AcquireAsync();
            firstHolds.SetResult();
            await secondHolds.Task;
            using var then = await local.AcquireAsync(TimeSpan.FromMinutes(2));
        });
        var second = Task.Run(async () =>
        {
            using var held = await local.AcquireAsync();
            secondHolds.SetResult();
            await firstHolds.Task;
            await using var then = await distributed.AcquireAsync(Timeout.InfiniteTimeSpan, breakTheCycle.Token);
        });

        DeadlockCycle? found = null;
        for (int i = 0; i < 3000 && found is null; i++)
        {
            found = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == distributed.Name));
            if (found is null)
            {
                await Task.Delay(10);
            }
        }

        await breakTheCycle.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        await first;

        Assert.NotNull(found);
        Assert.Equal(2, found.Edges.Count);
        Assert.Contains(found.Edges, e => e.LockName == distributed.Name && e.LockKind == LockKind.DistributedExclusive);
        Assert.Contains(found.Edges, e => e.LockName == local.Name);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
