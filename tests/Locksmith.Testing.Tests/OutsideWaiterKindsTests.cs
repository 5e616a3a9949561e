using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A thread outside the run holds 'journal', which flow 'writer' asks for, while it waits, with no timeout, for something
/// of the run no flow will give: a condition's notification, a barrier's other participant, a write the flow's read holds
/// off, a permit a finished flow kept. The run can never end, and says so at once as a deadlock. Each run has a long idle
/// period, and a test fails if the scheduler's wait ran out (the decision was the clock's), so no test depends on time.
/// </summary>
public sealed class OutsideWaiterKindsTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // Bounds the wait for the keeper's end once the test freed it.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AThreadOutsideTheRunWaitingOnAConditionNoFlowWillNotify_HoldingALockAFlowWaitsFor_IsADeadlockAtOnce(bool outsideFirst)
    {
        ConditionVariable? ready = null;
        bool freed = false;
        var (result, ranOut, outside) = RunBehindKeeper(
            outsideFirst,
            () =>
            {
                var state = new ExclusiveLock("state");
                ready = new ConditionVariable(state, "ready");
            },
            () =>
            {
                using (ready!.Lock.Acquire())
                {
                    ready.WaitUntil(() => freed);
                }
            });

        // Frees the keeper (it waits for good): it takes 'state' back and gives up the journal.
        using (ready!.Lock.Acquire())
        {
            freed = true;
            ready.NotifyAll();
        }

        await outside.WaitAsync(s_guard);

        var report = AssertDeadlockAtOnce(result, ranOut);
        Assert.Contains(
            "'journal' is held by a thread that is not a flow of this run ('journal-keeper'), which waits on condition 'ready', and no flow is left to notify it: neither can go on",
            report.Summary,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AThreadOutsideTheRunWaitingAtABarrierNoFlowWillReach_HoldingALockAFlowWaitsFor_IsADeadlockAtOnce(bool outsideFirst)
    {
        PhaseBarrier? phase = null;
        var (result, ranOut, outside) = RunBehindKeeper(
            outsideFirst,
            () => phase = new PhaseBarrier(2, name: "phase"),
            () => phase!.SignalAndWait());

        // The second participant: the keeper passes the phase and gives up the journal.
        phase!.SignalAndWait();
        await outside.WaitAsync(s_guard);

        var report = AssertDeadlockAtOnce(result, ranOut);
        Assert.Contains(
            "'journal' is held by a thread that is not a flow of this run ('journal-keeper'), which waits at barrier 'phase', and no flow is left to arrive: neither can go on",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// Flow 'notifier' notifies the condition the keeper waits on (untimed), in some schedules before the keeper waits,
    /// in others after it parked: a flow that can still run may notify, so the keeper is waited for, never a deadlock.
    /// </summary>
    [Fact]
    public async Task AThreadOutsideTheRunWaitingOnAConditionAFlowWillNotify_IsWaitedFor_NotADeadlock()
    {
        int ranOut = 0;
        var outside = new System.Collections.Concurrent.ConcurrentBag<Task>();
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new ExclusiveLock("journal");
                    var state = new ExclusiveLock("state");
                    var ready = new ConditionVariable(state, "ready");
                    bool isReady = false;
                    scenario.Thread("notifier", () =>
                    {
                        using (state.Acquire())
                        {
                            isReady = true;
                            ready.NotifyAll();
                        }
                    });
                    scenario.Thread("writer", () =>
                    {
                        using var tookJournal = new ManualResetEventSlim();
                        var thread = new Thread(() =>
                        {
                            using (journal.Acquire())
                            {
                                tookJournal.Set();
                                using (state.Acquire())
                                {
                                    ready.WaitUntil(() => isReady);
                                }
                            }
                        })
                        {
                            IsBackground = true,
                            Name = "journal-keeper",
                        };
                        thread.Start();
                        outside.Add(Task.Run(thread.Join));
                        Assert.True(tookJournal.Wait(s_guard));
                        using (journal.Acquire())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 20, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
        }

        await Task.WhenAll(outside).WaitAsync(s_guard);
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(20, result.IterationsRun);
        Assert.Equal(0, Volatile.Read(ref ranOut));
    }

    /// <summary>A timed wait on the condition ends in real time, and the keeper then frees the journal: no deadlock.</summary>
    [Fact]
    public async Task AThreadOutsideTheRunWhoseConditionWaitIsTimed_IsWaitedFor_NotADeadlock()
    {
        ConditionVariable? ready = null;
        var (result, ranOut, outside) = RunBehindKeeper(
            outsideFirst: true,
            () =>
            {
                var state = new ExclusiveLock("state");
                ready = new ConditionVariable(state, "ready");
            },
            () =>
            {
                using (ready!.Lock.Acquire())
                {
                    ready.Wait(TimeSpan.FromMilliseconds(1));
                }
            });
        await outside.WaitAsync(s_guard);

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }

    /// <summary>
    /// Flow 'writer' holds a read of 'catalog' and asks for the journal; the keeper holds the journal and waits to write
    /// 'catalog', which the writer's read holds off. It was waited for in real time, and the run ended stuck.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriterOutsideTheRunWaitingForAFlowsRead_HoldingALockThatFlowWaitsFor_IsADeadlockAtOnce(bool outsideFirst)
    {
        ReadWriteLock? catalog = null;
        var (result, ranOut, outside) = RunBehindKeeper(
            outsideFirst,
            () => catalog = new ReadWriteLock("catalog"),
            () =>
            {
                using (catalog!.AcquireWrite())
                {
                }
            },
            around: body =>
            {
                using (catalog!.AcquireRead())
                {
                    body();
                }
            });
        await outside.WaitAsync(s_guard);

        var report = AssertDeadlockAtOnce(result, ranOut);
        Assert.Contains(
            "'journal' is held by a thread that is not a flow of this run ('journal-keeper'), which waits for 'catalog', held for reading by writer: neither can go on",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// Flow 'taker' took the one permit of 'slots' and finished; the keeper holds the journal and waits for a slot. No
    /// flow can give the permit back, yet the run waited for the keeper in real time and ended stuck.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AThreadOutsideTheRunWaitingForAPermitAFinishedFlowKept_HoldingALockAFlowWaitsFor_IsADeadlockAtOnce(bool outsideFirst)
    {
        CountingSemaphore? slots = null;
        bool taken = false;
        var (result, ranOut, outside) = RunBehindKeeper(
            outsideFirst,
            () => slots = new CountingSemaphore(1, 1, "slots"),
            () => slots!.Acquire().Dispose(),
            around: body =>
            {
                // The taker's turn may come late: the keeper starts once the permit is taken and the taker finished.
                while (!Volatile.Read(ref taken))
                {
                    ControlledTest.Interleave();
                }

                body();
            },
            otherFlow: ("taker", () =>
            {
                _ = slots!.Acquire();
                Volatile.Write(ref taken, true);
            }));

        slots!.Release();
        await outside.WaitAsync(s_guard);

        var report = AssertDeadlockAtOnce(result, ranOut);
        Assert.Contains(
            "'journal' is held by a thread that is not a flow of this run ('journal-keeper'), which waits for 'slots', whose permit taker took and finished without releasing it: neither can go on",
            report.Summary,
            StringComparison.Ordinal);
    }

    private static ControlledTestReport AssertDeadlockAtOnce(ControlledTestResult result, int ranOut)
    {
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, ranOut);
        Assert.Contains(new WaitForEdge("writer", "journal", null), report.Waits);
        return report;
    }

    /// <summary>
    /// Flow 'writer' starts thread 'journal-keeper', which takes 'journal' and runs <paramref name="keeperWait"/>; the writer
    /// then asks for the journal (inside <paramref name="around"/>, if given). <paramref name="outsideFirst"/>: the keeper is
    /// parked before the writer asks (else it parks while the scheduler waits for the journal's release).
    /// <paramref name="build"/> creates the primitives in the builder; <paramref name="otherFlow"/> is a second flow.
    /// </summary>
    private static (ControlledTestResult Result, int RanOut, Task Outside) RunBehindKeeper(
        bool outsideFirst, Action build, Action keeperWait, Action<Action>? around = null, (string Name, Action Body)? otherFlow = null)
    {
        int ranOut = 0;
        Task outside = Task.CompletedTask;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new ExclusiveLock("journal");
                    build();
                    if (otherFlow is { } other)
                    {
                        scenario.Thread(other.Name, other.Body);
                    }

                    scenario.Thread("writer", () => (around ?? (body => body()))(() =>
                    {
                        using var tookJournal = new ManualResetEventSlim();
                        var thread = new Thread(() =>
                        {
                            using (journal.Acquire())
                            {
                                tookJournal.Set();
                                keeperWait();
                            }
                        })
                        {
                            IsBackground = true,
                            Name = "journal-keeper",
                        };
                        thread.Start();
                        outside = Task.Run(thread.Join);
                        Assert.True(tookJournal.Wait(s_guard));
                        if (outsideFirst)
                        {
                            Assert.True(SpinWait.SpinUntil(() => thread.ThreadState.HasFlag(ThreadState.WaitSleepJoin) || !thread.IsAlive, s_guard));
                        }

                        using (journal.Acquire())
                        {
                        }
                    }));
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
        }

        return (result, Volatile.Read(ref ranOut), outside);
    }
}
