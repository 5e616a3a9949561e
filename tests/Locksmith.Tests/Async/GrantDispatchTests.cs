using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// A caller blocking on the ValueTask of a queued wait (a misuse the wait answers by withdrawing itself) while the lock is
/// released to that very wait: whichever comes first, the caller gets the hold or is told the wait was withdrawn, and the
/// lock is never left granted to nobody. (Completing grants from a work item of their own, tried for contended
/// throughput, opened such a window between the grant and its completion; this test caught it.)
/// </summary>
public sealed class GrantDispatchTests
{
    [Fact]
    public async Task ABlockingReadOfAWaitGrantedAtThatMoment_GetsTheHoldOrIsToldItWasWithdrawn_AndTheLockIsNeverLost()
    {
        var gate = new AsyncExclusiveLock("grant-dispatch-race");
        int granted = 0;
        int withdrawn = 0;
        using var start = new Barrier(2);
        for (int round = 0; round < 3_000; round++)
        {
            var held = await gate.AcquireAsync();

            // A flow of its own queues behind the holder (flow suppressed: not a task of the holder's flow).
            Task<ValueTask<AsyncLockScope>> queueing;
            using (ExecutionContext.SuppressFlow())
            {
                queueing = Task.Run(() => gate.AcquireAsync());
            }

            var waiting = await queueing;

            Assert.Equal(1, gate.WaitingCount);
            var release = Task.Run(() =>
            {
                start.SignalAndWait();
                held.Dispose();
            });

            var read = Task.Run(() =>
            {
                start.SignalAndWait();
                try
                {
                    // Before the grant: withdrawn. After it, with its work item run or not: the hold.
                    waiting.GetAwaiter().GetResult().Dispose();
                    return true;
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("The wait was withdrawn", StringComparison.Ordinal))
                {
                    return false;
                }
            });

            if (await read)
            {
                granted++;
            }
            else
            {
                withdrawn++;
            }

            await release;
            Assert.False(gate.IsHeld);
            Assert.Equal(0, gate.WaitingCount);
        }

        Assert.Equal(3_000, granted + withdrawn);
    }

    [Fact]
    public async Task AWaitGrantedUnderAGate_CompletesOnlyOnceTheReleasingThreadLeftItsLastGate()
    {
        var gate = new AsyncExclusiveLock("grant-deferred");
        var held = await gate.AcquireAsync();
        var waiting = await QueueAsAnotherFlow(gate);
        var outerGate = new Lock();

        bool completedUnderTheGate = true;
        bool completedAfterIt = false;
        RunOnThread(() =>
        {
            using (GateEntry.Enter(outerGate))
            {
                held.Dispose();
                completedUnderTheGate = waiting.IsCompleted;
            }

            completedAfterIt = waiting.IsCompleted;
        });

        Assert.False(completedUnderTheGate);
        Assert.True(completedAfterIt);
        Assert.Equal(0, gate.WaitingCount);
        (await waiting).Dispose();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public async Task ABlockingReadOfAWaitGrantedButNotYetCompleted_WaitsForItsCompletionAndGetsTheHold()
    {
        var gate = new AsyncExclusiveLock("grant-deferred-blocking-read");
        var held = await gate.AcquireAsync();
        var waiting = await QueueAsAnotherFlow(gate);
        var node = gate.FirstWaiterForTests!;
        var outerGate = new Lock();
        using var granted = new ManualResetEventSlim();
        using var readerSpinning = new ManualResetEventSlim();
        using var readerDone = new ManualResetEventSlim();
        AsyncWaitNode.SpinningOnDecidedWaitForTests = spinning =>
        {
            if (ReferenceEquals(spinning, node))
            {
                readerSpinning.Set();
            }
        };

        try
        {
            Exception? readFailure = null;
            bool readGotTheHold = false;
            var reader = new Thread(() =>
            {
                granted.Wait();
                try
                {
                    waiting.GetAwaiter().GetResult().Dispose();
                    readGotTheHold = true;
                }
                catch (Exception ex)
                {
                    readFailure = ex;
                }
                finally
                {
                    readerDone.Set();
                }
            });
            reader.Start();

            bool completedUnderTheGate = false;
            bool readerEndedUnderTheGate = false;
            RunOnThread(() =>
            {
                using (GateEntry.Enter(outerGate))
                {
                    held.Dispose();
                    completedUnderTheGate = waiting.IsCompleted;
                    granted.Set();

                    // The reader finds the wait granted and its task not completed: it must wait for it (spinning), not
                    // withdraw it or fail. Were the task completed already, the reader would simply end.
                    WaitHandle.WaitAny([readerSpinning.WaitHandle, readerDone.WaitHandle]);
                    readerEndedUnderTheGate = readerDone.IsSet;
                }
            });

            reader.Join();
            Assert.False(completedUnderTheGate);
            Assert.False(readerEndedUnderTheGate);
            Assert.Null(readFailure);
            Assert.True(readGotTheHold);
            Assert.False(gate.IsHeld);
            Assert.Equal(0, gate.WaitingCount);
        }
        finally
        {
            AsyncWaitNode.SpinningOnDecidedWaitForTests = null;
        }
    }

    // A flow of its own queues behind the holder (flow suppressed: not a task of the holder's flow).
    private static async Task<ValueTask<AsyncLockScope>> QueueAsAnotherFlow(AsyncExclusiveLock gate)
    {
        Task<ValueTask<AsyncLockScope>> queueing;
        using (ExecutionContext.SuppressFlow())
        {
            queueing = Task.Run(() => gate.AcquireAsync());
        }

        var waiting = await queueing;
        Assert.Equal(1, gate.WaitingCount);
        Assert.False(waiting.IsCompleted);
        return waiting;
    }

    // Gates are per thread: a thread of its own holds the outer gate, so no pool thread's gate depth is touched.
    private static void RunOnThread(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("The releasing thread failed.", failure);
        }
    }
}
