using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// A flow's wait slot keeps naming an async lock after that wait ended (cancelled or timed out, out of the lock's queue)
/// until the flow reads the wait's result. The lock's own records say the wait is over, so the detector must not follow
/// the slot as a wait then: a cycle through it is a false deadlock.
/// </summary>
public sealed class EndedWaitSlotTests
{
    private static readonly TimeSpan s_acquireLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_awaitLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// This flow holds <c>x</c> and has a sibling queued for an empty semaphore's permit (a live wait, in no cycle); flow G
    /// holds <c>a</c> and waits for <c>x</c>. This flow's wait for <c>a</c> is cancelled before anyone awaits it: out of
    /// <c>a</c>'s queue, its slot still names <c>a</c>. No wait of this flow is for <c>a</c>, so there is no cycle.
    /// </summary>
    [Fact]
    public async Task AFlowsEndedWaitTheSlotStillNames_IsNoEdge_SoNoCycleIsReported()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var x = new AsyncExclusiveLock("ews-x");
        var a = new AsyncExclusiveLock("ews-a");
        var permits = new CountingSemaphore(0, 1, "ews-permits");

        var xHold = await x.AcquireAsync(s_acquireLimit);
        int thisFlow = x.HolderFlowId;

        var g = await OtherFlowHoldingThenWaiting.StartAsync(a.AcquireAsync, x);
        Assert.NotEqual(thisFlow, a.HolderFlowId);

        var sibling = Sibling(ct => permits.AcquireAsync(1, s_acquireLimit, ct));
        Assert.False(sibling.IsCompleted);

        // Begun in this flow (its slot now names a), then cancelled before it is awaited: out of a's queue at once.
        using var cancelA = new CancellationTokenSource();
        var onA = a.AcquireAsync(s_acquireLimit, cancelA.Token);
        Assert.False(onA.IsCompleted);
        await cancelA.CancelAsync();
        Assert.Equal(0, a.WaitingCount);

        var cycles = DeadlockDetector.FindCycles().Where(c => c.Edges.Any(e => e.LockName.StartsWith("ews-", StringComparison.Ordinal))).ToList();
        var waits = DeadlockDetector.CurrentWaits().Where(w => w.LockName.StartsWith("ews-", StringComparison.Ordinal)).ToList();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await onA);
        xHold.Dispose();
        await g.WaitAsync(s_awaitLimit);
        permits.Release();
        await sibling.WaitAsync(s_awaitLimit);

        Assert.Empty(cycles);
        Assert.DoesNotContain(waits, w => w.LockName == a.Name);
        Assert.Contains(waits, w => w.LockName == permits.Name && w.WaiterId == thisFlow);
        Assert.Contains(waits, w => w.LockName == x.Name && w.HolderId == thisFlow);
    }

    private static async Task Sibling(Func<CancellationToken, ValueTask<AsyncLockScope>> acquire)
    {
        using var scope = await acquire(CancellationToken.None);
    }
}
