using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Code outside the run (a thread, or a task with its own async flow) holds 'journal', which flow 'writer' asks for, and
/// waits, with no timeout nor token, for one permit of 'slots' while one is free: a task outside the run ('asker') queued
/// first for two, and a semaphore serves its queued async waiters first, so the waiter is held back behind it while the
/// asker waits for the permit the writer holds. Each run has a long idle period, and a test fails if the scheduler's wait
/// ran out (the decision was the clock's), so no test depends on time.
/// </summary>
public sealed class OutsideSemaphoreWaiterParkedTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // Bounds every wait of the test's own code, and the outside code's end once the run is over.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The asker's wait is untimed too: nothing can move, a deadlock the run says at once (it reads the waiter as parked
    /// though its permit is free). <paramref name="outsideFirst"/>: the waiter parks before the writer asks for the journal
    /// (else during the scheduler's idle wait for the journal's release).
    /// </summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public async Task AWaiterOutsideTheRunHeldBackFromAFreePermitByAQueuedAsyncWaiter_HoldingALockAFlowWaitsFor_IsADeadlockAtOnce(bool waiterIsTask, bool outsideFirst)
    {
        var run = RunBehindAsker(waiterIsTask, outsideFirst, CancellationToken.None, onIdle: null);

        // The verdict first: a wrong one may fail the outside code's checks too.
        var report = Assert.IsType<ControlledTestReport>(run.Result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());

        // Freed when the run unwound the writer: its permit back, the asker takes both and gives them back, then the waiter.
        await run.Outside.WaitAsync(s_guard);
        Assert.Equal(0, run.RanOut);
        Assert.Contains(new WaitForEdge("writer", "journal", null), report.Waits);
        Assert.Equal(1, run.FreeWhenWaiting);
        Assert.Equal(0, run.AskerCancelled());
    }

    /// <summary>
    /// The asker's wait has a token, cancelled once the scheduler waits for the journal's release: as it leaves, the
    /// semaphore lets the waiter behind it take the free permit, and the waiter gives the journal back. Waited for, not a
    /// deadlock (it was one at once: the waiter read as parked for good on a semaphore only the writer holds permits of).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaiterOutsideTheRunHeldBackFromAFreePermitByACancellableAsyncWaiter_IsWaitedFor_NotADeadlock(bool waiterIsTask)
    {
        using var cancel = new CancellationTokenSource();
        var run = RunBehindAsker(waiterIsTask, outsideFirst: true, cancel.Token, onIdle: cancel.Cancel);
        cancel.Cancel();

        Assert.True(run.Result.Passed, run.Result.ToString());
        await run.Outside.WaitAsync(s_guard);
        Assert.Equal(1, run.FreeWhenWaiting);
        Assert.Equal(0, run.RanOut);
        Assert.NotEqual(0, run.IdleWaits);
        Assert.Equal(1, run.AskerCancelled());
    }

    /// <summary>
    /// As above, but the asker's token is cancelled, and its wait over (its node recycled), just after the run read it as
    /// queued ahead of the waiter and before it looked at it: the run reads a node that serves no wait any more, which
    /// says the waiter may get in, and waits (it failed with a NullReferenceException from the scheduler: the recycled
    /// node names no flow).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAsyncWaiterAheadThatLeavesAsTheRunReadsIt_IsWaitedFor_NotAnError(bool waiterIsTask)
    {
        using var cancel = new CancellationTokenSource();
        Task? askerTask = null;
        int reads = 0;
        ControlledRun.WaitersAheadReadObserver = _ =>
        {
            if (Interlocked.Increment(ref reads) == 1)
            {
                cancel.Cancel();
                Assert.True(askerTask!.Wait(s_guard), "the asker did not end");
            }
        };
        BehindAskerRun run;
        try
        {
            run = RunBehindAsker(waiterIsTask, outsideFirst: true, cancel.Token, onIdle: null, onAsker: task => askerTask = task);
        }
        finally
        {
            ControlledRun.WaitersAheadReadObserver = null;
        }

        Assert.True(run.Result.Passed, run.Result.ToString());
        await run.Outside.WaitAsync(s_guard);
        Assert.Equal(1, Volatile.Read(ref reads));
        Assert.Equal(0, run.RanOut);
        Assert.Equal(1, run.AskerCancelled());
    }

    /// <summary>
    /// The asker's wait is untimed, and a task outside the run ('late') queues, with a token, behind the waiter: the
    /// semaphore serves in order, so the late one leaving cannot let the waiter in, and nothing can move: a deadlock the
    /// run says at once (it waited the whole idle period for the late one, and reported Stuck).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaiterOutsideTheRunHeldBackByAnUntimedAsyncWaiter_WithACancellableOneQueuedBehindIt_IsADeadlockAtOnce(bool waiterIsTask)
    {
        using var late = new CancellationTokenSource();
        var run = RunBehindAsker(waiterIsTask, outsideFirst: true, CancellationToken.None, onIdle: null, lateToken: late.Token);

        var report = Assert.IsType<ControlledTestReport>(run.Result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        await run.Outside.WaitAsync(s_guard);
        Assert.Equal(0, run.RanOut);
        Assert.Equal(1, run.FreeWhenWaiting);
    }

    /// <summary>
    /// Flow 'writer' takes one of the two permits of 'slots', starts the asker (queued for both, with
    /// <paramref name="askerToken"/>), then the waiter (a thread, or a task when <paramref name="waiterIsTask"/>), which
    /// takes 'journal' and then waits for one permit; then the writer asks for the journal.
    /// </summary>
    private static BehindAskerRun RunBehindAsker(
        bool waiterIsTask, bool outsideFirst, CancellationToken askerToken, Action? onIdle, CancellationToken? lateToken = null, Action<Task>? onAsker = null)
    {
        int ranOut = 0, idleWaits = 0, askerCancelled = 0, freeWhenWaiting = -1;
        var waiting = new ManualResetEventSlim();
        var idle = new ManualResetEventSlim();
        Task waiter = Task.CompletedTask, asker = Task.CompletedTask, late = Task.CompletedTask;
        CountingSemaphore? slotsSeen = null;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledRun.IdleWaitObserver = _ =>
        {
            Interlocked.Increment(ref idleWaits);
            idle.Set();
            onIdle?.Invoke();
        };

        // A thread's park, once the run heard it (a task's queuing is seen from the wait it gets back).
        ControlledRun.OutsideParkObserver = resource =>
        {
            if (ReferenceEquals(resource, slotsSeen))
            {
                waiting.Set();
            }
        };
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new ExclusiveLock("journal");
                    var asyncJournal = new AsyncExclusiveLock("journal");
                    var slots = new CountingSemaphore(2, 2, "slots");
                    slotsSeen = slots;

                    // The waiter's side, on its own thread or task, once it holds the journal. Nothing changes the count
                    // from here until the waiter's wait is seen: the writer holds one permit, the asker waits for two.
                    void BeforeWaiting()
                    {
                        if (!outsideFirst)
                        {
                            Assert.True(idle.Wait(s_guard));
                        }

                        Volatile.Write(ref freeWhenWaiting, slots.CurrentCount);
                    }

                    // Once the waiter waits: a task queued behind it for one permit, with a token that may end its wait.
                    void QueueLate()
                    {
                        if (lateToken is not { } token)
                        {
                            return;
                        }

                        using var queued = new ManualResetEventSlim();
                        using (ExecutionContext.SuppressFlow())
                        {
                            late = Task.Run(async () =>
                            {
                                var wait = slots.AcquireAsync(token);
                                Assert.False(wait.IsCompleted);
                                queued.Set();
                                (await wait).Dispose();
                            });
                        }

                        Assert.True(queued.Wait(s_guard));
                    }

                    void StartOutside(ManualResetEventSlim tookJournal)
                    {
                        using var queued = new ManualResetEventSlim();
                        using (ExecutionContext.SuppressFlow())
                        {
                            asker = Task.Run(async () =>
                            {
                                var wait = slots.AcquireAsync(2, askerToken);
                                Assert.False(wait.IsCompleted);
                                queued.Set();
                                try
                                {
                                    (await wait).Dispose();
                                }
                                catch (OperationCanceledException)
                                {
                                    Interlocked.Increment(ref askerCancelled);
                                }
                            });
                            Assert.True(queued.Wait(s_guard));
                            onAsker?.Invoke(asker);

                            if (waiterIsTask)
                            {
                                waiter = Task.Run(async () =>
                                {
                                    using (await asyncJournal.AcquireAsync())
                                    {
                                        tookJournal.Set();
                                        BeforeWaiting();
                                        // Not checked for completion: once it is queued, the run may end and free it at once.
                                        var wait = slots.AcquireAsync();
                                        waiting.Set();
                                        (await wait).Dispose();
                                    }
                                });
                                return;
                            }

                            var thread = new Thread(() =>
                            {
                                using (journal.Acquire())
                                {
                                    tookJournal.Set();
                                    BeforeWaiting();
                                    slots.Acquire().Dispose();
                                }
                            })
                            {
                                IsBackground = true,
                                Name = "journal-keeper",
                            };
                            thread.Start();
                            waiter = Task.Run(thread.Join);
                        }
                    }

                    if (waiterIsTask)
                    {
                        scenario.Flow("writer", async () =>
                        {
                            using (await slots.AcquireAsync())
                            {
                                using var tookJournal = new ManualResetEventSlim();
                                StartOutside(tookJournal);
                                Assert.True(tookJournal.Wait(s_guard));
                                Assert.True(!outsideFirst || waiting.Wait(s_guard));
                                QueueLate();
                                using (await asyncJournal.AcquireAsync())
                                {
                                }
                            }
                        });
                        return;
                    }

                    scenario.Thread("writer", () =>
                    {
                        using (slots.Acquire())
                        {
                            using var tookJournal = new ManualResetEventSlim();
                            StartOutside(tookJournal);
                            Assert.True(tookJournal.Wait(s_guard));
                            Assert.True(!outsideFirst || waiting.Wait(s_guard));
                            QueueLate();
                            using (journal.Acquire())
                            {
                            }
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
            ControlledRun.IdleWaitObserver = null;
            ControlledRun.OutsideParkObserver = null;
            idle.Set();
        }

        // Whether the asker's wait was cancelled is known once it ended (its continuation runs on the pool): read after.
        return new BehindAskerRun(
            result,
            Task.WhenAll(waiter, asker, late),
            Volatile.Read(ref ranOut),
            Volatile.Read(ref idleWaits),
            () => Volatile.Read(ref askerCancelled),
            Volatile.Read(ref freeWhenWaiting));
    }

    private readonly record struct BehindAskerRun(ControlledTestResult Result, Task Outside, int RanOut, int IdleWaits, Func<int> AskerCancelled, int FreeWhenWaiting);
}
