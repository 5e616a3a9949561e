using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// An async lock of the run held by an async flow that is not a flow of the run (a <c>Task.Run</c> body started with the
/// flow of the context suppressed, so it has a record of its own) while flow 'writer' waits for it. Each run has a long idle
/// period, and a test fails if the scheduler's wait ran out (the decision was the clock's), so no test depends on time.
/// </summary>
public sealed class OutsideAsyncHolderTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // The idle period of a run that ends Stuck: it also bounds the task's start on the thread pool (which may first have to
    // inject a thread on a busy machine) and its taking the journal, which at 1 s could pass first, so the run named the
    // writer's block outside Locksmith instead.
    private static readonly TimeSpan s_stuckIdle = TimeSpan.FromSeconds(5);

    // Bounds the waits for the outside tasks' ends and for their queuing.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The task holds 'journal' and waits, untimed and uncancellable, for 'ledger', which the writer holds while it asks for
    /// the journal: neither can go on. It was waited for in real time (an async wait told the run nothing) and ended Stuck
    /// after the idle period; it is a deadlock at once, as for a thread. <paramref name="outsideFirst"/>: the task is queued
    /// on the ledger before the writer asks (else it queues while the scheduler waits for the journal's release).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAsyncFlowOutsideTheRunWaitingUntimedForALockAFlowHolds_HoldingALockThatFlowWaitsFor_IsADeadlockAtOnce(bool outsideFirst)
    {
        var (result, ranOut, outside) = RunBehindOutsideTask(outsideFirst, static (ledger, _) => ledger.AcquireAsync());

        // Freed when the run unwound the writer (it gave the ledger back).
        await outside.WaitAsync(s_guard);
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, ranOut);
        Assert.Contains(new WaitForEdge("writer", "journal", null), report.Waits);
        Assert.Contains(
            "'journal' is held by an async flow that is not a flow of this run (a task outside it), which waits for 'ledger', held by writer: neither can go on",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// The task's wait for the ledger has a timeout, or a token cancelled later: it ends in real time, the task then frees
    /// the journal, and the writer goes on. Waited for, never a deadlock.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAsyncFlowOutsideTheRunWhoseWaitIsTimedOrCancellable_IsWaitedFor_NotADeadlock(bool cancellable)
    {
        using var cancel = new CancellationTokenSource();
        var (result, ranOut, outside) = RunBehindOutsideTask(
            outsideFirst: true,
            async (ledger, queued) =>
            {
                if (!cancellable)
                {
                    return await ledger.TryAcquireAsync(TimeSpan.FromMilliseconds(100));
                }

                // Cancelled once the wait is queued (and the run told), so the run sees a wait that can still end.
                _ = queued.ContinueWith(_ => cancel.CancelAfter(TimeSpan.FromMilliseconds(100)), TaskScheduler.Default);
                try
                {
                    return await ledger.AcquireAsync(cancel.Token);
                }
                catch (OperationCanceledException)
                {
                    return default;
                }
            });
        await outside.WaitAsync(s_guard);

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }

    /// <summary>
    /// The task's wait for the ledger has a timeout longer than the idle period: the run waits for the task's release in real
    /// time and is Stuck when the idle period runs out (the writer's unwinding then frees the task), naming the task's wait
    /// as one that may still end (it said "with no timeout, neither can go on", which the run could not know).
    /// </summary>
    [Fact]
    public async Task AnAsyncFlowOutsideTheRunWaitingLongerThanTheIdlePeriod_IsStuck_NamingItsTimedWait()
    {
        var (result, ranOut, outside) = RunBehindOutsideTask(
            outsideFirst: true, static (ledger, _) => ledger.TryAcquireAsync(TimeSpan.FromMinutes(10)), idleTimeout: s_stuckIdle);
        await outside.WaitAsync(s_guard);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.NotEqual(0, ranOut);
        Assert.Contains(
            "flow 'writer' waits for 'journal', held by an async flow that is not a flow of this run (a task outside it), which waits for 'ledger', held by writer (a wait with a timeout or a token, which has not ended), and did not release it for 5 s while no flow could run",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// Flow 'holder' takes the ledger and then 'desk', which a task outside the run holds until the scheduler has waited in
    /// real time (or the other task is done); that other task holds 'journal' and waits, untimed, for the ledger, and flow
    /// 'writer' asks for the journal. In the schedules where the holder takes the ledger and blocks on the desk, the writer
    /// then blocks behind the task queued on the ledger: the holder is blocked too, but on a release that comes in real
    /// time, so it can still release the ledger and the task is waited for, never a deadlock.
    /// </summary>
    /// <remarks><paramref name="permit"/>: the ledger is a <see cref="CountingSemaphore"/> of one permit, not a lock.</remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAsyncFlowOutsideTheRunWaitingForALockAFlowWillRelease_IsWaitedFor_NotADeadlock(bool permit)
    {
        const int Iterations = 20;
        int ranOut = 0;
        Signals? current = null;
        var outside = new ConcurrentBag<Task>();
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledRun.IdleWaitObserver = _ => Volatile.Read(ref current)!.SchedulerWaited = true;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new AsyncExclusiveLock("journal");
                    var ledgerLock = new AsyncExclusiveLock("ledger");
                    var ledgerPermit = new CountingSemaphore(1, 1, "ledger");
                    Func<ValueTask<AsyncLockScope>> takeLedger = permit ? () => ledgerPermit.AcquireAsync() : () => ledgerLock.AcquireAsync();
                    var desk = new AsyncExclusiveLock("desk");
                    var signals = new Signals();
                    Volatile.Write(ref current, signals);
                    scenario.Flow("holder", async () =>
                    {
                        using (await takeLedger())
                        using (await desk.AcquireAsync())
                        {
                        }
                    });
                    scenario.Flow("writer", async () =>
                    {
                        var tookDesk = new ManualResetEventSlim();
                        var tookJournal = new ManualResetEventSlim();
                        using (ExecutionContext.SuppressFlow())
                        {
                            outside.Add(Task.Run(async () =>
                            {
                                using (await desk.AcquireAsync())
                                {
                                    tookDesk.Set();
                                    Assert.True(SpinWait.SpinUntil(() => signals.SchedulerWaited || signals.JournalTaskDone, s_guard));
                                }
                            }));
                            outside.Add(Task.Run(async () =>
                            {
                                try
                                {
                                    using (await journal.AcquireAsync())
                                    {
                                        tookJournal.Set();
                                        using (await takeLedger())
                                        {
                                        }
                                    }
                                }
                                finally
                                {
                                    signals.JournalTaskDone = true;
                                }
                            }));
                        }

                        Assert.True(tookDesk.Wait(s_guard));
                        Assert.True(tookJournal.Wait(s_guard));
                        using (await journal.AcquireAsync())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = Iterations, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
            ControlledRun.IdleWaitObserver = null;
        }

        await Task.WhenAll(outside).WaitAsync(s_guard);
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(Iterations, result.IterationsRun);
        Assert.Equal(0, Volatile.Read(ref ranOut));
    }

    /// <summary>
    /// Flow 'writer' takes 'ledger' and starts a task (its own async flow) that takes 'journal' and then runs
    /// <paramref name="outsideWait"/> on the ledger (given a task that completes once that wait is queued); the writer then
    /// asks for the journal. <paramref name="outsideFirst"/>: the task is queued on the ledger before the writer asks.
    /// </summary>
    private static (ControlledTestResult Result, int RanOut, Task Outside) RunBehindOutsideTask(
        bool outsideFirst, Func<AsyncExclusiveLock, Task, ValueTask<AsyncLockScope>> outsideWait, TimeSpan? idleTimeout = null)
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
                    var journal = new AsyncExclusiveLock("journal");
                    var ledger = new AsyncExclusiveLock("ledger");
                    scenario.Flow("writer", async () =>
                    {
                        using (await ledger.AcquireAsync())
                        {
                            using var tookJournal = new ManualResetEventSlim();
                            var queued = Task.Run(() => Assert.True(SpinWait.SpinUntil(() => ledger.WaitingCount == 1, s_guard)));
                            using (ExecutionContext.SuppressFlow())
                            {
                                outside = Task.Run(async () =>
                                {
                                    using (await journal.AcquireAsync())
                                    {
                                        tookJournal.Set();
                                        using (await outsideWait(ledger, queued))
                                        {
                                        }
                                    }
                                });
                            }

                            Assert.True(tookJournal.Wait(s_guard));
                            if (outsideFirst)
                            {
                                // Queued on the ledger before the writer asks for the journal (a guard, not a measure).
                                await queued.WaitAsync(s_guard).ConfigureAwait(true);
                            }

                            using (await journal.AcquireAsync())
                            {
                            }
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = idleTimeout ?? s_longIdle });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
        }

        return (result, Volatile.Read(ref ranOut), outside);
    }

    /// <summary>What the outside tasks of one iteration wait for.</summary>
    private sealed class Signals
    {
        public volatile bool SchedulerWaited;
        public volatile bool JournalTaskDone;
    }
}
