using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>Permits code outside the run takes and gives back at its edges: across threads, and while the scheduler waits idle.</summary>
public sealed class OutsidePermitEdgeTests
{
    // The idle period of a run whose verdict comes without an idle wait: long, since it also bounds the outside threads'
    // work (a pool thread may first have to be injected on a busy machine), and an idle wait fails the test anyway.
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // The idle period of a run that ends Stuck: it also bounds the outside threads' start and their taking or asking for a
    // permit, which at 1 s could pass first on a loaded machine, so the run named the writer's block outside Locksmith.
    private static readonly TimeSpan s_stuckIdle = TimeSpan.FromSeconds(5);

    [Fact]
    public void APermitTakenOutsideTheRun_AndGivenBackByTheSameAsyncFlowOnAnotherThread_IsNotCountedAsHeld()
    {
        int idleWaits = 0;
        int takerThread = 0, returnerThread = 0;
        ControlledRun.IdleWaitObserver = _ => idleWaits++;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var pool = new CountingSemaphore(1, 1, "pool");
                    scenario.Thread("worker", () =>
                    {
                        Task.Run(async () =>
                        {
                            _ = pool.Acquire();
                            takerThread = Environment.CurrentManagedThreadId;
                            await new ToNewThread();
                            returnerThread = Environment.CurrentManagedThreadId;
                            pool.Release();
                        }).Wait();
                        _ = pool.Acquire();
                        _ = pool.Acquire();
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
        }

        Assert.NotEqual(takerThread, returnerThread);
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, idleWaits);
    }

    /// <summary>
    /// The attempt parks while the scheduler waits for what it might take: its parking wakes the scheduler, which then
    /// finds it holding nothing and reports the deadlock at once. Before, the parking woke no one and the deadlock waited
    /// out the idle period; the long one here makes that show as an idle wait that ran out, not as a slow test.
    /// </summary>
    [Fact]
    public async Task AnAttemptOutsideTheRun_ThatParksDuringTheIdleWait_HoldsNothing_SoTheFlowsDeadlockIsADeadlockAtOnce()
    {
        using var inReport = new ManualResetEventSlim();
        using var letGo = new ManualResetEventSlim();
        var action = LocksmithPolicy.OrderViolationAction;
        LocksmithPolicy.OrderViolationAction = OrderViolationAction.Report;
        LocksmithPolicy.OrderViolationReported = _ =>
        {
            inReport.Set();
            letGo.Wait();
        };
        int idleWaits = 0, ranOut = 0;
        ControlledRun.IdleWaitObserver = _ =>
        {
            idleWaits++;
            letGo.Set();
        };
        ControlledRun.IdleRanOutObserver = () => ranOut++;
        ControlledTestResult result;
        Task? outside = null;
        CountingSemaphore? pool = null;
        var high = new ExclusiveLock("high", level: 2);
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    pool = new CountingSemaphore(1, 1, "pool", level: 1);
                    scenario.Thread("worker", () =>
                    {
                        _ = pool.Acquire();
                        // Outside the run: held up in the order report until the scheduler's idle wait, then parks in Acquire.
                        outside = Task.Run(() =>
                        {
                            using (high.Acquire())
                            {
                                pool.Acquire().Dispose();
                            }
                        });
                        inReport.Wait();
                        _ = pool.Acquire();
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
            ControlledRun.IdleRanOutObserver = null;
            letGo.Set();
            LocksmithPolicy.OrderViolationReported = null;
            LocksmithPolicy.OrderViolationAction = action;
        }

        pool!.Release();
        if (outside is not null)
        {
            await outside;
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());

        // The scheduler did wait for the attempt, and was woken by its parking, not by the clock.
        Assert.Equal((1, 0), (idleWaits, ranOut));
    }

    [Fact]
    public void APermitTakenOutsideTheRun_WhoseAcquisitionIsNotYetOver_CountsOnce()
    {
        int keptInWindow = -1;
        ControlledRun.OutsidePermitsTakenObserver = (run, semaphore) => keptInWindow = run.OutsidePermitsKeptNow(semaphore);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var pool = new CountingSemaphore(2, 2, "pool");
                    scenario.Thread("worker", () =>
                    {
                        var outside = Task.Run(() =>
                        {
                            _ = pool.Acquire();
                        });
                        outside.Wait();
                        pool.Release();
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random });
        }
        finally
        {
            ControlledRun.OutsidePermitsTakenObserver = null;
        }

        Assert.True(result.Passed, result.Failure?.ToString());

        // Taken and booked, its acquisition not yet over: one permit, not one held and one more under way.
        Assert.Equal(1, keptInWindow);
    }

    /// <summary>
    /// Two threads outside the run took a permit each, and a third gave one back: the semaphore misses one, so the run
    /// counts one permit outside, and cannot tell whose came back. The summary named both takers as if each still held one
    /// ("whose permit a thread … ('keeper-a', 'keeper-b') took"); it now says one of them did, and how the count came about.
    /// </summary>
    [Fact]
    public void APermitOutsideTheRunCutByTheSemaphoresCount_IsNamedAsOneOfItsTakers()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var pool = new CountingSemaphore(2, 2, "pool");
                scenario.Thread("writer", () =>
                {
                    RunOn("keeper-a", () => _ = pool.Acquire());
                    RunOn("keeper-b", () => _ = pool.Acquire());
                    RunOn("signaller", () => pool.Release());
                    _ = pool.Acquire(2);
                });
            },
            new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_stuckIdle });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.Contains(
            "flow 'writer' waits for 'pool', whose permit one of the threads that are not flows of this run ('keeper-a', 'keeper-b') took and did not give back (they took 2, and 1 came back by other code) for 5 s",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// A thread outside the run holds a permit while another is still acquiring one: the summary named both as having
    /// taken the one permit ("whose permit a thread … ('asker', 'keeper') took"); it now names the taker as holding it,
    /// and the other as acquiring one. The acquisition is held up in an order-violation report until the run is over.
    /// </summary>
    [Fact]
    public async Task APermitOutsideTheRunBesideAnAcquisitionUnderWay_NamesTheTakerAsHoldingIt_AndTheOtherAsAcquiring()
    {
        using var inReport = new ManualResetEventSlim();
        using var letGo = new ManualResetEventSlim();
        var action = LocksmithPolicy.OrderViolationAction;
        LocksmithPolicy.OrderViolationAction = OrderViolationAction.Report;
        LocksmithPolicy.OrderViolationReported = _ =>
        {
            inReport.Set();
            letGo.Wait();
        };
        ControlledTestResult result;
        Thread? asker = null;
        var high = new ExclusiveLock("high", level: 2);
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var pool = new CountingSemaphore(2, 2, "pool", level: 1);
                    scenario.Thread("writer", () =>
                    {
                        RunOn("keeper", () => _ = pool.Acquire());
                        asker = new Thread(() =>
                        {
                            using (high.Acquire())
                            {
                                _ = pool.TryAcquire(out _);
                            }
                        })
                        {
                            IsBackground = true,
                            Name = "asker",
                        };
                        asker.Start();
                        inReport.Wait();
                        _ = pool.Acquire(2);
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_stuckIdle });
        }
        finally
        {
            letGo.Set();
            LocksmithPolicy.OrderViolationReported = null;
            LocksmithPolicy.OrderViolationAction = action;
        }

        await Task.Run(() => asker?.Join());
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.Contains(
            "flow 'writer' waits for 'pool', whose permit a thread that is not a flow of this run ('keeper') took and did not give back, while a thread that is not a flow of this run ('asker') was acquiring one, holding none and not yet waiting in the semaphore's queue, for 5 s",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="body"/> on a new thread named <paramref name="name"/> (outside the run), to its end.</summary>
    private static void RunOn(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        thread.Start();
        thread.Join();
    }

    private readonly struct ToNewThread : INotifyCompletion
    {
        public ToNewThread GetAwaiter() => this;
        public bool IsCompleted => false;
        public void GetResult() { }
        public void OnCompleted(Action continuation) => new Thread(() => continuation()).Start();
    }
}
