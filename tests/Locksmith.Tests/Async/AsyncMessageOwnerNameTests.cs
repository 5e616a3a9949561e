using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// Messages name the flow they are about: a waiter that holds nothing else keeps its activity's name in its timeout
/// and cancellation messages, and a stale scope is not blamed on the flow that uses its ownership record now.
/// </summary>
public sealed class AsyncMessageOwnerNameTests
{
    [Fact]
    public async Task ATimedOutWaiter_HoldingNothingElse_IsNamedByItsActivity()
    {
        var gate = new AsyncExclusiveLock("message-name-timeout");
        var (holder, letGo) = await HoldInAnotherFlow(gate);

        string tryOnce = await Task.Run(async () =>
        {
            using var activity = new Activity("Checkout").Start();
            var thrown = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(TimeSpan.Zero));
            return thrown.Message;
        });
        string waited = await Task.Run(async () =>
        {
            using var activity = new Activity("Checkout").Start();
            var thrown = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(TimeSpan.FromMilliseconds(1)));
            return thrown.Message;
        });

        letGo.SetResult();
        await holder;

        Assert.StartsWith("Flow #", tryOnce, StringComparison.Ordinal);
        Assert.Contains("('Checkout')", tryOnce, StringComparison.Ordinal);
        Assert.Contains("('Checkout')", waited, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASemaphoreTryOnceTimeout_HoldingNothingElse_IsNamedByItsActivity()
    {
        // The semaphore's try-once gave the flow's reservation back before building its message, so a flow holding
        // nothing else had already lost its activity's name; its timed wait and every lock's try-once kept it.
        var slots = new CountingSemaphore(0, 1, "message-name-semaphore");

        string tryOnce = await Task.Run(async () =>
        {
            using var activity = new Activity("Checkout").Start();
            var thrown = await Assert.ThrowsAsync<LockTimeoutException>(async () => await slots.AcquireAsync(TimeSpan.Zero));
            return thrown.Message;
        });
        string waited = await Task.Run(async () =>
        {
            using var activity = new Activity("Checkout").Start();
            var thrown = await Assert.ThrowsAsync<LockTimeoutException>(async () => await slots.AcquireAsync(TimeSpan.FromMilliseconds(1)));
            return thrown.Message;
        });

        Assert.Contains("('Checkout')", waited, StringComparison.Ordinal);
        Assert.Contains("('Checkout')", tryOnce, StringComparison.Ordinal);
        Assert.Equal(0, slots.CurrentCount);
    }

    /// <summary>
    /// A copy of a scope disposed after the same context took the lock again (its ownership record is reused): the
    /// message says a later hold has it, not that the scope's flow holds it while the scope's flow no longer does.
    /// </summary>
    [Fact]
    public async Task AStaleScopeCopy_AfterTheSameContextTookTheLockAgain_IsToldALaterHoldHasIt()
    {
        var gate = new AsyncExclusiveLock("message-name-stale-copy");
        await AStaleCopyIsToldALaterHoldHasIt(gate.Name, () => gate.AcquireAsync(), () => gate.IsHeldByCurrentFlow);
    }

    /// <summary>The same for a write scope of an async read-write lock.</summary>
    [Fact]
    public async Task AStaleWriteScopeCopy_AfterTheSameContextWroteAgain_IsToldALaterHoldHasIt()
    {
        var gate = new AsyncReadWriteLock("message-name-stale-write");
        await AStaleCopyIsToldALaterHoldHasIt(gate.Name, () => gate.AcquireWriteAsync(), () => gate.IsWriteHeldByCurrentFlow);
    }

    /// <summary>
    /// Takes the lock, disposes the scope, takes it again in the same frame (the same flow record), then disposes a copy
    /// of the first scope: the message names the lock and a later hold, and the second hold is untouched.
    /// </summary>
    private static async Task AStaleCopyIsToldALaterHoldHasIt(string name, Func<ValueTask<AsyncLockScope>> acquire, Func<bool> heldByCurrentFlow)
    {
        var first = await acquire();
        var copy = first;
        first.Dispose();
        using var second = await acquire();

        var thrown = Assert.Throws<SynchronizationLockException>(() => copy.Dispose());

        Assert.Contains($"'{name}'", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("a later hold of flow #", thrown.Message, StringComparison.Ordinal);
        Assert.True(heldByCurrentFlow());
    }

    [Fact]
    public async Task ACancelledWaiter_HoldingNothingElse_IsNamedByItsActivity()
    {
        var gate = new AsyncExclusiveLock("message-name-cancel");
        var (holder, letGo) = await HoldInAnotherFlow(gate);

        string message = await Task.Run(async () =>
        {
            using var activity = new Activity("Checkout").Start();
            using var cancellation = new CancellationTokenSource();
            var waiting = gate.AcquireAsync(cancellation.Token);
            Assert.False(waiting.IsCompleted);
            cancellation.Cancel();
            var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
            return thrown.Message;
        });

        letGo.SetResult();
        await holder;

        Assert.Contains("('Checkout')", message, StringComparison.Ordinal);
        Assert.Equal(0, gate.WaitingCount);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void AStaleScope_IsNotBlamedOnTheFlowThatUsesItsRecordNow()
    {
        var gate = new AsyncExclusiveLock("message-name-stale");
        var other = new AsyncExclusiveLock("message-name-other");
        var scopes = new AsyncLockScope[1];
        string? message = null;
        var thread = new Thread(() =>
        {
            // One thread, so every flow below draws on the same cache of idle ownership records.
            RunAsActivity("ImportOrders", () =>
            {
                scopes[0] = gate.AcquireAsync().AsTask().GetAwaiter().GetResult();
                scopes[0].Dispose();
            });

            // Four more flows of their own fill the cache and then take ImportOrders' record: the last holds 'other'.
            for (int i = 0; i < 3; i++)
            {
                RunAsActivity("Filler" + i, () => gate.AcquireAsync().AsTask().GetAwaiter().GetResult().Dispose());
            }

            RunAsActivity("Checkout", () =>
            {
                using var checkout = other.AcquireAsync().AsTask().GetAwaiter().GetResult();
                message = Assert.Throws<SynchronizationLockException>(() => scopes[0].Dispose()).Message;
            });
        });
        thread.Start();
        thread.Join();

        // The disposing flow is Checkout, and says so; the scope's flow is named by its id alone.
        Assert.NotNull(message);
        Assert.StartsWith("Flow #", message, StringComparison.Ordinal);
        Assert.Contains("('Checkout') (on thread", message, StringComparison.Ordinal);
        Assert.Matches(@"through a scope of flow #\d+ that no longer holds it", message);
        Assert.False(gate.IsHeld);
        Assert.False(other.IsHeld);
    }

    // A flow of its own: its own execution context, with the activity current in it.
    private static void RunAsActivity(string name, Action body)
    {
        var context = ExecutionContext.Capture()!;
        ExecutionContext.Run(context, _ =>
        {
            using var activity = new Activity(name).Start();
            body();
        }, null);
    }

    // Another flow takes the lock and keeps it until told to let go; it releases in its own flow.
    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    public async Task AnAsyncExclusiveLocksTimeout_NamesTheHolderFlowItsEventNamed_EvenIfTheHolderLeftDuringTheEvent(int timeoutMs)
    {
        // Before, the event named the holding flow and the exception read the holder again after the event's handler:
        // a holder gone by then made it say "held in a shared mode or released as the wait ended" with OwnerThreadId 0,
        // of an exclusive lock whose event had just named the holder.
        using var policy = Support.PolicyScope.Capture();
        var gate = new AsyncExclusiveLock("message-holder-left-" + timeoutMs);
        var holder = await Support.HolderLeavingOnTimeout.TakeAsync(gate);

        var ex = await Task.Run(async () =>
        {
            using var activity = new Activity("Waiter").Start();
            return await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(TimeSpan.FromMilliseconds(timeoutMs)));
        });

        var timeout = holder.Timeout;
        Assert.NotNull(timeout);
        Assert.False(gate.IsHeld);
        Assert.StartsWith("flow #", timeout.OwnerThreadName, StringComparison.Ordinal);
        Assert.Contains("('Holder')", timeout.OwnerThreadName, StringComparison.Ordinal);
        Assert.Equal(timeout.OwnerThreadId, ex.OwnerThreadId);
        Assert.Equal(timeout.OwnerThreadName, ex.OwnerThreadName);
        Assert.Equal(timeout.Waited, ex.Waited);
        Assert.Contains($"timed out after {timeout.Waited.TotalMilliseconds.ToString("0.#", System.Globalization.CultureInfo.CurrentCulture)} ms", ex.Message, StringComparison.Ordinal);
        Assert.Contains("('Waiter')", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"access to '{gate.Name}', held by {timeout.OwnerThreadName}.", ex.Message, StringComparison.Ordinal);
    }

    private static async Task<(Task Holder, TaskCompletionSource LetGo)> HoldInAnotherFlow(AsyncExclusiveLock gate)
    {
        var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(async () =>
        {
            using (await gate.AcquireAsync())
            {
                taken.SetResult();
                await letGo.Task;
            }
        });
        await taken.Task;
        return (holder, letGo);
    }
}
