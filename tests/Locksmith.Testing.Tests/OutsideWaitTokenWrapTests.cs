using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The run knows an async wait outside it by its node and the node's task, whose token is 16 bits: a node that served
/// 65,536 waits since carries the same token again. A wait of the run recorded then, long over, must not read as the
/// node's current wait, which may be on another lock (here one of no run, which code outside it gives back in real time).
/// </summary>
public sealed class OutsideWaitTokenWrapTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // Bounds every wait of the test's own code, and the outside thread's end once the run is over.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    // Waits between the recorded one and the last, each on the same pooled node, whose token moves on by one a wait: the
    // last is the 65,536th after the recorded one.
    private const int WaitsBetween = ushort.MaxValue;

    /// <summary>
    /// A thread outside the run queues on 'slots' (untimed; the writer holds its permit) and withdraws, takes 'journal',
    /// then waits on a semaphore of no run 65,535 times (granted at once, on the node the first wait used) and once more,
    /// ended only when the scheduler waits idle: on that semaphore (its permit given then), or, when
    /// <paramref name="lastOnSlotsForAnotherFlow"/>, on 'slots' for another async flow of that thread, with a token
    /// (cancelled then). Flow 'writer' then asks for the journal: the thread waits for what ends in real time, so the run
    /// waits for it; it is no deadlock. It was one at once: the last wait had the first one's token, and the thread read as
    /// queued for good on 'slots' behind the writer.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnOutsideWaitOnANodeWhoseTokenCameRound_IsNotTakenForTheRunsWaitItOnceServed(bool lastOnSlotsForAnotherFlow)
    {
        int ranOut = 0, idleWaits = 0, released = 0;
        var other = new CountingSemaphore(0, 1, "not-of-the-run");
        var ready = new ManualResetEventSlim();
        using var cancel = new CancellationTokenSource();
        Exception? outsideError = null;
        Thread? outside = null;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledRun.IdleWaitObserver = _ =>
        {
            Interlocked.Increment(ref idleWaits);
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                other.Release();
                cancel.Cancel();
            }
        };
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new AsyncExclusiveLock("journal");
                    var slots = new CountingSemaphore(1, 1, "slots");
                    scenario.Flow("writer", async () =>
                    {
                        using (await slots.AcquireAsync())
                        {
                            using (ExecutionContext.SuppressFlow())
                            {
                                outside = new Thread(() =>
                                {
                                    try
                                    {
                                        WaitsOutside(slots, journal, other, lastOnSlotsForAnotherFlow ? cancel.Token : null, ready);
                                    }
                                    catch (Exception error)
                                    {
                                        outsideError = error;
                                        ready.Set();
                                    }
                                })
                                {
                                    IsBackground = true,
                                    Name = "journal-keeper",
                                };
                                outside.Start();
                            }

                            Assert.True(ready.Wait(s_guard));
                            using (await journal.AcquireAsync())
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
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                other.Release();
                cancel.Cancel();
            }
        }

        Assert.True(await Task.Run(() => outside!.Join(s_guard)));
        Assert.True(result.Passed, result.ToString());
        Assert.Null(outsideError);
        Assert.Equal(0, Volatile.Read(ref ranOut));

        // Waited for in real time (an idle wait may begin again on a wake-up that freed nothing yet: not counted exactly).
        Assert.NotEqual(0, Volatile.Read(ref idleWaits));
    }

    /// <summary>
    /// The thread outside the run takes 'journal', queues on 'ledger' (untimed; the writer holds it) and withdraws, waits
    /// 65,535 times on a semaphore of no run, and then, in the same async flow, on 'ledger' again: the recorded wait's
    /// node, token, owner and lock, but timed (<paramref name="timed"/>) or with a token. (On a semaphore the acquisition
    /// under way counts as one that may take a permit until it was recorded, which hides the same mistake.) That wait is held after it queued and before the run
    /// recorded it, while flow 'writer' asks for the journal: the wait may end, so the run waits (idle), and then the
    /// thread withdraws it and gives the journal back. It was a deadlock at once: the run read the recorded wait's flag
    /// (untimed, no token) for the new wait.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ASameFlowsLaterWaitOnTheSameLockThatMayEnd_NotYetRecorded_IsWaitedFor(bool timed)
    {
        int ranOut = 0, idleWaits = 0, told = 0;
        var other = new CountingSemaphore(0, 1, "not-of-the-run");
        var ready = new ManualResetEventSlim();
        using var letGo = new ManualResetEventSlim();
        using var never = new CancellationTokenSource();
        Exception? outsideError = null;
        Thread? outside = null;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledRun.IdleWaitObserver = _ =>
        {
            Interlocked.Increment(ref idleWaits);
            letGo.Set();
        };

        // The second wait the run is told of is the last one: held until the run waits idle.
        ControlledRun.OutsideQueuedObserver = _ =>
        {
            if (Interlocked.Increment(ref told) == 2)
            {
                ready.Set();
                Assert.True(letGo.Wait(s_guard), "the run did not wait");
            }
        };
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new AsyncExclusiveLock("journal");
                    var ledger = new AsyncExclusiveLock("ledger");
                    scenario.Flow("writer", async () =>
                    {
                        using (await ledger.AcquireAsync())
                        {
                            using (ExecutionContext.SuppressFlow())
                            {
                                outside = new Thread(() =>
                                {
                                    try
                                    {
                                        SameFlowWaitsOutside(ledger, journal, other, timed, never.Token);
                                    }
                                    catch (Exception error)
                                    {
                                        outsideError = error;
                                        ready.Set();
                                    }
                                })
                                {
                                    IsBackground = true,
                                    Name = "journal-keeper",
                                };
                                outside.Start();
                            }

                            Assert.True(ready.Wait(s_guard));
                            using (await journal.AcquireAsync())
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
            ControlledRun.OutsideQueuedObserver = null;
            letGo.Set();
        }

        Assert.True(await Task.Run(() => outside!.Join(s_guard)));
        Assert.True(result.Passed, result.ToString());
        Assert.Null(outsideError);
        Assert.Equal(2, Volatile.Read(ref told));
        Assert.Equal(0, Volatile.Read(ref ranOut));
        Assert.NotEqual(0, Volatile.Read(ref idleWaits));
    }

    /// <summary>
    /// The outside thread's part for the same flow: every wait from this thread's one async flow, the last on 'ledger',
    /// timed or with a token, withdrawn by a blocking read once the run let it go on.
    /// </summary>
    private static void SameFlowWaitsOutside(AsyncExclusiveLock ledger, AsyncExclusiveLock journal, CountingSemaphore other, bool timed, CancellationToken token)
    {
        // The journal first: the flow's record stays claimed by its hold, so every wait below is that record's.
        var journalScope = journal.AcquireAsync().GetAwaiter().GetResult();
        var recorded = ledger.AcquireAsync();
        Assert.False(recorded.IsCompleted);
        Assert.ThrowsAny<InvalidOperationException>(() => recorded.GetAwaiter().GetResult());
        for (int i = 0; i < WaitsBetween; i++)
        {
            var wait = other.AcquireAsync();
            Assert.False(wait.IsCompleted);
            other.Release();
            wait.GetAwaiter().GetResult().Dispose();
            Assert.True(other.TryAcquire(out _));
        }

        // The recorded wait's token again, in the same flow, on the same lock: it may end by itself.
        var last = timed ? ledger.AcquireAsync(TimeSpan.FromMinutes(10)) : ledger.AcquireAsync(token);
        Assert.False(last.IsCompleted);
        Assert.ThrowsAny<InvalidOperationException>(() => last.GetAwaiter().GetResult());
        journalScope.Dispose();
    }

    /// <summary>
    /// The outside thread's part: every wait on this thread, so every queued one rents the node the first one used. With
    /// <paramref name="slotsToken"/>, the last wait is on 'slots', from the thread's first context (which has no claim: a
    /// flow of its own), with that token.
    /// </summary>
    private static void WaitsOutside(CountingSemaphore slots, AsyncExclusiveLock journal, CountingSemaphore other, CancellationToken? slotsToken, ManualResetEventSlim ready)
    {
        var unclaimed = ExecutionContext.Capture()!;
        // Queued untimed behind the writer's permit (the run records it), then withdrawn: a blocking read of a queued
        // wait gives it up, and the node goes back to this thread's spare slot.
        var recorded = slots.AcquireAsync();
        Assert.False(recorded.IsCompleted);
        Assert.ThrowsAny<InvalidOperationException>(() => recorded.GetAwaiter().GetResult());

        var journalScope = journal.AcquireAsync().GetAwaiter().GetResult();
        for (int i = 0; i < WaitsBetween; i++)
        {
            // Queued (no permit free), granted by the release, read: the node is back in the spare slot. The permit the
            // scope gave back is taken again, so the next wait queues too.
            var wait = other.AcquireAsync();
            Assert.False(wait.IsCompleted);
            other.Release();
            wait.GetAwaiter().GetResult().Dispose();
            Assert.True(other.TryAcquire(out _));
        }

        // The last: the recorded wait's token again, until the scheduler's idle wait gives its permit or cancels it.
        if (slotsToken is { } token)
        {
            Task<AsyncLockScope>? onSlots = null;
            ExecutionContext.Run(unclaimed, _ => onSlots = slots.AcquireAsync(token).AsTask(), null);
            Assert.False(onSlots!.IsCompleted);
            ready.Set();
            Assert.ThrowsAny<OperationCanceledException>(() => onSlots.GetAwaiter().GetResult());
        }
        else
        {
            var last = other.AcquireAsync();
            Assert.False(last.IsCompleted);
            ready.Set();
            last.AsTask().GetAwaiter().GetResult().Dispose();
        }

        journalScope.Dispose();
    }
}
