using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Two acquisitions of one flow waiting at once (tasks of the flow, as <c>Task.WhenAll</c> starts them): the provider keeps
/// one wait entry per acquisition, so both count, and one ending takes only its own entry. Before, it kept one per flow:
/// the second overwrote the first (<see cref="PostgresLock.WaitingCount"/> 1), and the first's end removed the second's
/// live wait from the lock's count and from the flow's wait slot, so the deadlock detector and
/// <see cref="DeadlockDetector.CurrentWaits"/> no longer saw the flow waiting at all.
/// </summary>
public sealed class PostgresSiblingWaitsTests
{
    [Fact]
    public async Task TwoSiblingsWaitingForTwoKeys_BothCount_AndTheFirstToEndLeavesTheOthersWait()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("sibling_waits");
        var accounts = provider.CreateKeyedLock<int>(name);

        // Another process's stand-in holds both keys, so both siblings wait.
        await using var elsewhere = PostgresServer.Provider();
        var there = elsewhere.CreateKeyedLock<int>(name);
        var heldOne = await KeyHeldElsewhere.HoldAsync(there, 1);
        var heldTwo = await KeyHeldElsewhere.HoldAsync(there, 2);

        // A hold makes the test's flow one flow: both acquisitions below are its, on its one session.
        var anchor = await provider.CreateExclusiveLock(PostgresServer.Unique("sibling_waits_anchor")).AcquireAsync(TimeSpan.FromSeconds(30));
        using var cancelFirst = new CancellationTokenSource();
        var first = accounts.AcquireAsync(1, TimeSpan.FromSeconds(60), cancelFirst.Token).AsTask();
        await using (var watcher = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, accounts.KeyOf(1));
        }

        // Recorded before its first round trip: it queues for the session behind the first's wait on the server.
        var second = accounts.AcquireAsync(2, TimeSpan.FromSeconds(60)).AsTask();
        Assert.False(second.IsCompleted);
        Assert.Equal(2, accounts.WaitingCount);

        await cancelFirst.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(PostgresServer.HangGuard));

        // The second still waits, and still shows: in the lock's count and as the flow's wait.
        Assert.False(second.IsCompleted);
        Assert.Equal(1, accounts.WaitingCount);
        var wait = Assert.Single(DeadlockDetector.CurrentWaits(), w => w.LockName.StartsWith(name, StringComparison.Ordinal));
        Assert.Equal($"{name}[2]", wait.LockName);

        await heldTwo.DisposeAsync();
        await (await second.WaitAsync(PostgresServer.HangGuard)).DisposeAsync();
        await heldOne.DisposeAsync();
        await anchor.DisposeAsync();
        Assert.Equal(0, accounts.WaitingCount);
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName.StartsWith(name, StringComparison.Ordinal));
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>
    /// The flow waits for <c>b</c> (held by a flow that waits for the in-process lock the first flow holds: a cycle the
    /// server cannot see) and, in a sibling, for <c>a</c> (held by another process). The flow's one wait slot shows the
    /// later wait, for <c>a</c>; once that one ends, it shows the wait for <c>b</c> again, and the detector finds the cycle.
    /// Before, the end of the wait for <c>a</c> emptied the slot, and the cycle through <c>b</c> went unreported.
    /// </summary>
    [Fact]
    public async Task WhenTheLaterSiblingsWaitEnds_TheEarliersWaitIsTheFlowsAgain_AndItsCycleIsFound()
    {
        await using var provider = PostgresServer.Provider();
        var a = provider.CreateExclusiveLock(PostgresServer.Unique("sibling_cycle_a"));
        var b = provider.CreateExclusiveLock(PostgresServer.Unique("sibling_cycle_b"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("sibling_cycle_local"));
        await using var holderOfA = await PostgresServer.HoldOnPlainSessionAsync(a.Name);

        // This flow holds the local lock; another flow holds b and then waits for the local lock.
        var localScope = await local.AcquireAsync(TimeSpan.FromSeconds(30));
        var holdsB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var other = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var heldB = await b.AcquireAsync(TimeSpan.FromSeconds(30));
            holdsB.SetResult();
            using var then = await local.AcquireAsync(PostgresServer.HangGuard);
            return true;
        });
        await holdsB.Task.WaitAsync(PostgresServer.HangGuard);
        for (int i = 0; i < 3000 && local.WaitingCount == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, local.WaitingCount);

        using var cancelB = new CancellationTokenSource();
        using var cancelA = new CancellationTokenSource();
        var waitForB = b.AcquireAsync(TimeSpan.FromSeconds(60), cancelB.Token).AsTask();
        await using (var watcher = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, b.Key);
        }

        var waitForA = a.AcquireAsync(TimeSpan.FromSeconds(60), cancelA.Token).AsTask();
        Assert.Equal(1, a.WaitingCount);
        Assert.Equal(1, b.WaitingCount);

        await cancelA.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitForA.WaitAsync(PostgresServer.HangGuard));
        Assert.Equal(0, a.WaitingCount);
        Assert.Equal(1, b.WaitingCount);

        var found = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == b.Name));
        Assert.NotNull(found);
        Assert.Contains(found.Edges, e => e.LockName == local.Name);
        Assert.Contains(DeadlockDetector.CurrentWaits(), w => w.LockName == b.Name);

        // Broken from this side: the wait for b ends, the local lock goes to the other flow, which then lets both go.
        await cancelB.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitForB.WaitAsync(PostgresServer.HangGuard));
        localScope.Dispose();
        Assert.True(await other.WaitAsync(PostgresServer.HangGuard));
        await PostgresServer.UnlockAllAsync(holderOfA);
        Assert.Equal(0, b.WaitingCount);
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName == a.Name || w.LockName == b.Name);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
