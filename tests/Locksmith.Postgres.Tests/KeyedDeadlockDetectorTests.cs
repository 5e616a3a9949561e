using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

public sealed class KeyedDeadlockDetectorTests
{
    [Fact]
    public async Task ACycleThroughAKeyOfAKeyedLockAndAnInProcessLock_IsInTheDetectorsGraphNamedByKey()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("accounts"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("cache"));
        string keyName = $"{accounts.Name}[1]";

        var found = await DetectorCycle.FindAsync(
            () => accounts.AcquireAsync(1),
            local,
            async breakTheCycle =>
            {
                await using var then = await accounts.AcquireAsync(1, Timeout.InfiniteTimeSpan, breakTheCycle);
            },
            keyName,
            polls: 3000);

        Assert.NotNull(found);
        Assert.Equal(2, found.Edges.Count);
        var keyEdge = Assert.Single(found.Edges, e => e.LockName == keyName);
        var localEdge = Assert.Single(found.Edges, e => e.LockName == local.Name);
        Assert.Equal(LockKind.DistributedKeyed, keyEdge.LockKind);
        Assert.Equal(keyEdge.OwnerThreadId, localEdge.ThreadId);
        Assert.Equal(localEdge.OwnerThreadId, keyEdge.ThreadId);
        Assert.NotEqual(keyEdge.ThreadId, localEdge.ThreadId);
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName == keyName));
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, accounts.WaitingCount);
        Assert.False(local.IsHeld);
    }

    /// <summary>
    /// The same cycle, with the key waited for inside AcquireManyAsync and inside a PostgresLockSet: before, a set's wait
    /// for a member was in the graph only as a wait for the keyed lock as a whole, with no holder, so no cycle was found.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACycleThroughAKeyWaitedForInsideASet_IsInTheDetectorsGraphNamedByKey(bool lockSet)
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("accounts"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("cache"));
        string keyName = $"{accounts.Name}[1]";

        var found = await DetectorCycle.FindAsync(
            () => accounts.AcquireAsync(1),
            local,
            async breakTheCycle =>
            {
                // Key 1 first in key order: the set waits for it holding nothing of the lock yet.
                await using var then = lockSet
                    ? await PostgresLockSet.AcquireAsync(Timeout.InfiniteTimeSpan, [accounts.Request(3), accounts.Request(1)], breakTheCycle)
                    : await accounts.AcquireManyAsync([3, 1], Timeout.InfiniteTimeSpan, breakTheCycle);
            },
            keyName,
            polls: 1500);

        Assert.NotNull(found);
        Assert.Equal(2, found.Edges.Count);
        var keyEdge = Assert.Single(found.Edges, e => e.LockName == keyName);
        var localEdge = Assert.Single(found.Edges, e => e.LockName == local.Name);
        Assert.Equal(keyEdge.OwnerThreadId, localEdge.ThreadId);
        Assert.Equal(localEdge.OwnerThreadId, keyEdge.ThreadId);
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName == keyName));
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task AWaitForAnotherKeyOfTheSameLock_IsNotACycle()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("accounts"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("cache"));
        var firstHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thirdHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // first: key 1, then waits for the local lock; second: the local lock, then waits for key 2, which third holds.
        // A flow that fails before it signals hands its error on (see DetectorCycle); every wait for a signal is bounded.
        var third = Task.Run(async () =>
        {
            try
            {
                await using var held = await accounts.AcquireAsync(2);
                thirdHolds.SetResult();
                await release.Task.WaitAsync(PostgresServer.HangGuard);
            }
            catch (Exception e)
            {
                thirdHolds.TrySetException(e);
                throw;
            }
        });
        var first = Task.Run(async () =>
        {
            try
            {
                await using var held = await accounts.AcquireAsync(1);
                firstHolds.SetResult();
                await secondHolds.Task.WaitAsync(PostgresServer.HangGuard);
                using var then = await local.AcquireAsync(TimeSpan.FromMinutes(2));
            }
            catch (Exception e)
            {
                firstHolds.TrySetException(e);
                throw;
            }
        });
        var second = Task.Run(async () =>
        {
            try
            {
                using var held = await local.AcquireAsync(PostgresServer.HangGuard);
                secondHolds.SetResult();
                await firstHolds.Task.WaitAsync(PostgresServer.HangGuard);
                await thirdHolds.Task.WaitAsync(PostgresServer.HangGuard);
                await using var then = await accounts.AcquireAsync(2, TimeSpan.FromMinutes(2));
            }
            catch (Exception e)
            {
                secondHolds.TrySetException(e);
                throw;
            }
        });

        // Once key 1 and key 2 are held, the one flow waiting for a key is the second; the first must wait for the
        // local lock too, or a detector that lumps the keys together would have no false cycle to report.
        await firstHolds.Task.WaitAsync(PostgresServer.HangGuard);
        await thirdHolds.Task.WaitAsync(PostgresServer.HangGuard);
        for (int i = 0; i < 3000 && (accounts.WaitingCount != 1 || local.WaitingCount != 1); i++)
        {
            await Task.Delay(10);
        }

        int waiting = accounts.WaitingCount;
        int waitingLocally = local.WaitingCount;
        var cycles = DeadlockDetector.FindCycles().Where(c => c.Edges.Any(e => e.LockName.StartsWith(accounts.Name, StringComparison.Ordinal))).ToList();
        release.SetResult();
        await third.WaitAsync(PostgresServer.HangGuard);
        await second.WaitAsync(PostgresServer.HangGuard);
        await first.WaitAsync(PostgresServer.HangGuard);

        Assert.Equal(1, waiting);
        Assert.Equal(1, waitingLocally);
        Assert.Empty(cycles);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
