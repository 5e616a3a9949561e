using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>Permits code outside the run takes and gives back at its edges: across threads, and while the scheduler waits idle.</summary>
public sealed class OutsidePermitEdgeTests
{
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
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromSeconds(2) });
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
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(2) });
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

    private readonly struct ToNewThread : INotifyCompletion
    {
        public ToNewThread GetAwaiter() => this;
        public bool IsCompleted => false;
        public void GetResult() { }
        public void OnCompleted(Action continuation) => new Thread(() => continuation()).Start();
    }
}
