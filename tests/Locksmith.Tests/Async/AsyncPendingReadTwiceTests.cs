using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// Further reads of a queued acquisition's <c>ValueTask</c> made while it waits (awaited twice, <c>.AsTask()</c>
/// twice): the first read gets the hold, every other read fails with the "read already" message, and none ends the
/// process or the wait.
/// </summary>
public sealed class AsyncPendingReadTwiceTests
{
    [Fact]
    public async Task ASecondReadOfAPendingAcquisition_FailsThatRead_AndTheFirstReadStillGetsTheHold()
    {
        // Before, a second .AsTask() threw the runtime's bare "Operation is not valid due to the current state of the
        // object.", and a second await threw it from the awaiting method's builder, which rethrows it on the thread pool:
        // the process ended.
        var gate = new AsyncExclusiveLock("pending-read-twice");
        var holder = await HeldByAnotherFlow.StartAsync(gate);
        var queued = gate.AcquireAsync();
        var first = queued.AsTask();

        var second = queued.AsTask();
        var awaitedAgain = AwaitAgain(queued);

        Assert.False(second.IsCompleted);
        Assert.False(awaitedAgain.IsCompleted);
        Assert.Equal(1, gate.WaitingCount);
        await holder.ReleaseAsync();
        var scope = await first.WaitAsync(Guard.HangLimit);
        Assert.True(scope.IsAcquired);
        foreach (var again in new[] { second, awaitedAgain })
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => again.WaitAsync(Guard.HangLimit));
            Assert.Contains("read the ValueTask of an async lock acquisition that was read already", error.Message, StringComparison.Ordinal);
        }

        Assert.True(gate.IsHeld);
        scope.Dispose();
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
    }

    [Fact]
    public async Task AsTaskThenABlockingRead_OfAPendingAcquisition_WithdrawsTheWait_AndTheTaskIsToldItWasReadAlready()
    {
        // Before, the blocking read withdrew the wait and recycled its node; .AsTask()'s completion callback then asked
        // the node for the status of the old token, which threw outside any try on the thread pool: the process ended.
        var gate = new AsyncExclusiveLock("pending-astask-then-result");
        var holder = await HeldByAnotherFlow.StartAsync(gate);
        for (int round = 0; round < 50; round++)
        {
            var queued = gate.AcquireAsync();
            var asTask = queued.AsTask();
            var blocked = Assert.Throws<InvalidOperationException>(() => queued.GetAwaiter().GetResult());
            Assert.Contains("The wait was withdrawn; nothing is held", blocked.Message, StringComparison.Ordinal);
            var read = await Assert.ThrowsAsync<InvalidOperationException>(() => asTask.WaitAsync(Guard.HangLimit));
            Assert.Contains("that was read already", read.Message, StringComparison.Ordinal);
            Assert.Equal(0, gate.WaitingCount);
        }

        await holder.ReleaseAsync();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public async Task ManyReadsOfOnePermitWait_RacingItsGrant_OneGetsThePermits_EveryOtherFails_AndNoneEndsTheWait()
    {
        var slots = new CountingSemaphore(0, 3, "pending-read-many");
        for (int round = 0; round < 300; round++)
        {
            var queued = slots.AcquireAsync(2);
            Assert.Equal(1, slots.QueuedAsyncWaiterCount);
            var first = queued.AsTask();

            // More reads from another thread while a third grants the wait: each registers before the grant, between
            // the grant and the first read, or after it (a read of a completed or recycled wait is told at once).
            var registering = Task.Run(() => Enumerable.Range(0, 3).Select(_ => ReadAgain(queued)).ToArray());
            var releasing = Task.Run(() => slots.Release(2));
            var others = await registering.WaitAsync(Guard.HangLimit);
            await releasing.WaitAsync(Guard.HangLimit);

            int held = 0;
            foreach (var read in others.Prepend(first))
            {
                var outcome = await Record.ExceptionAsync(async () =>
                {
                    var scope = await read.WaitAsync(Guard.HangLimit);
                    held++;
                    scope.Dispose();
                });
                Assert.True(outcome is null or InvalidOperationException, $"round {round}: {outcome}");
            }

            Assert.Equal(1, held);
            Assert.Equal(2, slots.CurrentCount);
            Assert.Equal(0, slots.QueuedAsyncWaiterCount);
            TakeForGood(slots, 2);
        }
    }

    private static Task<AsyncLockScope> ReadAgain(ValueTask<AsyncLockScope> queued)
    {
        try
        {
            return queued.AsTask();
        }
        catch (InvalidOperationException error)
        {
            return Task.FromException<AsyncLockScope>(error);
        }
    }

    [Fact]
    public async Task SecondAwaits_RacingAGrantACancellationAndATimeout_OneReadGetsTheOutcome_AndTheLockEndsFree()
    {
        // Each round: a queued wait read by an await and by a second await (and a third .AsTask()), while another thread
        // releases the lock, cancels the token, or lets the wait time out, at once. Exactly one read gets the wait's
        // outcome (the hold, an empty scope, or the cancellation); the others are told the wait was read already.
        var gate = new AsyncExclusiveLock("pending-read-race");
        var random = new Random(20_261_205);
        for (int round = 0; round < 200; round++)
        {
            var holder = await HeldByAnotherFlow.StartAsync(gate);
            using var cancel = new CancellationTokenSource();
            int ending = random.Next(3);
            var queued = gate.TryAcquireAsync(ending == 2 ? TimeSpan.FromMilliseconds(1) : Guard.HangLimit, cancel.Token);
            var reads = new[] { AwaitAgain(queued), AwaitAgain(queued), ReadAgain(queued) };
            var ended = Task.Run(async () =>
            {
                if (ending == 0)
                {
                    await holder.ReleaseAsync();
                }
                else if (ending == 1)
                {
                    await cancel.CancelAsync();
                }
            });

            int outcomes = 0;
            foreach (var read in reads)
            {
                try
                {
                    var scope = await read.WaitAsync(Guard.HangLimit);
                    outcomes++;
                    scope.Dispose();
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    outcomes++;
                }
                catch (InvalidOperationException error)
                {
                    Assert.Contains("that was read already", error.Message, StringComparison.Ordinal);
                }
            }

            await ended.WaitAsync(Guard.HangLimit);
            await holder.ReleaseAsync().WaitAsync(Guard.HangLimit);
            Assert.Equal(1, outcomes);
            Assert.False(gate.IsHeld, $"round {round}");
            Assert.Equal(0, gate.WaitingCount);
        }
    }

    /// <summary>Takes permits and keeps them, so the next round's wait queues again.</summary>
    private static void TakeForGood(CountingSemaphore slots, int count) => Assert.True(slots.TryAcquire(count, out _));

    private static async Task<AsyncLockScope> AwaitAgain(ValueTask<AsyncLockScope> queued) => await queued;
}
