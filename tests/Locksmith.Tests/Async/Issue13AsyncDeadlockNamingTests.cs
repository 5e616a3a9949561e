using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// Issue 13: "an async deadlock (two flows, opposite order, order policy Ignore) is found by the detector with both flows
/// and locks named", the deadlock detector following flow → lock → owning flow. The existing test checks the locks' names
/// and that the waiters are two flows; here each edge must name its own flow (its id and its activity), the lock it waits
/// for, and as that lock's holder the other flow of the cycle.
/// </summary>
public sealed class Issue13AsyncDeadlockNamingTests
{
    [Fact]
    public async Task TwoFlowsInOppositeOrder_AreOneCycle_EachEdgeNamingItsFlow_ItsLock_AndTheOtherFlowAsTheHolder()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var first = new AsyncExclusiveLock("i13-dl-first", level: 1);
        var second = new AsyncExclusiveLock("i13-dl-second", level: 2);
        var holds = new[]
        {
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        using var cancel = new CancellationTokenSource();

        async Task<bool> Flow(int me, string activityName, AsyncExclusiveLock mine, AsyncExclusiveLock theirs)
        {
            using var activity = new Activity(activityName).Start();
            using var held = await mine.AcquireAsync();
            holds[me].SetResult();
            await holds[1 - me].Task.WaitAsync(Guard.HangLimit);
            try
            {
                using var got = await theirs.AcquireAsync(cancel.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        Task<bool> importing, exporting;
        using (ExecutionContext.SuppressFlow())
        {
            importing = Task.Run(() => Flow(0, "i13-import", first, second));
            exporting = Task.Run(() => Flow(1, "i13-export", second, first));
        }

        DeadlockCycle? cycle = null;
        Guard.SpinUntil(() =>
        {
            cycle = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == "i13-dl-first"));
            return cycle is not null;
        });

        // Read while both flows wait: each lock's holder is the flow that took it.
        int importFlow = first.HolderFlowId;
        int exportFlow = second.HolderFlowId;
        Assert.NotEqual(0, importFlow);
        Assert.NotEqual(0, exportFlow);
        Assert.NotEqual(importFlow, exportFlow);

        Assert.Equal(2, cycle!.Edges.Count);
        var importWaits = Assert.Single(cycle.Edges, e => e.LockName == "i13-dl-second");
        var exportWaits = Assert.Single(cycle.Edges, e => e.LockName == "i13-dl-first");

        Assert.True(importWaits.IsFlow);
        Assert.Equal(importFlow, importWaits.ThreadId);
        Assert.Equal("i13-import", importWaits.ThreadName);
        Assert.Equal(exportFlow, importWaits.OwnerThreadId);
        Assert.Equal(LockKind.AsyncExclusive, importWaits.LockKind);

        Assert.True(exportWaits.IsFlow);
        Assert.Equal(exportFlow, exportWaits.ThreadId);
        Assert.Equal("i13-export", exportWaits.ThreadName);
        Assert.Equal(importFlow, exportWaits.OwnerThreadId);

        string text = cycle.ToString();
        Assert.Contains("'i13-import'", text, StringComparison.Ordinal);
        Assert.Contains("'i13-export'", text, StringComparison.Ordinal);
        Assert.Contains("'i13-dl-first'", text, StringComparison.Ordinal);
        Assert.Contains("'i13-dl-second'", text, StringComparison.Ordinal);

        await cancel.CancelAsync();
        Assert.False(await importing.WaitAsync(Guard.HangLimit));
        Assert.False(await exporting.WaitAsync(Guard.HangLimit));
        Assert.False(first.IsHeld);
        Assert.False(second.IsHeld);
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName == "i13-dl-first"));
    }
}
