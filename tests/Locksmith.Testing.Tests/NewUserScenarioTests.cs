using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Scenarios written the way a new user of the package writes them from the README's "Systematic testing" section alone:
/// their own small service code, the public API only, and the README's promises checked (the outcome kind, the waits
/// and summary, the replay by schedule and by seed, and that a seed always gives the same runs).
/// </summary>
public sealed class NewUserScenarioTests
{
    // 1 and 2. A hit counter kept in a plain field: read, then (after a switch the README says to mark) write.
    private static Action<Scenario> HitCounter(bool guarded) => scenario =>
    {
        var counterLock = new ExclusiveLock("hits");
        int hits = 0;
        for (int w = 0; w < 2; w++)
        {
            scenario.Thread($"web{w}", () =>
            {
                if (guarded)
                {
                    using (counterLock.Acquire())
                    {
                        int seen = hits;
                        ControlledTest.Interleave();
                        hits = seen + 1;
                    }
                }
                else
                {
                    int seen = hits;
                    ControlledTest.Interleave(); // the README: mark unguarded shared state, or the race is invisible
                    hits = seen + 1;
                }
            });
        }

        scenario.Finally(() => Assert.Equal(2, hits));
    };

    [Fact]
    public void AnUnguardedCounter_LosesAnUpdate_AndTheReportReplaysBySeedAndBySchedule()
    {
        var options = new ControlledTestOptions { Seed = 0, Iterations = 100 };
        var report = Assert.IsType<ControlledTestReport>(ControlledTest.Run(HitCounter(guarded: false), options).Failure);

        Assert.Equal(ControlledFailureKind.Assertion, report.Kind);
        Assert.IsType<Xunit.Sdk.EqualException>(report.Exception);
        Assert.False(report.IsReplayOfSchedule);
        Assert.Equal($"ControlledTest.CheckReplay(scenario, \"{report.Schedule}\")", report.ReplayLine);

        // A seed always gives the same runs: the whole report, text included, is the same the second time.
        var again = Assert.IsType<ControlledTestReport>(ControlledTest.Run(HitCounter(guarded: false), options).Failure);
        Assert.Equal(report.Iteration, again.Iteration);
        Assert.Equal(report.Schedule, again.Schedule);
        Assert.Equal(report.ToString(), again.ToString());

        var bySchedule = Assert.IsType<ControlledTestReport>(ControlledTest.Replay(HitCounter(guarded: false), report.Schedule).Failure);
        Assert.True(bySchedule.IsReplayOfSchedule);
        Assert.Equal(report.Kind, bySchedule.Kind);
        Assert.Equal(report.Trace, bySchedule.Trace);
        Assert.Equal(report.Summary, bySchedule.Summary);
        Assert.Contains($"in a replay of schedule \"{report.Schedule}\"", bySchedule.ToString(), StringComparison.Ordinal);

        var bySeed = Assert.IsType<ControlledTestReport>(ControlledTest.Replay(HitCounter(guarded: false), options, report.Iteration).Failure);
        Assert.Equal(report.Schedule, bySeed.Schedule);
        Assert.Equal(report.Trace, bySeed.Trace);

        // Check throws the same report, its message being the report's text.
        var failure = Assert.Throws<ControlledTestFailure>(() => ControlledTest.Check(HitCounter(guarded: false), options));
        Assert.Equal(report.ToString(), failure.Report.ToString());
        Assert.Contains(report.ReplayLine, failure.Message, StringComparison.Ordinal);
        var replayFailure = Assert.Throws<ControlledTestFailure>(() => ControlledTest.CheckReplay(HitCounter(guarded: false), report.Schedule));
        Assert.Equal(report.Trace, replayFailure.Report.Trace);

        // An iteration the options never ran is refused rather than replayed.
        Assert.Throws<ArgumentOutOfRangeException>(() => ControlledTest.Replay(HitCounter(guarded: false), options, options.Iterations));
    }

    [Fact]
    public void TheSameCounterUnderAnExclusiveLock_PassesTheSameBudget_AndItsBrokenScheduleNoLongerFits()
    {
        var options = new ControlledTestOptions { Seed = 0, Iterations = 100 };
        var result = ControlledTest.Check(HitCounter(guarded: true), options);
        Assert.True(result.Passed);
        Assert.Null(result.Failure);
        Assert.Equal(100, result.IterationsRun);

        // The README: a replay line is for debugging; after the fix the schedule no longer fits and says so (Stuck).
        var broken = Assert.IsType<ControlledTestReport>(ControlledTest.Run(HitCounter(guarded: false), options).Failure);
        var replayed = Assert.IsType<ControlledTestReport>(ControlledTest.Replay(HitCounter(guarded: true), broken.Schedule).Failure);
        Assert.Equal(ControlledFailureKind.Stuck, replayed.Kind);
        Assert.Contains("the code under test changed since the schedule was recorded", replayed.Summary, StringComparison.Ordinal);
    }

    // 3. A transfer between two accounts that locks "from" then "to": two opposite transfers deadlock.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OppositeTransfers_AreADeadlockNamingBothFlowsAndBothLocks(bool async)
    {
        Action<Scenario> transfers = scenario =>
        {
            if (async)
            {
                var alice = new AsyncExclusiveLock("account:alice");
                var bob = new AsyncExclusiveLock("account:bob");
                scenario.Flow("alice->bob", async () => { using var from = await alice.AcquireAsync(); using var to = await bob.AcquireAsync(); });
                scenario.Flow("bob->alice", async () => { using var from = await bob.AcquireAsync(); using var to = await alice.AcquireAsync(); });
            }
            else
            {
                var alice = new ExclusiveLock("account:alice");
                var bob = new ExclusiveLock("account:bob");
                scenario.Thread("alice->bob", () => { using var from = alice.Acquire(); using var to = bob.Acquire(); });
                scenario.Thread("bob->alice", () => { using var from = bob.Acquire(); using var to = alice.Acquire(); });
            }
        };

        var report = AssertDeadlockWith(
            ControlledTest.Run(transfers),
            new WaitForEdge("alice->bob", "account:bob", "bob->alice"), new WaitForEdge("bob->alice", "account:alice", "alice->bob"));
        Assert.Contains("alice->bob waits for 'account:bob' held by bob->alice", report.Summary, StringComparison.Ordinal);
        Assert.Contains("bob->alice waits for 'account:alice' held by alice->bob", report.Summary, StringComparison.Ordinal);
        Assert.Contains(report.Trace, e => e is { Flow: "alice->bob", Operation: "blocked on", Target: "account:bob" });
        Assert.Contains(report.Trace, e => e is { Flow: "bob->alice", Operation: "blocked on", Target: "account:alice" });
        Assert.Equal(report.Trace, ControlledTest.Replay(transfers, report.Schedule).Failure?.Trace);
    }

    // 4. A sync worker thread and an async request share a connection pool and a journal lock, taken in opposite orders.
    [Fact]
    public void ASyncThreadAndAnAsyncFlow_DeadlockThroughASemaphoreAndALock()
    {
        static void Build(Scenario scenario)
        {
            var pool = new CountingSemaphore(1, 1, "pool");
            var journal = new ExclusiveLock("journal");
            scenario.Thread("worker", () => { using var j = journal.Acquire(); using var p = pool.Acquire(); });
            scenario.Flow("api", async () => { using var p = await pool.AcquireAsync(); using (journal.Acquire()) { } });
        }

        var report = AssertDeadlockWith(
            ControlledTest.Run(Build), new WaitForEdge("api", "journal", "worker"), new WaitForEdge("worker", "pool", "api"));
        Assert.EndsWith("'pool' has 0 of 1 permits free: api holds 1", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void ASyncThreadAndAnAsyncFlow_ShareOnePermitSafely()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var pool = new CountingSemaphore(1, 1, "pool");
                int inUse = 0, most = 0;
                scenario.Thread("batch", () =>
                {
                    for (int i = 0; i < 2; i++)
                    {
                        using (pool.Acquire())
                        {
                            most = Math.Max(most, ++inUse);
                            ControlledTest.Interleave();
                            inUse--;
                        }
                    }
                });
                scenario.Flow("request", async () =>
                {
                    for (int i = 0; i < 2; i++)
                    {
                        using (await pool.AcquireAsync())
                        {
                            most = Math.Max(most, ++inUse);
                            await Task.Yield();
                            ControlledTest.Interleave();
                            inUse--;
                        }
                    }
                });
                scenario.Finally(() =>
                {
                    Assert.Equal(1, most);
                    Assert.Equal(1, pool.CurrentCount);
                });
            },
            new ControlledTestOptions { Seed = 3, Iterations = 200 });

        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal(200, result.IterationsRun);
    }

    // 5. An async catalog: "absent" seen under the read lock, added under a separate write lock.
    private static Action<Scenario> Catalog(bool fixedVersion) => scenario =>
    {
        var catalog = new AsyncReadWriteLock("catalog");
        var items = new Dictionary<string, int>();
        int created = 0;
        for (int r = 0; r < 2; r++)
        {
            scenario.Flow($"request{r}", async () =>
            {
                if (fixedVersion)
                {
                    using (await catalog.AcquireWriteAsync())
                    {
                        if (items.TryAdd("sku-1", 1))
                        {
                            created++;
                        }
                    }

                    return;
                }

                bool present;
                using (await catalog.AcquireReadAsync())
                {
                    present = items.ContainsKey("sku-1");
                }

                if (!present)
                {
                    using (await catalog.AcquireWriteAsync())
                    {
                        items["sku-1"] = 1;
                        created++;
                    }
                }
            });
        }

        scenario.Finally(async () =>
        {
            using (await catalog.AcquireReadAsync())
            {
                Assert.Equal(1, created);
            }
        });
    };

    [Fact]
    public void AnAsyncCheckThenActAcrossReadAndWriteLocks_IsFound_AndTheFixPasses()
    {
        var report = Assert.IsType<ControlledTestReport>(ControlledTest.Run(Catalog(fixedVersion: false)).Failure);
        Assert.Equal(ControlledFailureKind.Assertion, report.Kind);
        Assert.Contains(report.Trace, e => e is { Operation: "acquire read", Target: "catalog" });
        Assert.Contains(report.Trace, e => e is { Operation: "acquire write", Target: "catalog" });
        Assert.Equal(report.Trace, ControlledTest.Replay(Catalog(fixedVersion: false), report.Schedule).Failure?.Trace);

        Assert.True(ControlledTest.Check(Catalog(fixedVersion: true)).Passed);
    }

    [Fact]
    public void UpgradingAnAsyncReadToAWrite_IsAnUnhandledExceptionOfThatFlow_NamedByItsName()
    {
        var report = Assert.IsType<ControlledTestReport>(ControlledTest.Run(
            scenario =>
            {
                var catalog = new AsyncReadWriteLock("catalog");
                scenario.Flow("upgrader", async () =>
                {
                    using var read = await catalog.AcquireReadAsync();
                    using var write = await catalog.AcquireWriteAsync();
                });
                scenario.Flow("reader", async () => { using var read = await catalog.AcquireReadAsync(); });
            }).Failure);

        Assert.Equal(ControlledFailureKind.UnhandledException, report.Kind);
        Assert.Equal("upgrader", report.Flow);
        Assert.IsType<LockRecursionException>(report.Exception);
        Assert.Contains("Flow 'upgrader'", report.Summary, StringComparison.Ordinal);
        Assert.Contains("write lock of 'catalog' while it holds the read lock", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(thread|flow) #?\d", report.Summary); // numbers change from run to run; names do not
        Assert.Contains(report.Trace, e => e is { Flow: "upgrader", Operation: "throws", Target: "LockRecursionException" });
    }

    // 6. An async connection pool of two: three queries never hold more than two connections; one that drops its
    // connection on a path leaves the next query waiting forever.
    [Fact]
    public void AnAsyncPoolOfTwo_NeverLendsAThird_AndALeakedConnectionIsADeadlockNamingTheLeaker()
    {
        int most = 0;
        var result = ControlledTest.Run(
            scenario =>
            {
                var pool = new CountingSemaphore(2, 2, "db");
                int inUse = 0;
                for (int q = 0; q < 3; q++)
                {
                    scenario.Flow($"query{q}", async () =>
                    {
                        using (await pool.AcquireAsync())
                        {
                            most = Math.Max(most, ++inUse);
                            await Task.Yield();
                            ControlledTest.Interleave();
                            inUse--;
                        }
                    });
                }

                scenario.Finally(() => Assert.Equal(2, pool.CurrentCount));
            });
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal(2, most);

        var report = Assert.IsType<ControlledTestReport>(ControlledTest.Run(scenario =>
        {
            var pool = new CountingSemaphore(1, 1, "conn");
            scenario.Flow("bad-query", async () =>
            {
                var connection = await pool.AcquireAsync();
                await Task.Yield();
                if (connection.IsAcquired)
                {
                    return; // the early return forgets the connection
                }

                connection.Dispose();
            });
            scenario.Flow("good-query", async () => { using var connection = await pool.AcquireAsync(); });
        }).Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal([new WaitForEdge("good-query", "conn", null)], report.Waits);
        Assert.Contains("No live flow holds 'conn'; taken and not given back by bad-query", report.Summary, StringComparison.Ordinal);
    }

    // 7. A timed acquire in a controlled run: the scheduler ends it only when nothing else can run, the exception names
    // the flows as the trace does, the schedule marks it with '!', and it replays.
    private static Action<Scenario> GateWithTimeout(bool catchTimeout) => scenario =>
    {
        var gate = new ExclusiveLock("gate");
        var signal = new CountingSemaphore(0, 1, "signal");
        scenario.Thread("holder", () =>
        {
            using var held = gate.Acquire();
            using var permit = signal.Acquire(); // waits for the waiter's signal while holding the gate
        });
        scenario.Thread("waiter", () =>
        {
            try
            {
                using var held = gate.Acquire(TimeSpan.FromMilliseconds(1500));
            }
            catch (LockTimeoutException) when (catchTimeout)
            {
            }

            signal.Release();
        });
    };

    [Fact]
    public void ATimedAcquireEndedByTheScheduler_NamesTheFlows_IsMarkedInTheSchedule_AndReplays()
    {
        var report = Assert.IsType<ControlledTestReport>(ControlledTest.Run(GateWithTimeout(catchTimeout: false)).Failure);

        Assert.Equal(ControlledFailureKind.UnhandledException, report.Kind);
        Assert.Equal("waiter", report.Flow);
        var timeout = Assert.IsType<LockTimeoutException>(report.Exception);
        Assert.Equal("gate", timeout.LockName);
        Assert.Equal("holder", timeout.OwnerThreadName);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), timeout.Waited);
        Assert.Matches(@"^Thread \d+ \('waiter'\) timed out after 1500 ms waiting for exclusive access to 'gate', held by thread \d+ \('holder'\)\.", timeout.Message);
        Assert.DoesNotMatch(@"thread \d", report.Summary);
        Assert.Contains("!", report.Schedule, StringComparison.Ordinal);
        Assert.Contains(report.Trace, e => e is { Flow: "waiter", Operation: "times out on", Target: "gate" });

        var replayed = Assert.IsType<ControlledTestReport>(ControlledTest.Replay(GateWithTimeout(catchTimeout: false), report.Schedule).Failure);
        Assert.Equal(report.Trace, replayed.Trace);
        Assert.Equal(report.Summary, replayed.Summary);

        Assert.True(ControlledTest.Check(GateWithTimeout(catchTimeout: true)).Passed);
    }

    [Fact]
    public void AnAsyncTimedAcquire_IsEndedOnlyWhenNothingElseCanRun_AndItsMessageNamesBothFlows()
    {
        var messages = new List<string>();
        int granted = 0;
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new AsyncExclusiveLock("async-gate");
                var signal = new CountingSemaphore(0, 1, "async-signal");
                var busy = new AsyncExclusiveLock("busy");
                scenario.Flow("async-holder", async () =>
                {
                    using var held = await gate.AcquireAsync();
                    using var permit = await signal.AcquireAsync();
                });
                scenario.Flow("async-waiter", async () =>
                {
                    try
                    {
                        using var held = await gate.AcquireAsync(TimeSpan.FromMilliseconds(2500));
                        Interlocked.Increment(ref granted);
                    }
                    catch (LockTimeoutException e)
                    {
                        lock (messages)
                        {
                            messages.Add(e.Message);
                        }
                    }

                    signal.Release();
                });

                // A third flow that can always run: a timeout is never taken while it is runnable, so it cannot change
                // whether the waiter times out, only when.
                scenario.Flow("bystander", async () =>
                {
                    for (int i = 0; i < 3; i++)
                    {
                        using (await busy.AcquireAsync())
                        {
                        }
                    }
                });
            },
            new ControlledTestOptions { Seed = 1, Iterations = 100 });

        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.NotEmpty(messages);
        Assert.True(granted > 0, "the waiter never got the gate first in 100 runs");
        Assert.All(messages, m => Assert.Matches(
            @"^Flow #\d+ \('async-waiter'\) \(on thread \d+[^)]*\)?\) timed out after 2500 ms waiting for exclusive access to 'async-gate', held by flow #\d+ \('async-holder'\)\.",
            m));
    }

    // 8. A timed try that must succeed: the holder can always go on, so the scheduler never takes the timeout.
    [Fact]
    public void ATimedTryAcquire_NeverFailsWhileTheHolderCanRun()
    {
        int failedTries = 0;
        var result = ControlledTest.Run(
            scenario =>
            {
                var cache = new ExclusiveLock("cache");
                scenario.Thread("refresh", () =>
                {
                    using var held = cache.Acquire();
                    ControlledTest.Interleave();
                    ControlledTest.Interleave();
                });
                scenario.Thread("reader", () =>
                {
                    if (cache.TryAcquire(TimeSpan.FromMilliseconds(100), out var scope))
                    {
                        scope.Dispose();
                    }
                    else
                    {
                        Interlocked.Increment(ref failedTries);
                    }
                });
            },
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 200 });

        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal(0, failedTries);
    }

    // 9. An exception after an await, in an async flow: reported for that flow, with the trace up to it.
    [Fact]
    public void AnExceptionAfterAnAwait_IsReportedAsThatFlowsUnhandledException()
    {
        var report = Assert.IsType<ControlledTestReport>(ControlledTest.Run(scenario =>
        {
            var orders = new AsyncExclusiveLock("orders");
            scenario.Flow("ok", async () => { using var held = await orders.AcquireAsync(); });
            scenario.Flow("bad", async () =>
            {
                using (await orders.AcquireAsync())
                {
                }

                throw new InvalidOperationException("order 42 has no lines");
            });
        }).Failure);

        Assert.Equal(ControlledFailureKind.UnhandledException, report.Kind);
        Assert.Equal("bad", report.Flow);
        Assert.Equal("order 42 has no lines", Assert.IsType<InvalidOperationException>(report.Exception).Message);
        Assert.StartsWith("flow 'bad' threw InvalidOperationException: order 42 has no lines", report.Summary, StringComparison.Ordinal);
        Assert.Equal(new TraceEntry(report.Trace[^1].Step, "bad", "throws", "InvalidOperationException"), report.Trace[^1]);
    }

    /// <summary>The run failed as a deadlock whose waits, by flow name, are <paramref name="edges"/>; its report.</summary>
    private static ControlledTestReport AssertDeadlockWith(ControlledTestResult result, params WaitForEdge[] edges)
    {
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(edges, report.Waits.OrderBy(w => w.Flow, StringComparer.Ordinal));
        return report;
    }
}
