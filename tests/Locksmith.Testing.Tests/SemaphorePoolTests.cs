using System;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// What a semaphore misses is counted from its pool (the most permits the run saw free), not from its maximum: one made
/// with fewer free than its maximum misses only what was taken from them. And a flow that gives back a permit code outside
/// the run took (handed to it to give back) frees none of the flows' for that code to hold. Each deadlock here is reported
/// at once, with no idle wait; a short idle period only makes a regression fail quickly (as Stuck), never pass.
/// </summary>
public sealed class SemaphorePoolTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    // Long: the run also waits this long for a flow blocked on work outside it (a pool task, which on a busy machine may wait
    // for the pool to inject a thread) before calling it Stuck; a regression still shows as an idle wait, which fails.
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    /// <summary>
    /// 'slots' starts with 1 of 2 permits free. A thread outside the run takes that one and ends; another gives one back
    /// (the taker's, handed over); the worker takes it and asks for a second, which nothing can give. Before, the run
    /// counted 2 missing (MaxCount less CurrentCount), so the taker still held one, waited the idle period, and said Stuck.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BelowItsMaximum_APermitTakenOutsideAndGivenBackByOtherCode_IsNotHeld_SoTheWaitIsADeadlockAtOnce(bool async)
    {
        var report = RunExpectingNoIdleWait(
            scenario =>
            {
                var slots = new CountingSemaphore(1, 2, "slots");
                if (async)
                {
                    scenario.Flow("worker", async () =>
                    {
                        // Blocking, not awaiting: an await of another thread's task would make the run wait idle for it.
                        Assert.True(Task.Run(async () => _ = await slots.AcquireAsync()).Wait(s_guard), "the taker did not end");
                        Assert.True(Task.Run(() => slots.Release()).Wait(s_guard), "the returner did not end");
                        _ = await slots.AcquireAsync();
                        _ = await slots.AcquireAsync();
                    });
                }
                else
                {
                    scenario.Thread("worker", () =>
                    {
                        RunOn("taker", () => _ = slots.Acquire());
                        RunOn("returner", () => slots.Release());
                        _ = slots.Acquire();
                        _ = slots.Acquire();
                    });
                }
            });

        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Contains("'slots' has 0 of 2 permits free: worker holds 1", report.Summary, StringComparison.Ordinal);
    }

    /// <summary>
    /// 'slots' starts with none of 2 free: a thread outside the run gives one (a signal; or the worker does), a keeper outside the run takes it
    /// and holds it until the run waits, then gives it back; the worker waits for it meanwhile. The keeper's release is on
    /// its way, so this is no deadlock (a pool counted from the semaphore's start, 0, would have called it one).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BelowItsMaximum_APermitAnOutsideKeeperTookAfterASignal_IsWaitedFor_AndTheRunPasses(bool flowSignals)
    {
        var idle = new IdleObservation();
        Thread? keeper = null;
        ControlledTestResult result;
        using (idle)
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var slots = new CountingSemaphore(0, 2, "slots");
                    scenario.Thread("worker", () =>
                    {
                        if (flowSignals)
                        {
                            slots.Release();
                        }
                        else
                        {
                            RunOn("signaller", () => slots.Release());
                        }

                        using var took = new ManualResetEventSlim();
                        keeper = new Thread(() =>
                        {
                            using (slots.Acquire())
                            {
                                took.Set();
                                idle.LetGo.Wait(s_guard);
                            }
                        })
                        { IsBackground = true, Name = "keeper" };
                        keeper.Start();
                        Assert.True(took.Wait(s_guard), "the keeper did not take the permit");
                        using (slots.Acquire())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(2) });
        }

        Assert.True(keeper!.Join(s_guard), "the keeper did not end");
        Assert.True(result.Passed, result.ToString());
        idle.AssertWaitedWithoutRunningOut();
    }

    /// <summary>
    /// 'pool' (1 of 1): a thread outside the run takes the permit and hands it to the worker, which gives it back, takes it
    /// and asks for another. Nothing outside the run holds one: a deadlock at once. Before, the flow's give-back counted
    /// below zero and left room for the taker's permit, so the run waited the idle period and said Stuck.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnOutsidePermitAFlowGivesBack_IsNotHeldOutside_SoTheWaitIsADeadlockAtOnce(bool async)
    {
        var report = RunExpectingNoIdleWait(
            scenario =>
            {
                var pool = new CountingSemaphore(1, 1, "pool");
                if (async)
                {
                    scenario.Flow("worker", async () =>
                    {
                        Assert.True(Task.Run(async () => _ = await pool.AcquireAsync()).Wait(s_guard), "the taker did not end");
                        pool.Release();
                        _ = await pool.AcquireAsync();
                        _ = await pool.AcquireAsync();
                    });
                }
                else
                {
                    scenario.Thread("worker", () =>
                    {
                        RunOn("taker", () => _ = pool.Acquire());
                        pool.Release();
                        _ = pool.Acquire();
                        _ = pool.Acquire();
                    });
                }
            });

        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Contains("worker waits for 'pool' held by worker", string.Join("; ", report.Waits), StringComparison.Ordinal);
    }

    /// <summary>
    /// A trial's report: 'pool' below its maximum (2 of 3 free), three flows that each hold one permit and ask for
    /// another. Every permit is a flow's and every flow is blocked on the semaphore, so the run has all it needs: a
    /// deadlock at once, naming the semaphore and its holders, not Stuck after IdleTimeout. A guard (it passed before
    /// too, for every shape tried: sync, async, a producer's signals, the builder's permits).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BelowItsMaximum_EveryPermitHeldByAFlowAskingForAnother_IsADeadlockAtOnce(bool async)
    {
        var report = RunExpectingNoIdleWait(
            scenario =>
            {
                var pool = new CountingSemaphore(2, 3, "pool");
                for (int f = 0; f < 3; f++)
                {
                    if (async)
                    {
                        scenario.Flow($"f{f}", async () =>
                        {
                            using (await pool.AcquireAsync())
                            using (await pool.AcquireAsync())
                            {
                            }
                        });
                    }
                    else
                    {
                        scenario.Thread($"f{f}", () =>
                        {
                            using (pool.Acquire())
                            using (pool.Acquire())
                            {
                            }
                        });
                    }
                }
            },
            iterations: 100);

        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Contains("'pool' has 0 of 3 permits free: ", report.Summary, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(report.Summary, @"f\d holds 1"));
        Assert.NotEmpty(report.Waits);
        Assert.All(report.Waits, w => Assert.Equal("pool", w.Resource));
    }

    private static ControlledTestReport RunExpectingNoIdleWait(Action<Scenario> build, int iterations = 1)
    {
        int idleWaits = 0;
        ControlledRun.IdleWaitObserver = _ => idleWaits++;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(build, new ControlledTestOptions { Iterations = iterations, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(idleWaits == 0, $"the run waited idle before its verdict: {report}");
        return report;
    }

    private static void RunOn(string name, Action action)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception ex)
            {
                error = ex;
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        Assert.True(thread.Join(s_guard), $"'{name}' did not end");
        Assert.Null(error);
    }
}
