using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>The engine itself: determinism, replay, the failure kinds, and no false alarms on correct code.</summary>
public sealed class EngineTests
{
    private static readonly ControlledTestOptions s_random = new() { Strategy = SchedulingStrategy.Random, Seed = 42, Iterations = 200 };

    /// <summary>Two flows add to a total under one lock; a final check always fails, so every run yields its trace.</summary>
    private static void GuardedIncrementsThenFail(Scenario scenario)
    {
        var gate = new ExclusiveLock("gate");
        var total = new int[1];
        for (int f = 0; f < 2; f++)
        {
            scenario.Thread(f == 0 ? "a" : "b", () =>
            {
                for (int i = 0; i < 3; i++)
                {
                    using var scope = gate.Acquire();
                    total[0]++;
                }
            });
        }

        scenario.Finally(() => throw new InvalidOperationException($"always fails (total {total[0]})"));
    }

    [Fact]
    public void SameSeedGivesTheSameScheduleAndTraceTwice()
    {
        foreach (var strategy in new[] { SchedulingStrategy.Random, SchedulingStrategy.Pct(2) })
        {
            var options = new ControlledTestOptions { Strategy = strategy, Seed = 7, Iterations = 1 };
            var first = ControlledTest.Run(GuardedIncrementsThenFail, options).Failure!;
            var second = ControlledTest.Run(GuardedIncrementsThenFail, options).Failure!;

            Assert.Equal(ControlledFailureKind.Assertion, first.Kind);
            Assert.Equal(first.Schedule, second.Schedule);
            Assert.Equal(first.Trace, second.Trace);
            Assert.Contains(first.Trace, e => e is { Flow: "a", Operation: "acquire", Target: "gate" });
            Assert.Contains(first.Trace, e => e is { Flow: "b", Operation: "release", Target: "gate" });
        }
    }

    [Fact]
    public void DifferentSeedsExploreDifferentSchedules()
    {
        var schedules = Enumerable.Range(0, 20)
            .Select(seed => ControlledTest.Run(GuardedIncrementsThenFail, new ControlledTestOptions { Seed = seed, Iterations = 1 }).Failure!.Schedule)
            .Distinct()
            .Count();

        Assert.True(schedules > 1, $"20 seeds gave {schedules} distinct schedule(s)");
    }

    [Fact]
    public void ReplayOfTheScheduleReproducesTheFailureAndTheTrace()
    {
        var failure = ControlledTest.Run(OppositeOrder, s_random).Failure;
        Assert.NotNull(failure);

        var replayed = ControlledTest.Replay(OppositeOrder, failure.Schedule).Failure;

        Assert.NotNull(replayed);
        Assert.Equal(failure.Kind, replayed.Kind);
        Assert.Equal(failure.Schedule, replayed.Schedule);
        Assert.Equal(failure.Trace, replayed.Trace);
        Assert.Equal(failure.Waits, replayed.Waits);
        Assert.Contains(failure.Schedule, failure.ReplayLine, StringComparison.Ordinal);

        // No seed chose the replayed run: its report offers the schedule again, not a seed-based rerun.
        Assert.False(failure.IsReplayOfSchedule);
        Assert.Contains("Or rerun: new ControlledTestOptions { Seed = ", failure.ToString(), StringComparison.Ordinal);
        Assert.True(replayed.IsReplayOfSchedule);
        Assert.StartsWith($"Controlled test failed (Deadlock) in a replay of schedule \"{failure.Schedule}\"", replayed.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Or rerun", replayed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheReportsReplayLine_PastedIntoATest_FailsTheTest()
    {
        // The line a report prints is what a user pastes into a test: it must throw when the replayed run fails, as
        // Check does, or the pasted test passes while the run it replays fails.
        var failure = ControlledTest.Run(OppositeOrder, s_random).Failure;
        Assert.NotNull(failure);
        Assert.Equal($"ControlledTest.CheckReplay(scenario, \"{failure.Schedule}\")", failure.ReplayLine);

        var thrown = Assert.Throws<ControlledTestFailure>(() => ControlledTest.CheckReplay(OppositeOrder, failure.Schedule));

        Assert.Equal(failure.Kind, thrown.Report.Kind);
        Assert.Equal(failure.Trace, thrown.Report.Trace);
        Assert.StartsWith($"Controlled test failed (Deadlock) in a replay of schedule \"{failure.Schedule}\"", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckReplay_OfAScheduleThatPasses_ReturnsThePassingResult()
    {
        var result = ControlledTest.CheckReplay(TwoIndependentFlows, "ab");

        Assert.True(result.Passed);
        Assert.Equal(1, result.IterationsRun);
    }

    /// <summary>
    /// A schedule with more choices than the run needed was recorded from other code (the code under test changed since,
    /// or another scenario): the replay passed silently, as if it had run the recorded schedule. It fails as Stuck,
    /// saying how many choices were left unused.
    /// </summary>
    [Fact]
    public void CheckReplay_OfAScheduleWithChoicesTheRunDoesNotUse_FailsSayingSo()
    {
        var failure = Assert.Throws<ControlledTestFailure>(() => ControlledTest.CheckReplay(TwoIndependentFlows, "abab"));

        var report = failure.Report;
        Assert.Equal(ControlledFailureKind.Stuck, report.Kind);
        Assert.Equal("abab", report.Schedule);
        Assert.Contains(
            "the replayed schedule does not fit this run: every flow finished after 2 of its 4 choices, and 2 are left unused: the code under test changed since the schedule was recorded, or it is another scenario's",
            report.Summary,
            StringComparison.Ordinal);
    }

    [Fact]
    public void ReplayBySeedAndIterationReproducesTheFailure()
    {
        var options = new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(2), Seed = 3, Iterations = 200 };
        var failure = ControlledTest.Run(OppositeOrder, options).Failure;
        Assert.NotNull(failure);

        var again = ControlledTest.Replay(OppositeOrder, options, failure.Iteration).Failure;

        Assert.NotNull(again);
        Assert.Equal(failure.Iteration, again.Iteration);
        Assert.Equal(failure.Schedule, again.Schedule);
        Assert.Equal(failure.Trace, again.Trace);
    }

    [Fact]
    public void ACorrectScenarioIsNotFlaggedOver200Iterations()
    {
        foreach (var strategy in new[] { SchedulingStrategy.Random, SchedulingStrategy.Pct(3) })
        {
            var result = ControlledTest.Run(
                scenario =>
                {
                    var gate = new ExclusiveLock("gate");
                    int total = 0;
                    for (int f = 0; f < 2; f++)
                    {
                        scenario.Thread($"t{f}", () =>
                        {
                            for (int i = 0; i < 5; i++)
                            {
                                using var scope = gate.Acquire();
                                int seen = total;
                                ControlledTest.Interleave();
                                total = seen + 1;
                            }
                        });
                    }

                    scenario.Finally(() => Assert.Equal(10, total));
                },
                new ControlledTestOptions { Strategy = strategy, Seed = 42, Iterations = 200 });

            Assert.True(result.Passed, result.ToString());
            Assert.Equal(200, result.IterationsRun);
        }
    }

    [Fact]
    public void AnUnguardedReadModifyWriteIsFound()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                int total = 0;
                for (int f = 0; f < 2; f++)
                {
                    scenario.Thread($"t{f}", () =>
                    {
                        int seen = total;
                        ControlledTest.Interleave();
                        total = seen + 1;
                    });
                }

                scenario.Finally(() => Assert.Equal(2, total));
            },
            s_random);

        Assert.False(result.Passed);
        Assert.Equal(ControlledFailureKind.Assertion, result.Failure!.Kind);
        Assert.IsType<Xunit.Sdk.EqualException>(result.Failure.Exception);
    }

    /// <summary>
    /// An async check is awaited, so its failure fails the run (as an <c>async void</c> bound to the Action overload it
    /// would have crashed the test host), and its passing lets the run pass.
    /// </summary>
    [Fact]
    public void AnAsyncFinallyCheck_IsAwaited_AndItsFailureFailsTheRun()
    {
        int checksRun = 0;
        var failing = ControlledTest.Run(
            scenario =>
            {
                int total = 0;
                var gate = new AsyncExclusiveLock("async-finally-gate");
                for (int f = 0; f < 2; f++)
                {
                    scenario.Thread($"t{f}", () =>
                    {
                        int seen = total;
                        ControlledTest.Interleave();
                        total = seen + 1;
                    });
                }

                scenario.Finally(async () =>
                {
                    using var scope = await gate.AcquireAsync();
                    await Task.Yield();
                    Interlocked.Increment(ref checksRun);
                    Assert.Equal(2, total);
                });
            },
            s_random);

        Assert.False(failing.Passed);
        Assert.Equal(ControlledFailureKind.Assertion, failing.Failure!.Kind);
        Assert.IsType<Xunit.Sdk.EqualException>(failing.Failure.Exception);
        Assert.True(checksRun >= 1);

        int passingChecks = 0;
        var passing = ControlledTest.Run(
            scenario =>
            {
                var counter = new AsyncExclusiveLock("async-finally-counter");
                int total = 0;
                scenario.Flow("adder", async () =>
                {
                    using var scope = await counter.AcquireAsync();
                    total++;
                });
                scenario.Finally(async () =>
                {
                    await Task.Yield();
                    Assert.Equal(1, total);
                    Interlocked.Increment(ref passingChecks);
                });
            },
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 7, Iterations = 20 });

        Assert.True(passing.Passed, passing.Failure?.ToString());
        Assert.Equal(20, passingChecks);
    }

    /// <summary>Two flows take two unordered locks in opposite order (no order check applies to unordered locks).</summary>
    private static void OppositeOrder(Scenario scenario)
    {
        var accounts = new ExclusiveLock("accounts");
        var ledger = new ExclusiveLock("ledger");
        scenario.Thread("transfer", () =>
        {
            using var first = accounts.Acquire();
            using var second = ledger.Acquire();
        });
        scenario.Thread("audit", () =>
        {
            using var first = ledger.Acquire();
            using var second = accounts.Acquire();
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(1234)]
    public void TheOppositeOrderDeadlockIsFoundAndNamesBothLocksAndBothFlows(int seed)
    {
        foreach (var strategy in new[] { SchedulingStrategy.Random, SchedulingStrategy.Pct(2) })
        {
            var failure = ControlledTest.Run(OppositeOrder, new ControlledTestOptions { Strategy = strategy, Seed = seed, Iterations = 200 }).Failure;

            Assert.NotNull(failure);
            Assert.Equal(ControlledFailureKind.Deadlock, failure.Kind);
            Assert.Equal(2, failure.Waits.Count);
            Assert.Contains(new WaitForEdge("transfer", "ledger", "audit"), failure.Waits);
            Assert.Contains(new WaitForEdge("audit", "accounts", "transfer"), failure.Waits);
            string message = failure.ToString();
            Assert.Contains("transfer waits for 'ledger' held by audit", message, StringComparison.Ordinal);
            Assert.Contains("audit waits for 'accounts' held by transfer", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CheckThrowsWithTheReportAsItsMessage()
    {
        var failure = Assert.Throws<ControlledTestFailure>(() => ControlledTest.Check(OppositeOrder, s_random));

        Assert.Equal(ControlledFailureKind.Deadlock, failure.Report.Kind);
        Assert.Contains("Replay: ControlledTest.CheckReplay(scenario, \"", failure.Message, StringComparison.Ordinal);
        Assert.Contains("seed 42", failure.Message, StringComparison.Ordinal);
        Assert.Contains("transfer: acquire accounts", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExceptionInAFlowIsReportedWithTheFlow()
    {
        var failure = ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("gate");
                scenario.Thread("calm", () =>
                {
                    using var scope = gate.Acquire();
                });
                scenario.Thread("thrower", () =>
                {
                    using var scope = gate.Acquire();
                    throw new FormatException("bad row 7");
                });
            },
            s_random).Failure;

        Assert.NotNull(failure);
        Assert.Equal(ControlledFailureKind.UnhandledException, failure.Kind);
        Assert.Equal("thrower", failure.Flow);
        Assert.IsType<FormatException>(failure.Exception);
        Assert.Contains("bad row 7", failure.Summary, StringComparison.Ordinal);
        Assert.Contains(failure.Trace, e => e is { Flow: "thrower", Operation: "throws", Target: "FormatException" });
    }

    [Fact]
    public void TheStepBoundCatchesASpinLivelockBuiltOnInterleave()
    {
        var failure = ControlledTest.Run(
            scenario =>
            {
                // Each waits for the other to go first: polite, and never done.
                bool aFirst = false;
                bool bFirst = false;
                scenario.Thread("a", () =>
                {
                    while (!bFirst)
                    {
                        ControlledTest.Interleave();
                    }

                    aFirst = true;
                });
                scenario.Thread("b", () =>
                {
                    while (!aFirst)
                    {
                        ControlledTest.Interleave();
                    }

                    bFirst = true;
                });
            },
            new ControlledTestOptions { Seed = 5, Iterations = 3, MaxSteps = 500 }).Failure;

        Assert.NotNull(failure);
        Assert.Equal(ControlledFailureKind.StepBoundExceeded, failure.Kind);
        Assert.Equal(0, failure.Iteration);
        Assert.Equal(500, failure.Steps);
        Assert.Contains(failure.Trace, e => e is { Flow: "a", Operation: "interleave" });
    }

    [Fact]
    public void PctLetsACorrectSpinWaitFinish()
    {
        // Depth 1 has no change point: when the waiter holds the higher priority it spins, and only the fair switch lets
        // the setter run before the step bound.
        var result = ControlledTest.Run(
            scenario =>
            {
                var ready = new AtomicCounter("ready");
                int data = 0;
                int seen = 0;
                scenario.Thread("setter", () =>
                {
                    data = 42;
                    ready.Increment();
                });
                scenario.Thread("waiter", () =>
                {
                    while (ready.Value == 0)
                    {
                        ControlledTest.Interleave();
                    }

                    seen = data;
                });
                scenario.Finally(() => Assert.Equal(42, seen));
            },
            new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(1), Seed = 6, Iterations = 100, MaxSteps = 2_000 });

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void ATimedAcquireIsTimedOutByTheSchedulerInsteadOfDeadlocking()
    {
        int iterationsThatBackedOff = 0;
        var result = ControlledTest.Run(
            scenario =>
            {
                var accounts = new ExclusiveLock("accounts");
                var ledger = new ExclusiveLock("ledger");
                int backedOff = 0;
                scenario.Thread("transfer", () =>
                {
                    using var first = accounts.Acquire();
                    using var second = ledger.Acquire();
                });
                scenario.Thread("audit", () =>
                {
                    using var first = ledger.Acquire();
                    if (accounts.TryAcquire(TimeSpan.FromSeconds(1), out var second))
                    {
                        second.Dispose();
                    }
                    else
                    {
                        backedOff++;
                    }
                });
                scenario.Finally(() => iterationsThatBackedOff += backedOff);
            },
            s_random);

        // Every iteration ended (none deadlocked), and in some the scheduler really timed the audit's wait out.
        Assert.True(result.Passed, result.ToString());
        Assert.InRange(iterationsThatBackedOff, 1, result.IterationsRun);
    }

    [Fact]
    public void AWaitTheSchedulerTimesOutReportsTheTimeoutItStoodFor_SyncAndAsync()
    {
        // Under the scheduler no real time passes; the exception and the event give the timeout the wait stood for.
        var thrown = new System.Collections.Generic.List<LockTimeoutException>();
        var events = new System.Collections.Generic.List<LockTimeoutEvent>();
        Action<LockTimeoutEvent> listen = e =>
        {
            lock (events)
            {
                events.Add(e);
            }
        };
        LocksmithPolicy.TimeoutOccurred += listen;
        try
        {
            var result = ControlledTest.Run(
                scenario => OppositeOrderTimeoutScenario.Build(scenario, thrown),
                new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 3, Iterations = 100 });

            Assert.True(result.Passed, result.ToString());
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred -= listen;
        }

        Assert.Contains(thrown, e => e.LockName == "gate");
        Assert.Contains(thrown, e => e.LockName == "async-gate");
        Assert.All(thrown, e => Assert.Equal(e.LockName == "gate" ? 1500 : 2500, e.Waited.TotalMilliseconds));
        Assert.All(thrown, e => Assert.Contains(e.LockName == "gate" ? "timed out after 1500 ms" : "timed out after 2500 ms", e.Message, StringComparison.Ordinal));
        lock (events)
        {
            Assert.Contains(events, e => e.LockName == "gate" && e.Waited == TimeSpan.FromMilliseconds(1500));
            Assert.Contains(events, e => e.LockName == "async-gate" && e.Waited == TimeSpan.FromMilliseconds(2500));
        }
    }

    [Fact]
    public void TheTraceRenumbersGeneratedLockNamesSoReplaysMatch()
    {
        static void Build(Scenario scenario)
        {
            var gate = new ExclusiveLock();
            scenario.Thread("only", () =>
            {
                using var scope = gate.Acquire();
            });
            scenario.Finally(() => throw new InvalidOperationException("show the trace"));
        }

        var first = ControlledTest.Run(Build, new ControlledTestOptions { Iterations = 1 }).Failure!;
        var second = ControlledTest.Run(Build, new ControlledTestOptions { Iterations = 1 }).Failure!;

        Assert.Equal(first.Trace, second.Trace);
        Assert.Contains(first.Trace, e => e.Operation == "acquire" && e.Target.StartsWith("ExclusiveLock#1 (", StringComparison.Ordinal));
    }

    [Fact]
    public void AsyncFlowsInterleaveAtAwaitsAndLockOperations()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new AsyncExclusiveLock("gate");
                int total = 0;
                for (int f = 0; f < 2; f++)
                {
                    scenario.Flow($"f{f}", async () =>
                    {
                        for (int i = 0; i < 3; i++)
                        {
                            using var scope = await gate.AcquireAsync();
                            int seen = total;
                            await Task.Yield();
                            total = seen + 1;
                        }
                    });
                }

                scenario.Finally(() => Assert.Equal(6, total));
            },
            new ControlledTestOptions { Seed = 11, Iterations = 100 });

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void AnAsyncOppositeOrderDeadlockIsFound()
    {
        var failure = ControlledTest.Run(
            scenario =>
            {
                var accounts = new AsyncExclusiveLock("accounts");
                var ledger = new AsyncExclusiveLock("ledger");
                scenario.Flow("transfer", async () =>
                {
                    using var first = await accounts.AcquireAsync();
                    await Task.Yield();
                    using var second = await ledger.AcquireAsync();
                });
                scenario.Flow("audit", async () =>
                {
                    using var first = await ledger.AcquireAsync();
                    await Task.Yield();
                    using var second = await accounts.AcquireAsync();
                });
            },
            s_random).Failure;

        Assert.NotNull(failure);
        Assert.Equal(ControlledFailureKind.Deadlock, failure.Kind);
        Assert.Contains(new WaitForEdge("transfer", "ledger", "audit"), failure.Waits);
        Assert.Contains(new WaitForEdge("audit", "accounts", "transfer"), failure.Waits);
    }

    [Fact]
    public void AReplayOfAnIterationTheOptionsDoNotRun_IsRejectedNamingTheRange()
    {
        // Before, iteration 500 of a 10-iteration run quietly ran 501 iterations.
        var options = new ControlledTestOptions { Seed = 3, Iterations = 10 };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ControlledTest.Replay(OppositeOrder, options, 500));

        Assert.Equal("iteration", error.ParamName);
        Assert.Contains("Iteration 500 is not in a run of 10 iteration(s) (0 to 9)", error.Message, StringComparison.Ordinal);
        Assert.NotNull(ControlledTest.Replay(OppositeOrder, options, 9));
    }

    [Fact]
    public void AnAsyncBodyGivenToThread_IsRejectedAtOnce_SayingToUseFlow()
    {
        // Before, it ran as async void: the run failed later with a misleading report (a lost count, or a deadlock naming
        // a flow that had finished while holding the lock).
        var error = Assert.Throws<ArgumentException>(() => ControlledTest.Run(
            scenario =>
            {
                var gate = new AsyncExclusiveLock("gate");
                scenario.Thread("loader", async () =>
                {
                    using var scope = await gate.AcquireAsync();
                });
            },
            s_random));

        Assert.Equal("body", error.ParamName);
        Assert.Contains("The body of 'loader' is async, which Scenario.Thread would run as async void", error.Message, StringComparison.Ordinal);
        Assert.Contains("call Scenario.Flow(\"loader\", async () => ...)", error.Message, StringComparison.Ordinal);

        // A synchronous body whose end is unreachable (it always throws) is still a thread.
        var failure = ControlledTest.Run(scenario => scenario.Thread("thrower", () => throw new FormatException("row 7")), s_random).Failure;
        Assert.NotNull(failure);
        Assert.IsType<FormatException>(failure.Exception);
    }

    [Fact]
    public void AMalformedScheduleIsRejected()
    {
        Assert.Throws<FormatException>(() => ControlledTest.Replay(OppositeOrder, "a2?"));
    }

    [Fact]
    public void AScheduleThatNoLongerFitsIsReportedAsStuck()
    {
        // Flow 'z' does not exist in this scenario.
        var failure = ControlledTest.Replay(OppositeOrder, "z").Failure;

        Assert.NotNull(failure);
        Assert.Equal(ControlledFailureKind.Stuck, failure.Kind);
    }

    [Fact]
    public void AReplayThatStopsShortOfItsSchedule_ReportsTheScheduleItWasGiven()
    {
        // The user fixed the scenario (or pasted a schedule from another test) and replays the old schedule: the run stops
        // at choice 2, which the scenario does not offer. Before, the report named only the choices made before it ("a"),
        // in its first line and its replay line, and replaying "a" fails differently ("the schedule ends after 1 choices").
        var replayed = ControlledTest.Replay(TwoIndependentFlows, "azb").Failure;

        Assert.NotNull(replayed);
        Assert.Equal(ControlledFailureKind.Stuck, replayed.Kind);
        Assert.Equal("azb", replayed.Schedule);
        Assert.Equal("ControlledTest.CheckReplay(scenario, \"azb\")", replayed.ReplayLine);
        Assert.StartsWith("Controlled test failed (Stuck) in a replay of schedule \"azb\"", replayed.ToString(), StringComparison.Ordinal);

        // Replaying what the report offers gives the same failure again.
        var again = ControlledTest.Replay(TwoIndependentFlows, replayed.Schedule).Failure;
        Assert.NotNull(again);
        Assert.Equal(replayed.Summary, again.Summary);
        Assert.Equal(replayed.Trace, again.Trace);
    }

    [Fact]
    public void AReplayThatFailsBeforeItsScheduleEnds_ReportsTheScheduleItWasGiven()
    {
        // Flow 'a' throws at its first step; the schedule goes on past it. The report offers the schedule given, in its canonical form.
        var replayed = ControlledTest.Replay(
            scenario =>
            {
                scenario.Thread("a", () => throw new InvalidOperationException("a fails"));
                scenario.Thread("b", () => { });
            },
            "aabb").Failure;

        Assert.NotNull(replayed);
        Assert.Equal(ControlledFailureKind.UnhandledException, replayed.Kind);
        Assert.Equal("a2b2", replayed.Schedule);
    }

    [Fact]
    public void AScheduleThatNoLongerFits_SaysWhichFlowsTheRunHadThere()
    {
        // Before, both said only "… runs flow 'z' / 'a', which the run does not offer there": not that the scenario has two
        // flows, nor which letter is which flow and what each was doing.
        var beyond = ControlledTest.Replay(ProducerAndConsumer, "az").Failure;
        var finished = ControlledTest.Replay(ProducerAndConsumer, "aa").Failure;

        Assert.NotNull(beyond);
        Assert.Contains("choice 2 of the schedule runs flow 'z', but the scenario has 2 flows (a to b)", beyond.Summary, StringComparison.Ordinal);
        Assert.Contains("a = 'producer' (finished), b = 'consumer' (runnable)", beyond.Summary, StringComparison.Ordinal);
        Assert.NotNull(finished);
        Assert.Contains("choice 2 of the schedule runs flow 'a', which the run does not offer there", finished.Summary, StringComparison.Ordinal);
        Assert.Contains("a = 'producer' (finished), b = 'consumer' (runnable)", finished.Summary, StringComparison.Ordinal);
    }

    private static void ProducerAndConsumer(Scenario scenario)
    {
        scenario.Thread("producer", () => { });
        scenario.Thread("consumer", () => { });
    }

    private static void TwoIndependentFlows(Scenario scenario)
    {
        scenario.Thread("a", () => { });
        scenario.Thread("b", () => { });
    }
}
