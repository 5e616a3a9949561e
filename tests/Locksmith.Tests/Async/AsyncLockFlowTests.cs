using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// <see cref="AsyncLockFlow.Begin"/>: a lock a helper takes is held by the caller's flow, with everything that ownership
/// gives (the query, fail-fast re-entry, the global order, the deadlock detector), even when the caller held nothing.
/// </summary>
public sealed class AsyncLockFlowTests
{
    private static async Task<AsyncLockScope> TakeInHelper(AsyncExclusiveLock target)
    {
        await Task.Yield();
        return await target.AcquireAsync();
    }

    [Fact]
    public async Task ALockTakenInAHelper_IsHeldByTheCaller_OnlyWhenTheCallerBeganItsFlow()
    {
        var ledger = new AsyncExclusiveLock("flow-helper-ledger");

        // Without a begun flow the helper's ownership ends with the helper (the documented limitation).
        using (await TakeInHelper(ledger))
        {
            Assert.False(ledger.IsHeldByCurrentFlow);
        }

        using (AsyncLockFlow.Begin())
        {
            using (await TakeInHelper(ledger))
            {
                Assert.True(ledger.IsHeldByCurrentFlow);
                await Task.Yield();
                Assert.True(ledger.IsHeldByCurrentFlow);
                Assert.True(await Task.Run(() => ledger.IsHeldByCurrentFlow));
            }

            Assert.False(ledger.IsHeldByCurrentFlow);
            Assert.False(ledger.IsHeld);
        }
    }

    [Fact]
    public async Task AskingAgainForALockAHelperTook_ThrowsAtOnce_InsteadOfWaitingForItself()
    {
        var ledger = new AsyncExclusiveLock("flow-helper-reentry");
        using (AsyncLockFlow.Begin())
        {
            using var held = await TakeInHelper(ledger);

            // A timeout far beyond the test's: a wait for itself would fail the test by hanging, not by a wrong verdict.
            var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await ledger.AcquireAsync(Guard.HangLimit));
            Assert.Contains("flow-helper-reentry", error.Message, StringComparison.Ordinal);
            Assert.True(ledger.IsHeldByCurrentFlow);
        }

        Assert.False(ledger.IsHeld);
    }

    [Fact]
    public async Task TheGlobalOrder_SeesALockAHelperTook()
    {
        var outer = new AsyncExclusiveLock("flow-helper-level-20", level: 20);
        var inner = new AsyncExclusiveLock("flow-helper-level-10", level: 10);
        using (AsyncLockFlow.Begin())
        {
            using var held = await TakeInHelper(outer);
            var error = await Assert.ThrowsAsync<LockOrderViolationException>(async () => await inner.AcquireAsync());
            Assert.Contains("flow-helper-level-10", error.Message, StringComparison.Ordinal);
            Assert.Contains("flow-helper-level-20", error.Message, StringComparison.Ordinal);
        }

        Assert.False(inner.IsHeld);
        Assert.False(outer.IsHeld);
    }

    [Fact]
    public async Task ADeadlockThroughHoldsHelpersTook_IsFoundWithBothFlows_ThenCancellationEndsIt()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var first = new AsyncExclusiveLock("flow-helper-first", level: 1);
        var second = new AsyncExclusiveLock("flow-helper-second", level: 2);
        var bothHoldOne = new CountdownEvent(2);
        using var cancel = new CancellationTokenSource();

        async Task<bool> Flow(AsyncExclusiveLock mine, AsyncExclusiveLock theirs)
        {
            using var flow = AsyncLockFlow.Begin();
            using var held = await TakeInHelper(mine);
            bothHoldOne.Signal();
            await Task.Run(() => bothHoldOne.Wait(Guard.HangLimit));
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

        var a = Task.Run(() => Flow(first, second));
        var b = Task.Run(() => Flow(second, first));

        DeadlockCycle? cycle = null;
        Guard.SpinUntil(() =>
        {
            cycle = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == "flow-helper-first"));
            return cycle is not null;
        });

        Assert.Equal(2, cycle!.Edges.Count);
        Assert.All(cycle.Edges, edge => Assert.True(edge.IsFlow));
        Assert.Equal(["flow-helper-first", "flow-helper-second"], cycle.Edges.Select(e => e.LockName).Order().ToArray());

        cancel.Cancel();
        Assert.False(await a);
        Assert.False(await b);
        Assert.False(first.IsHeld);
        Assert.False(second.IsHeld);
    }

    [Fact]
    public async Task TheScopeDisposedTwice_Throws_AndTakesNothingFromTheFlow()
    {
        var ledger = new AsyncExclusiveLock("flow-twice-ledger");
        var flow = AsyncLockFlow.Begin();
        Assert.NotEqual(0, flow.FlowId);
        var copy = flow;
        using var held = await TakeInHelper(ledger);
        Assert.Equal(flow.FlowId, ledger.HolderFlowId);

        flow.Dispose();

        // The helper's hold keeps the flow's claim: the lock is still this flow's.
        Assert.True(ledger.IsHeldByCurrentFlow);
        var error = Assert.Throws<SynchronizationLockException>(() => copy.Dispose());
        Assert.Contains($"#{flow.FlowId - (1 << 30)}", error.Message, StringComparison.Ordinal);
        Assert.Contains("disposed before", error.Message, StringComparison.Ordinal);
        Assert.True(ledger.IsHeldByCurrentFlow);
        Assert.Equal(flow.FlowId, ledger.HolderFlowId);
    }

    /// <summary>
    /// A scope disposed again after its claim ended, while a later claim of the same record (its views come round every
    /// few claims on one context) has a begun flow of its own: it throws and leaves that claim alone.
    /// </summary>
    [Fact]
    public async Task AStaleScopeDisposedAgain_DuringALaterBegunFlow_Throws_AndEndsNothingOfIt()
    {
        var ledger = new AsyncExclusiveLock("flow-stale-ledger");
        var stale = AsyncLockFlow.Begin();
        stale.Dispose();

        // More claims than the record has views, so one of them is made live through the stale scope's view again.
        for (int i = 0; i < 8; i++)
        {
            var live = AsyncLockFlow.Begin();
            using (await ledger.AcquireAsync())
            {
                Assert.Equal(live.FlowId, ledger.HolderFlowId);
                Assert.Throws<SynchronizationLockException>(() => stale.Dispose());
                Assert.True(ledger.IsHeldByCurrentFlow);
            }

            live.Dispose();
        }

        Assert.False(ledger.IsHeld);
    }

    [Fact]
    public async Task AFlowBegunAndEndedWithNothingTaken_LeavesNothingHeld_AndLaterTasksAreFlowsOfTheirOwn()
    {
        var ledger = new AsyncExclusiveLock("flow-empty-ledger");
        using (AsyncLockFlow.Begin())
        {
            Assert.False(ledger.IsHeldByCurrentFlow);
        }

        // Ended: a lock taken in a task started now is not this frame's.
        var scope = await Task.Run(async () => await ledger.AcquireAsync());
        Assert.True(ledger.IsHeld);
        Assert.False(ledger.IsHeldByCurrentFlow);
        scope.Dispose();
        Assert.False(ledger.IsHeld);
        default(AsyncLockFlowScope).Dispose();
    }

    [Fact]
    public void BeginningAndEndingAFlow_OnAContextClaimedBefore_AllocatesNothing()
    {
        for (int i = 0; i < 100; i++)
        {
            AsyncLockFlow.Begin().Dispose();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            AsyncLockFlow.Begin().Dispose();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
