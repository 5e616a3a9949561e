using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Two acquisitions of one flow waiting at once (tasks of the flow): the detector follows each of them, not only the one the
/// flow's wait slot shows (its latest). Before, a cycle through the earlier sibling's wait was found only once the later
/// one had ended, and <see cref="DeadlockDetector.CurrentWaits"/> listed one of the two.
/// </summary>
public sealed class PostgresSiblingCycleTests
{
    private static readonly TimeSpan s_acquireLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// This flow holds an in-process lock that another flow, holding <c>b</c>, waits for; this flow waits for <c>b</c> and,
    /// later, in a sibling, for <c>a</c> (held by another process). While both wait, the cycle through <c>b</c> is found.
    /// </summary>
    [Fact]
    public async Task WhileTheLaterSiblingStillWaits_ACycleThroughTheEarliersWaitIsFound_AndBothWaitsAreListed()
    {
        await using var provider = PostgresServer.Provider();
        var a = provider.CreateExclusiveLock(PostgresServer.Unique("sibling_live_a"));
        var b = provider.CreateExclusiveLock(PostgresServer.Unique("sibling_live_b"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("sibling_live_local"));
        await using var holderOfA = await PostgresServer.HoldOnPlainSessionAsync(a.Name);

        var localScope = await local.AcquireAsync(s_acquireLimit);
        int thisFlow = local.HolderFlowId;
        var holdsB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var other = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var heldB = await b.AcquireAsync(s_acquireLimit);
            holdsB.SetResult();
            using var then = await local.AcquireAsync(s_acquireLimit);
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
        var waitForB = b.AcquireAsync(s_acquireLimit, cancelB.Token).AsTask();
        await using (var watcher = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, b.Key);
        }

        var waitForA = a.AcquireAsync(s_acquireLimit, cancelA.Token).AsTask();
        Assert.Equal(1, a.WaitingCount);
        Assert.Equal(1, b.WaitingCount);

        var found = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == b.Name));
        var waits = DeadlockDetector.CurrentWaits().Where(w => w.LockName == a.Name || w.LockName == b.Name).ToList();

        // Broken from this side: both waits end, the local lock goes to the other flow, which then lets both go.
        await cancelA.CancelAsync();
        await cancelB.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitForA.WaitAsync(PostgresServer.HangGuard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitForB.WaitAsync(PostgresServer.HangGuard));
        localScope.Dispose();
        Assert.True(await other.WaitAsync(PostgresServer.HangGuard));
        await PostgresServer.UnlockAllAsync(holderOfA);

        Assert.NotNull(found);
        Assert.Equal(2, found.Edges.Count);
        var onB = Assert.Single(found.Edges, e => e.LockName == b.Name);
        var onLocal = Assert.Single(found.Edges, e => e.LockName == local.Name);
        Assert.Equal(thisFlow, onB.ThreadId);
        Assert.Equal(onLocal.ThreadId, onB.OwnerThreadId);
        Assert.Equal(thisFlow, onLocal.OwnerThreadId);
        Assert.NotEqual(thisFlow, onLocal.ThreadId);

        Assert.Equal(2, waits.Count);
        Assert.All(waits, w => Assert.Equal(thisFlow, w.WaiterId));
        Assert.Single(waits, w => w.LockName == a.Name);
        Assert.Equal(onLocal.ThreadId, Assert.Single(waits, w => w.LockName == b.Name).HolderId);

        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName == a.Name || w.LockName == b.Name);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>
    /// The same with two keys of one keyed lock: this flow's earlier sibling waits for key 1 (held by a flow that waits for
    /// the in-process lock this flow holds), the later for key 2 (held by another process). The cycle names key 1, and each
    /// wait is listed under its own key.
    /// </summary>
    [Fact]
    public async Task TwoSiblingsWaitingForTwoKeys_TheCycleThroughTheEarliersKeyIsFound_NamedByItsKey()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("sibling_keys");
        var accounts = provider.CreateKeyedLock<int>(name);
        var local = new AsyncExclusiveLock(PostgresServer.Unique("sibling_keys_local"));
        await using var elsewhere = PostgresServer.Provider();
        var heldTwo = await KeyHeldElsewhere.HoldAsync(elsewhere.CreateKeyedLock<int>(name), 2);

        var localScope = await local.AcquireAsync(s_acquireLimit);
        int thisFlow = local.HolderFlowId;
        var holdsOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var other = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var heldOne = await accounts.AcquireAsync(1, s_acquireLimit);
            holdsOne.SetResult();
            using var then = await local.AcquireAsync(s_acquireLimit);
            return true;
        });
        await holdsOne.Task.WaitAsync(PostgresServer.HangGuard);
        for (int i = 0; i < 3000 && local.WaitingCount == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, local.WaitingCount);

        using var cancelOne = new CancellationTokenSource();
        using var cancelTwo = new CancellationTokenSource();
        var waitForOne = accounts.AcquireAsync(1, s_acquireLimit, cancelOne.Token).AsTask();
        var waitForTwo = accounts.AcquireAsync(2, s_acquireLimit, cancelTwo.Token).AsTask();
        Assert.Equal(2, accounts.WaitingCount);

        var found = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName.StartsWith(name, StringComparison.Ordinal)));
        var waits = DeadlockDetector.CurrentWaits().Where(w => w.LockName.StartsWith(name, StringComparison.Ordinal)).ToList();

        await cancelOne.CancelAsync();
        await cancelTwo.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitForOne.WaitAsync(PostgresServer.HangGuard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waitForTwo.WaitAsync(PostgresServer.HangGuard));
        localScope.Dispose();
        Assert.True(await other.WaitAsync(PostgresServer.HangGuard));
        await heldTwo.DisposeAsync();

        Assert.NotNull(found);
        Assert.Equal(2, found.Edges.Count);
        var onKey = Assert.Single(found.Edges, e => e.ThreadId == thisFlow);
        Assert.Equal($"{name}[1]", onKey.LockName);
        Assert.Equal(LockKind.DistributedKeyed, onKey.LockKind);
        var onLocal = Assert.Single(found.Edges, e => e.LockName == local.Name);
        Assert.Equal(onLocal.ThreadId, onKey.OwnerThreadId);
        Assert.Equal(thisFlow, onLocal.OwnerThreadId);

        Assert.Equal(2, waits.Count);
        Assert.All(waits, w => Assert.Equal(thisFlow, w.WaiterId));
        Assert.Equal(onLocal.ThreadId, Assert.Single(waits, w => w.LockName == $"{name}[1]").HolderId);
        // Key 2's holder is the flow holding it through the other provider of this process.
        int holderOfTwo = Assert.Single(waits, w => w.LockName == $"{name}[2]").HolderId;
        Assert.NotEqual(onLocal.ThreadId, holderOfTwo);
        Assert.NotEqual(thisFlow, holderOfTwo);

        Assert.Equal(0, accounts.WaitingCount);
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName.StartsWith(name, StringComparison.Ordinal));
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
