using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// A flow's holds are the flow's, not a task's: the detector cannot tell a task of the flow that awaits its waiting
/// sibling (<c>await Task.WhenAll(…)</c> inside the hold, a real deadlock) from one that runs on and will release.
/// </summary>
public sealed class SiblingHoldCycleTests
{
    private static readonly TimeSpan s_acquireLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_awaitLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// This task holds y and runs on; a sibling it started (and does not await) waits for x, held by flow G, which waits for
    /// y. The cycle is reported, yet this task releases y on its own and every wait ends: no deadlock was there.
    /// </summary>
    [Fact]
    public async Task KnownLimitation_ASiblingsWait_WhileTheHoldingTaskRunsOn_IsReportedAsACycle_ThoughEveryWaitEnds()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var x = new AsyncExclusiveLock("sibling-hold-x");
        var y = new AsyncExclusiveLock("sibling-hold-y");

        var yHold = await y.AcquireAsync(s_acquireLimit);
        int thisFlow = y.HolderFlowId;
        var g = await OtherFlowHoldingThenWaiting.StartAsync(x.AcquireAsync, y);
        int gFlow = x.HolderFlowId;

        // Started inside the hold: a task of this flow, which this task never waits for.
        var sibling = Task.Run(async () =>
        {
            using var scope = await x.AcquireAsync(s_acquireLimit);
        });
        Guard.SpinUntil(() => x.WaitingCount == 1);

        var cycles = DeadlockDetector.FindCycles().Where(c => c.Edges.Any(e => e.LockName.StartsWith("sibling-hold-", StringComparison.Ordinal))).ToList();

        // The holding task was never blocked: it lets y go, G takes it and lets both go, the sibling gets x.
        yHold.Dispose();
        await g.WaitAsync(s_awaitLimit);
        await sibling.WaitAsync(s_awaitLimit);

        var cycle = Assert.Single(cycles);
        Assert.Equal(2, cycle.Edges.Count);
        Assert.Contains(cycle.Edges, e => e.ThreadId == thisFlow && e.LockName == x.Name && e.OwnerThreadId == gFlow);
        Assert.Contains(cycle.Edges, e => e.ThreadId == gFlow && e.LockName == y.Name && e.OwnerThreadId == thisFlow);
        Assert.False(x.IsHeld);
        Assert.False(y.IsHeld);
    }
}
