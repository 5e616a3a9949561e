using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The run keeps the books of a <see cref="CountingSemaphore"/>'s permits, by flow and by thread outside the run. It
/// counted calls and attempts, not permits and outcomes: a try outside the run that failed counted as a permit taken, so a
/// deadlock of the flows' own then waited <c>IdleTimeout</c> and was reported <c>Stuck</c>; <c>Acquire(2)</c> counted as
/// one permit, and a deadlock through a semaphore named no holder. Now it counts what each acquisition took and each
/// release gave back.
/// </summary>
public sealed class PermitBookkeepingTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Flows 'a' and 'b' deadlock over 'pool' and 'journal' (a barrier makes each take its first before either asks for
    /// its second), after a thread outside the run tried for the permit 'a' holds and failed: it took nothing, so the run
    /// has nothing to wait for and reports the deadlock at once, naming the cycle.
    /// </summary>
    [Theory]
    [InlineData("try")]
    [InlineData("timed try")]
    [InlineData("async try")]
    [InlineData("async timed try")]
    public void ADeadlockOfFlows_AfterATryOutsideTheRunThatTookNothing_IsADeadlockAtOnce_NamingTheCycle(string attempt)
    {
        var result = RunCountingIdleWaits(out var idleWaits, scenario =>
        {
            var pool = new CountingSemaphore(1, 1, "pool");
            var journal = new ExclusiveLock("journal");
            var bothHold = new PhaseBarrier(2, name: "both-hold");
            scenario.Thread("a", () =>
            {
                using (pool.Acquire())
                {
                    bool took = Task.Run(() => TryOutside(pool, attempt)).GetAwaiter().GetResult();
                    Assert.False(took);
                    bothHold.SignalAndWait();
                    using (journal.Acquire())
                    {
                    }
                }
            });
            scenario.Thread("b", () =>
            {
                using (journal.Acquire())
                {
                    bothHold.SignalAndWait();
                    using (pool.Acquire())
                    {
                    }
                }
            });
        });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal([new WaitForEdge("a", "journal", "b"), new WaitForEdge("b", "pool", "a")], report.Waits);
        Assert.Contains("'pool' has 0 of 1 permits free: a holds 1", report.Summary, StringComparison.Ordinal);
        Assert.Equal(0, idleWaits.Value);
    }

    /// <summary>
    /// A deadlock through permits taken several at a time: 'a' holds 2 of 3 and 'c' the third, both then wait for
    /// 'journal', which 'b' holds while it waits for 2 permits. The cycle and the summary name the permits' holders and
    /// how many each holds.
    /// </summary>
    [Fact]
    public void ADeadlockThroughPermitsTakenSeveralAtATime_NamesTheirHoldersAndCounts()
    {
        var result = RunCountingIdleWaits(out var idleWaits, scenario =>
        {
            var pool = new CountingSemaphore(3, 3, "pool");
            var journal = new ExclusiveLock("journal");
            var allHold = new PhaseBarrier(3, name: "all-hold");
            foreach (var (name, permits) in new[] { ("a", 2), ("c", 1) })
            {
                scenario.Thread(name, () =>
                {
                    using (pool.Acquire(permits))
                    {
                        allHold.SignalAndWait();
                        using (journal.Acquire())
                        {
                        }
                    }
                });
            }

            scenario.Thread("b", () =>
            {
                using (journal.Acquire())
                {
                    allHold.SignalAndWait();
                    using (pool.Acquire(2))
                    {
                    }
                }
            });
        });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal([new WaitForEdge("a", "journal", "b"), new WaitForEdge("b", "pool", "a, c")], report.Waits);
        Assert.Contains("'pool' has 0 of 3 permits free: a holds 2; c holds 1", report.Summary, StringComparison.Ordinal);
        Assert.Equal(0, idleWaits.Value);
    }

    /// <summary>
    /// A flow waiting for 2 permits while another holds 2 of 3 waits for them (sync and async): every run ends, and the
    /// waiter got its permits each time.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFlowWaitingForTwoPermitsWhileAnotherHoldsTwoOfThree_GetsThemOnceTheyAreBack(bool async)
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var pool = new CountingSemaphore(3, 3, "pool");
                var counter = new AtomicCounter("served");
                foreach (var name in new[] { "first", "second" })
                {
                    if (async)
                    {
                        scenario.Flow(name, async () =>
                        {
                            using (await pool.AcquireAsync(2))
                            {
                                counter.Increment();
                                await Task.Yield();
                            }
                        });
                    }
                    else
                    {
                        scenario.Thread(name, () =>
                        {
                            using (pool.Acquire(2))
                            {
                                counter.Increment();
                                ControlledTest.Interleave();
                            }
                        });
                    }
                }

                scenario.Finally(() => Assert.Equal((2, 3), (counter.Value, pool.CurrentCount)));
            },
            new ControlledTestOptions { Iterations = 200, Seed = 3, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });

        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>
    /// A flow that took 2 permits and gave back 1 kept one: the summary of the deadlock that follows names it as the flow
    /// that took the permit and did not give it back (counting calls, its one acquire and one release cancelled out).
    /// </summary>
    [Fact]
    public void AFlowThatTookTwoPermitsAndGaveBackOne_IsNamedAsKeepingOne()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var pool = new CountingSemaphore(2, 2, "pool");
                var done = new CountingSemaphore(0, 1, "done");
                scenario.Thread("leaker", () =>
                {
                    pool.TryAcquire(2, out _);
                    pool.Release();
                    done.Release();
                });
                scenario.Thread("worker", () =>
                {
                    using (done.Acquire())
                    using (pool.Acquire(2))
                    {
                    }
                });
            },
            new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal([new WaitForEdge("worker", "pool", null)], report.Waits);
        Assert.Contains("No live flow holds 'pool'; taken and not given back by leaker (acquired it at step ", report.Summary, StringComparison.Ordinal);
    }

    /// <summary>
    /// A thread outside the run took two permits one at a time and gave both back with one <c>Release(2)</c>: it holds
    /// none, so a flow then waiting for a permit its own flow kept is a deadlock at once (counting calls, two takes and
    /// one return left one permit outside, and the run waited <c>IdleTimeout</c> for it).
    /// </summary>
    [Fact]
    public void AThreadOutsideTheRunThatGaveBackTwoPermitsInOneRelease_HoldsNone()
    {
        var result = RunCountingIdleWaits(out var idleWaits, scenario =>
        {
            var pool = new CountingSemaphore(2, 2, "pool");
            scenario.Thread("worker", () =>
            {
                Task.Run(() =>
                {
                    _ = pool.Acquire();
                    _ = pool.Acquire();
                    pool.Release(2);
                }).Wait();
                _ = pool.Acquire(2);
                _ = pool.Acquire();
            });
        });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal([new WaitForEdge("worker", "pool", "worker")], report.Waits);
        Assert.Contains("'pool' has 0 of 2 permits free: worker holds 2", report.Summary, StringComparison.Ordinal);
        Assert.Equal(0, idleWaits.Value);
    }

    /// <summary>
    /// A try outside the run still under way when every flow blocks may take the permit any moment, so the run waits for
    /// it; once it ends having taken nothing, the flow waiting for the permit its own flow kept is a deadlock, at once,
    /// not after the idle period (the run was not woken by an attempt's end, so it waited <c>IdleTimeout</c> and called
    /// it <c>Stuck</c>). The try is held up in an order-violation report (a level-2 lock held, the level-1 semaphore
    /// asked for), which the scheduler's idle wait lets go; nothing else wakes the scheduler.
    /// </summary>
    [Fact]
    public async Task AFlowWaitingForAPermit_WhileATryOutsideTheRunIsUnderWay_IsADeadlockOnceTheTryTookNothing()
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
        var waits = new IdleWaits();
        ControlledRun.IdleWaitObserver = _ =>
        {
            waits.Value++;
            letGo.Set();
        };
        ControlledTestResult result;
        Task? outside = null;

        // Not the run's: its release would wake the scheduler, as the end of the try must.
        var high = new ExclusiveLock("high", level: 2);
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var pool = new CountingSemaphore(1, 1, "pool", level: 1);
                    scenario.Thread("worker", () =>
                    {
                        _ = pool.Acquire();
                        outside = Task.Run(() =>
                        {
                            using (high.Acquire())
                            {
                                Assert.False(pool.TryAcquire(out _));
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
            letGo.Set();
            LocksmithPolicy.OrderViolationReported = null;
            LocksmithPolicy.OrderViolationAction = action;
        }

        if (outside is not null)
        {
            await outside;
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal([new WaitForEdge("worker", "pool", "worker")], report.Waits);
        Assert.Equal(1, waits.Value);
    }

    /// <summary>
    /// Flows 'a' and 'b' took a permit each of 'pool' (2), and code outside the run gave one back (a signal): the semaphore
    /// misses one, which one of them holds, and the run cannot tell whose came back. When 'a' then waits for two while 'b'
    /// waits for a signal that never comes, the summary said "'pool' has 1 of 2 permits free: a holds 1; b holds 1", two
    /// holders of one missing permit; it now says that one of those came back by other code.
    /// </summary>
    [Fact]
    public void ADeadlockThroughPermitsOtherCodeGaveBack_SaysSo_NotMoreHoldersThanMissingPermits()
    {
        var result = RunCountingIdleWaits(out var idleWaits, scenario =>
        {
            var pool = new CountingSemaphore(2, 2, "pool");
            var go = new CountingSemaphore(0, 1, "go");
            var never = new CountingSemaphore(0, 1, "never");
            scenario.Thread("a", () =>
            {
                _ = pool.Acquire();
                using (go.Acquire())
                {
                }

                Task.Run(() => pool.Release()).Wait();
                _ = pool.Acquire(2);
            });
            scenario.Thread("b", () =>
            {
                _ = pool.Acquire();
                go.Release();
                _ = never.Acquire();
            });
        });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Contains(
            "'pool' has 1 of 2 permits free: a holds 1; b holds 1 (by the books; 1 of these came back by other code, so 1 is held)",
            report.Summary,
            StringComparison.Ordinal);
        Assert.Equal(0, idleWaits.Value);
    }

    /// <summary>One try for <paramref name="pool"/>'s permit from outside the run, in the form named; whether it took it.</summary>
    private static async Task<bool> TryOutside(CountingSemaphore pool, string attempt)
    {
        switch (attempt)
        {
            case "try":
                return pool.TryAcquire(out _);
            case "timed try":
                return pool.TryAcquire(TimeSpan.FromMilliseconds(20), out _);
            case "async try":
                return (await pool.TryAcquireAsync(TimeSpan.Zero)).IsAcquired;
            default:
                return (await pool.TryAcquireAsync(TimeSpan.FromMilliseconds(20))).IsAcquired;
        }
    }

    /// <summary>Runs <paramref name="build"/> once with a long idle timeout, counting the times the scheduler waited idle.</summary>
    private static ControlledTestResult RunCountingIdleWaits(out IdleWaits idleWaits, Action<Scenario> build)
    {
        var waits = new IdleWaits();
        idleWaits = waits;
        ControlledRun.IdleWaitObserver = _ => waits.Value++;
        try
        {
            return ControlledTest.Run(build, new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
        }
    }

    /// <summary>How many times the scheduler waited idle (for an outside release or an await).</summary>
    private sealed class IdleWaits
    {
        public int Value { get; set; }
    }
}
