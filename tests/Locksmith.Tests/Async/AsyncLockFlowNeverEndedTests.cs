using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// What a claim <see cref="AsyncLockFlow.Begin"/> made and nobody ended does (the scope dropped, or its Dispose skipped by
/// an exception): the claim's hold is never given back, so the flow stays claimed for as long as a context carrying it
/// lives. An async method's frame ends with the method, but a synchronous method's claim lands in its caller's frame, and
/// everything that frame starts afterwards is one flow; each never-ended claim also costs a record of its own. LSM0059
/// reports the code that leaves a claim unended.
/// </summary>
public sealed class AsyncLockFlowNeverEndedTests
{
    // The scope dropped: what LSM0059 reports.
    private static void BeginAndDrop() => AsyncLockFlow.Begin();

    private static void BeginThenThrow()
    {
        var flow = AsyncLockFlow.Begin();
        Fail();
        flow.Dispose();
    }

    private static void Fail() => throw new InvalidOperationException("before the Dispose");

    private static async Task BeginAndDropAsync()
    {
        AsyncLockFlow.Begin();
        await Task.CompletedTask;
    }

    private static async Task BeginAndEndAsync()
    {
        using var flow = AsyncLockFlow.Begin();
        await Task.CompletedTask;
    }

    [Fact]
    public async Task AClaimDroppedInASynchronousMethod_StaysInTheCaller_WhoseLaterTasksAreOneFlow()
    {
        var ledger = new AsyncExclusiveLock("never-ended-dropped");

        // In a frame of its own (an async lambda), so the claim it leaves ends with it, not with the test.
        await Task.Run(async () =>
        {
            BeginAndDrop();
            await AssertLaterTasksAreOneFlow(ledger);
        });

        Assert.False(ledger.IsHeld);
    }

    [Fact]
    public async Task AClaimWhoseDisposeAnExceptionSkipped_StaysInTheCatchingCaller_WhoseLaterTasksAreOneFlow()
    {
        var ledger = new AsyncExclusiveLock("never-ended-thrown");
        await Task.Run(async () =>
        {
            Assert.Throws<InvalidOperationException>(BeginThenThrow);
            await AssertLaterTasksAreOneFlow(ledger);
        });

        Assert.False(ledger.IsHeld);
    }

    /// <summary>
    /// An async method's frame takes its context with it, so its caller is not claimed; but the record its claim took is
    /// never given back to the thread's cache, so each such call claims a new one (a record, its views and a context),
    /// where a claim that ends allocates nothing.
    /// </summary>
    [Fact]
    public async Task AClaimDroppedInAnAsyncMethod_LeavesTheCallerUnclaimed_ButEachCallAllocatesARecord()
    {
        const int Calls = 1_000;
        for (int i = 0; i < 100; i++)
        {
            await BeginAndEndAsync();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            // Completes synchronously: the loop stays on this thread.
            await BeginAndEndAsync();
        }

        // What the calls cost besides the claims (a Debug build's state machine is a class).
        long ended = GC.GetAllocatedBytesForCurrentThread() - before;

        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            await BeginAndDropAsync();
        }

        long dropped = GC.GetAllocatedBytesForCurrentThread() - before;

        // At least the 128-byte padding each new record carries.
        Assert.True(dropped - ended >= Calls * 128L, $"{Calls} dropped claims allocated {dropped} B, {Calls} ended ones {ended} B");

        var ledger = new AsyncExclusiveLock("never-ended-async");
        var scope = await Task.Run(async () => await ledger.AcquireAsync());
        Assert.False(ledger.IsHeldByCurrentFlow);
        scope.Dispose();
        Assert.False(ledger.IsHeld);
    }

    /// <summary>
    /// In a frame whose claim was never ended, a lock a task started later takes is held by the frame, and a second task
    /// asking for it is the same flow asking again: it throws <see cref="LockRecursionException"/> instead of waiting.
    /// </summary>
    private static async Task AssertLaterTasksAreOneFlow(AsyncExclusiveLock ledger)
    {
        var scope = await Task.Run(async () => await ledger.AcquireAsync());
        Assert.True(ledger.IsHeldByCurrentFlow);
        await Assert.ThrowsAsync<LockRecursionException>(() => Task.Run(async () => await ledger.AcquireAsync(Guard.HangLimit)));
        scope.Dispose();
    }

    private static async Task<AsyncLockFlowScope> BeginAfterSetUpAsync()
    {
        await Task.Yield();
        return AsyncLockFlow.Begin();
    }

    private static async Task<AsyncLockScope> TakeInHelperAsync(AsyncExclusiveLock target)
    {
        await Task.Yield();
        return await target.AcquireAsync();
    }

    /// <summary>
    /// A claim an async method makes and returns (the ground for LSM0062): it lives in that method's own frame, whose
    /// context never flows back, so the caller's frame carries nothing of it and a helper's lock is not the caller's.
    /// </summary>
    [Fact]
    public async Task AClaimAnAsyncMethodMakesAndReturns_DoesNotReachItsCaller()
    {
        var ledger = new AsyncExclusiveLock("claim-returned-by-async");
        using (var flow = await BeginAfterSetUpAsync())
        {
            Assert.NotEqual(0, flow.FlowId);
            using (await TakeInHelperAsync(ledger))
            {
                Assert.False(ledger.IsHeldByCurrentFlow);
            }
        }

        // The same helper after a claim made in this frame: the caller's.
        using (AsyncLockFlow.Begin())
        {
            using (await TakeInHelperAsync(ledger))
            {
                Assert.True(ledger.IsHeldByCurrentFlow);
            }
        }

        Assert.False(ledger.IsHeld);
    }
}
