using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A second new-user trial of the README's "Systematic testing" section, from the public API only: the strategies and
/// options, determinism per strategy, each outcome kind and what its report names, the primitives the scheduler controls
/// (and what it does not), replay's refusals and mismatches. <see cref="NewUserScenarioTests"/> covers the rest.
/// </summary>
public sealed class NewUserSchedulerTrialTests
{
    private const int Budget = 200; // README: every broken scenario is found within 200 runs for fixed seeds, per strategy

    // Long enough that a flow which does reach its next scheduling point is never taken for stuck on a loaded machine;
    // each test that expects Stuck pays it once.
    private static readonly ControlledTestOptions s_fiveSecondIdle = new() { Strategy = SchedulingStrategy.Random, Iterations = 20, IdleTimeout = TimeSpan.FromSeconds(5) };

    private static SchedulingStrategy StrategyNamed(string name) => name switch
    {
        "Random" => SchedulingStrategy.Random,
        "Pct(2)" => SchedulingStrategy.Pct(2),
        "Pct(3)" => SchedulingStrategy.Pct(3),
        "Portfolio" => SchedulingStrategy.Portfolio,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static ControlledTestReport Failed(ControlledTestResult result) => Assert.IsType<ControlledTestReport>(result.Failure);

    private static ControlledTestReport FailedAs(ControlledFailureKind kind, ControlledTestResult result)
    {
        var report = Failed(result);
        Assert.True(report.Kind == kind, report.ToString());
        return report;
    }

    private static void AssertPasses(ControlledTestResult result, int iterations)
    {
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal(iterations, result.IterationsRun);
    }

    // ---- Options and strategies ---------------------------------------------------------------------------------------

    [Fact]
    public void TheDefaults_AreTheReadmeValues_AndOptionsAndStrategiesAreRecords()
    {
        var defaults = new ControlledTestOptions();
        Assert.Equal(SchedulingStrategy.Portfolio, defaults.Strategy);
        Assert.Equal(0, defaults.Seed);
        Assert.Equal(100, defaults.Iterations);
        Assert.Equal(10_000, defaults.MaxSteps);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.IdleTimeout);
        Assert.Equal(3, SchedulingStrategy.Pct().Depth);
        Assert.True(SchedulingStrategy.Pct().IsPct);
        Assert.False(SchedulingStrategy.Random.IsPct);

        Assert.Equal(SchedulingStrategy.Pct(2), SchedulingStrategy.Pct(2));
        Assert.True(SchedulingStrategy.Pct(2) == SchedulingStrategy.Pct(2));
        Assert.NotEqual(SchedulingStrategy.Pct(2), SchedulingStrategy.Pct(3));
        Assert.NotEqual(SchedulingStrategy.Random, SchedulingStrategy.Portfolio);
        Assert.Equal(["Random", "Pct(2)", "Pct(3)", "Portfolio"], new[] { "Random", "Pct(2)", "Pct(3)", "Portfolio" }.Select(n => StrategyNamed(n).ToString()));

        var shared = new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(2), Iterations = 50 };
        var varied = shared with { Seed = 7 };
        Assert.Equal(0, shared.Seed);
        Assert.Equal(new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(2), Iterations = 50, Seed = 7 }, varied);
        Assert.Contains("Seed = 7", varied.ToString(), StringComparison.Ordinal);
        Assert.Contains("Strategy = Pct(2)", varied.ToString(), StringComparison.Ordinal);
        Assert.Contains("Iterations = 50", varied.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Two flows on one lock; only iteration <paramref name="failing"/> adds a check, and it fails.</summary>
    private static Action<Scenario> FailsOnlyInIteration(int failing) => scenario =>
    {
        var gate = new ExclusiveLock("gate");
        scenario.Thread("a", () => { using (gate.Acquire()) { } });
        scenario.Thread("b", () => { using (gate.Acquire()) { } });
        if (scenario.Iteration == failing)
        {
            scenario.Finally(() => throw new InvalidOperationException($"planted in iteration {failing}"));
        }
    };

    [Theory]
    [InlineData("Portfolio", 3, "strategy Portfolio, Random in this iteration, ")]
    [InlineData("Portfolio", 4, "strategy Portfolio, Pct(2) in this iteration, ")]
    [InlineData("Portfolio", 5, "strategy Portfolio, Pct(3) in this iteration, ")]
    [InlineData("Pct(2)", 4, "strategy Pct(2), ")]
    public void TheReport_NamesSeedIterationAndStrategy_ThePortfolioMember_AndARerunLineThatFailsInItsLastIteration(string strategy, int failing, string named)
    {
        var options = new ControlledTestOptions { Strategy = StrategyNamed(strategy), Seed = 5, Iterations = 10 };
        var report = FailedAs(ControlledFailureKind.Assertion, ControlledTest.Run(FailsOnlyInIteration(failing), options));

        Assert.Equal(failing, report.Iteration);
        Assert.Equal(5, report.Seed);
        Assert.Equal(options.Strategy, report.Strategy);
        string text = report.ToString();
        Assert.StartsWith($"Controlled test failed (Assertion) in iteration {failing} (seed 5, {named}{report.Steps} steps): ", text, StringComparison.Ordinal);
        string rerunLine = $"Or rerun: new ControlledTestOptions {{ Seed = 5, Strategy = SchedulingStrategy.{strategy}, Iterations = {failing + 1} }} (the last iteration fails)";
        Assert.Contains(rerunLine, text, StringComparison.Ordinal);

        // The rerun line's options, pasted, fail in their last iteration with the same run.
        var rerun = Failed(ControlledTest.Run(FailsOnlyInIteration(failing), options with { Iterations = failing + 1 }));
        Assert.Equal(failing, rerun.Iteration);
        Assert.Equal(report.Schedule, rerun.Schedule);
        Assert.Equal(report.Trace, rerun.Trace);
    }

    // ---- A classic lost update, each strategy: found within the budget, the same every time; its fix passes ----------

    private static Action<Scenario> PageViews(bool fixedVersion, List<string>? orders = null) => scenario =>
    {
        var views = new AtomicCounter("views");
        var finished = new List<string>();
        for (int w = 0; w < 3; w++)
        {
            string name = $"web{w}";
            scenario.Thread(name, () =>
            {
                if (fixedVersion)
                {
                    views.Increment();
                }
                else
                {
                    views.Exchange(views.Value + 1); // read, then update: another flow may update in between
                }

                finished.Add(name); // one flow runs at a time, so a plain list records the order the run chose
            });
        }

        scenario.Finally(() =>
        {
            orders?.Add(string.Join(",", finished));
            Assert.Equal(3, views.Value);
        });
    };

    [Theory]
    [InlineData("Random", 1)]
    [InlineData("Pct(2)", 17)]
    [InlineData("Pct(3)", 2026)]
    [InlineData("Portfolio", 0)]
    public void ACounterExchangeOfItsOwnValue_IsFoundWithinTheBudget_TheSameEveryTime_AndTheIncrementPasses(string strategy, int seed)
    {
        var options = new ControlledTestOptions { Strategy = StrategyNamed(strategy), Seed = seed, Iterations = Budget };
        var report = FailedAs(ControlledFailureKind.Assertion, ControlledTest.Run(PageViews(fixedVersion: false), options));
        Assert.InRange(report.Iteration, 0, Budget - 1);
        Assert.IsType<Xunit.Sdk.EqualException>(report.Exception);
        Assert.Contains(report.Trace, e => e is { Operation: "read", Target: "views" });
        Assert.Contains(report.Trace, e => e is { Operation: "update", Target: "views" });

        // A seed always gives the same runs: the same report, text and all, by Run, by seed and by schedule.
        var again = Failed(ControlledTest.Run(PageViews(fixedVersion: false), options));
        Assert.Equal(report.ToString(), again.ToString());
        var bySeed = Failed(ControlledTest.Replay(PageViews(fixedVersion: false), options, report.Iteration));
        Assert.Equal(report.Schedule, bySeed.Schedule);
        Assert.Equal(report.Trace, bySeed.Trace);
        var bySchedule = Failed(ControlledTest.Replay(PageViews(fixedVersion: false), report.Schedule));
        Assert.Equal(report.Trace, bySchedule.Trace);
        Assert.Equal(report.Summary, bySchedule.Summary);

        // The fix passes the same budget, and its 200 passing runs are the same runs both times (and not all alike).
        var first = new List<string>();
        var second = new List<string>();
        var passed = ControlledTest.Run(PageViews(fixedVersion: true, first), options);
        var passedAgain = ControlledTest.Run(PageViews(fixedVersion: true, second), options);
        AssertPasses(passed, Budget);
        AssertPasses(passedAgain, Budget);
        Assert.Equal(passed.TotalSteps, passedAgain.TotalSteps);
        Assert.Equal(first, second);
        Assert.Equal(Budget, first.Count);
        Assert.True(first.Distinct().Count() > 1, "every run finished the flows in one order: nothing was explored");
    }

    // ---- A lock-order bug under the global order: the order check, the summary's flow names, LockSet as the fix ------

    private static Action<Scenario> Rename(bool useLockSet) => scenario =>
    {
        var folders = new ExclusiveLock("folders", level: 1);
        var files = new ExclusiveLock("files", level: 2);
        if (useLockSet)
        {
            scenario.Thread("create", () => { using (LockSet.Acquire(folders, files)) { } });
            scenario.Thread("rename", () => { using (LockSet.Acquire(files, folders)) { } });
            return;
        }

        scenario.Thread("create", () => { using (folders.Acquire()) { using (files.Acquire()) { } } });
        scenario.Thread("rename", () => { using (files.Acquire()) { using (folders.Acquire()) { } } });
    };

    [Fact]
    public void LocksAgainstTheGlobalOrder_AreThatFlowsViolation_NamedByFlow_ADeadlockUnderIgnore_AndLockSetPasses()
    {
        var options = new ControlledTestOptions { Seed = 3, Iterations = Budget };
        var report = FailedAs(ControlledFailureKind.UnhandledException, ControlledTest.Run(Rename(useLockSet: false), options));
        Assert.Equal("rename", report.Flow);
        var violation = Assert.IsType<LockOrderViolationException>(report.Exception);
        Assert.Matches(@"thread \d+ \('rename'\)", violation.Message); // the exception keeps the original message
        Assert.Contains("on thread 'rename'", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"thread \d", report.Summary);
        Assert.Equal(report.Summary, Failed(ControlledTest.Replay(Rename(useLockSet: false), report.Schedule)).Summary);

        var saved = LocksmithPolicy.OrderViolationAction;
        LocksmithPolicy.OrderViolationAction = OrderViolationAction.Ignore; // process-wide: this project runs serially
        try
        {
            var deadlock = FailedAs(ControlledFailureKind.Deadlock, ControlledTest.Run(Rename(useLockSet: false), options));
            Assert.Equal(
                [new WaitForEdge("create", "files", "rename"), new WaitForEdge("rename", "folders", "create")],
                deadlock.Waits.OrderBy(w => w.Flow, StringComparer.Ordinal));
        }
        finally
        {
            LocksmithPolicy.OrderViolationAction = saved;
        }

        AssertPasses(ControlledTest.Run(Rename(useLockSet: true), options), Budget);
    }

    // ---- StepBoundExceeded and MaxSteps in the replay and rerun lines -------------------------------------------------

    private static void SpinUnderTheGate(Scenario scenario)
    {
        var gate = new ExclusiveLock("gate");
        bool ready = false;
        scenario.Thread("spinner", () =>
        {
            using (gate.Acquire())
            {
                while (!ready)
                {
                    ControlledTest.Interleave(); // waits for a flow that needs the gate it holds
                }
            }
        });
        scenario.Thread("setter", () =>
        {
            using (gate.Acquire())
            {
                ready = true;
            }
        });
    }

    [Fact]
    public void ASpinForAFlowThatNeverRuns_IsStepBoundExceeded_AndItsLinesCarryMaxSteps()
    {
        var options = new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 20, MaxSteps = 60 };
        var report = FailedAs(ControlledFailureKind.StepBoundExceeded, ControlledTest.Run(SpinUnderTheGate, options));
        Assert.Equal("the run took more than 60 scheduling steps without finishing: a livelock, or a spin that waits for a flow that never runs", report.Summary);
        Assert.Contains(report.Trace, e => e is { Flow: "spinner", Operation: "interleave" });
        Assert.Contains(report.Trace, e => e is { Flow: "setter", Operation: "blocked on", Target: "gate" });
        Assert.Equal($"ControlledTest.CheckReplay(scenario, \"{report.Schedule}\", new ControlledTestOptions {{ MaxSteps = 60 }})", report.ReplayLine);
        Assert.Contains($"Iterations = {report.Iteration + 1}, MaxSteps = 60 }}", report.ToString(), StringComparison.Ordinal);

        var replayed = FailedAs(ControlledFailureKind.StepBoundExceeded, ControlledTest.Replay(SpinUnderTheGate, report.Schedule, new ControlledTestOptions { MaxSteps = 60 }));
        Assert.Equal(report.Trace, replayed.Trace);

        // Without its MaxSteps the schedule ends while the run goes on, and the summary says what to do.
        var unbounded = FailedAs(ControlledFailureKind.Stuck, ControlledTest.Replay(SpinUnderTheGate, report.Schedule));
        Assert.Contains("replay it with that run's MaxSteps", unbounded.Summary, StringComparison.Ordinal);

        // A schedule longer than MaxSteps allows is refused before any flow runs.
        Assert.Throws<FormatException>(() => ControlledTest.Replay(SpinUnderTheGate, report.Schedule, new ControlledTestOptions { MaxSteps = 10 }));
    }

    // ---- Stuck: a wait outside Locksmith, and a Locksmith lock made outside the builder --------------------------------

    [Fact]
    public void AFlowBlockedOnASemaphoreSlim_IsStuckAfterIdleTimeout_AndTheSummarySaysWhatToUseInstead()
    {
        // Made outside the builder only so that the test can free the thread the run leaves blocked on it; not disposed,
        // as that thread may still be waking from it.
        var handoff = new SemaphoreSlim(0);
        try
        {
            var report = FailedAs(ControlledFailureKind.Stuck, ControlledTest.Run(
                scenario =>
                {
                    var gate = new ExclusiveLock("gate");
                    scenario.Thread("consumer", () => handoff.Wait());
                    scenario.Thread("producer", () =>
                    {
                        using (gate.Acquire())
                        {
                        }

                        handoff.Release();
                    });
                },
                s_fiveSecondIdle));

            Assert.Equal("consumer", report.Flow);
            Assert.StartsWith(
                "flow 'consumer' reached no scheduling point for 5 s: it blocks on something outside Locksmith (Monitor, SemaphoreSlim",
                report.Summary,
                StringComparison.Ordinal);
            Assert.Contains("use the Locksmith primitive made in the builder", report.Summary, StringComparison.Ordinal);
            Assert.EndsWith("; meanwhile producer gets no turn", report.Summary, StringComparison.Ordinal); // what the others do
        }
        finally
        {
            handoff.Release(s_fiveSecondIdle.Iterations);
        }
    }

    [Fact]
    public void AFlowBlockedOnALockMadeOutsideTheBuilder_IsStuck_AndTheSummaryNamesTheLockItsHolderAndTheFix()
    {
        var registry = new ExclusiveLock("registry"); // made before the run: not part of it
        var report = FailedAs(ControlledFailureKind.Stuck, ControlledTest.Run(
            scenario =>
            {
                var audit = new ExclusiveLock("audit");
                scenario.Thread("a", () =>
                {
                    using (registry.Acquire())
                    {
                        using (audit.Acquire()) // a scheduling point while a holds the uncontrolled lock
                        {
                        }
                    }
                });
                scenario.Thread("b", () => { using (registry.Acquire()) { } });
            },
            s_fiveSecondIdle));

        Assert.Equal("b", report.Flow);
        Assert.StartsWith(
            "flow 'b' reached no scheduling point for 5 s: it waits for 'registry', held by a, a Locksmith lock this run does not control",
            report.Summary,
            StringComparison.Ordinal);
        Assert.Contains("Create it in the scenario builder", report.Summary, StringComparison.Ordinal);
    }

    // ---- Deadlocks without a cycle: the summary says why --------------------------------------------------------------

    [Theory]
    [InlineData("finished-holder", @"'cache' is held by refresh, which finished without releasing it")]
    [InlineData("short-pool", @"'pool' has 1 of 2 permits free: a holds 1; b asks for more than the 1 free")]
    [InlineData("missing-signal", @"'items' has 0 of 1 permits free and no flow holds any: no flow is left to release one \(a signal that never came\)")]
    [InlineData("missed-notify", @"'gate\.opened' was last notified by opener at step \d+, before waiter began waiting on it \(step \d+\), and no flow is left to notify it: a missed signal\.")]
    [InlineData("short-barrier", @"'reindex' ends phase 1 when 2 participants arrive; 1 waits at it \(shard0\) and no other flow is left to arrive \(shard1 finished\)")]
    public void ADeadlockWithNoCycle_HasASummaryThatSaysWhy(string bug, string why)
    {
        var report = FailedAs(ControlledFailureKind.Deadlock, ControlledTest.Run(scenario => DeadlockWithNoCycle(bug, scenario), new ControlledTestOptions { Iterations = Budget }));
        Assert.True(Regex.IsMatch(report.Summary, why), report.ToString());
        Assert.NotEmpty(report.Waits);
        Assert.Equal(report.Summary, Failed(ControlledTest.Replay(scenario => DeadlockWithNoCycle(bug, scenario), report.Schedule)).Summary);
    }

    private static void DeadlockWithNoCycle(string bug, Scenario scenario)
    {
        switch (bug)
        {
            case "finished-holder":
            {
                var cache = new ExclusiveLock("cache");
                scenario.Thread("refresh", () => _ = cache.Acquire()); // forgets to release
                scenario.Thread("reader", () => { using (cache.Acquire()) { } });
                break;
            }

            case "short-pool":
            {
                var pool = new CountingSemaphore(2, 2, "pool");
                var done = new CountingSemaphore(0, 1, "done");
                scenario.Thread("a", () => { using (pool.Acquire()) { using (done.Acquire()) { } } }); // waits for b, holding 1
                scenario.Thread("b", () =>
                {
                    using (pool.Acquire(2))
                    {
                    }

                    done.Release();
                });
                break;
            }

            case "missing-signal":
            {
                var items = new CountingSemaphore(0, 1, "items");
                var log = new ExclusiveLock("log");
                scenario.Thread("consumer", () => { using (items.Acquire()) { } });
                scenario.Thread("producer", () => { using (log.Acquire()) { } }); // never calls items.Release()
                break;
            }

            case "missed-notify":
            {
                var gate = new ExclusiveLock("gate");
                var opened = new ConditionVariable(gate, "gate.opened");
                scenario.Thread("opener", () => { using (gate.Acquire()) { opened.Notify(); } }); // no flag to re-check
                scenario.Thread("waiter", () => { using (gate.Acquire()) { opened.Wait(); } });
                break;
            }

            case "short-barrier":
            {
                var reindex = new PhaseBarrier(2, null, "reindex");
                scenario.Thread("shard0", () => { reindex.SignalAndWait(); reindex.SignalAndWait(); });
                scenario.Thread("shard1", () => reindex.SignalAndWait()); // returns before the last phase
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(bug));
        }
    }

    // ---- A check that waits for a lock a finished flow kept ------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACheckWaitingForALockAFinishedFlowKept_FailsAtOnceAsAnAssertionNamingLockAndFlow(bool async)
    {
        var report = FailedAs(ControlledFailureKind.Assertion, ControlledTest.Run(
            scenario =>
            {
                if (async)
                {
                    var cache = new AsyncExclusiveLock("cache");
                    AsyncLockScope kept = default;
                    scenario.Flow("leaker", async () => kept = await cache.AcquireAsync());
                    scenario.Finally(async () => { using (await cache.AcquireAsync()) { } });
                }
                else
                {
                    var cache = new ExclusiveLock("cache");
                    scenario.Thread("leaker", () => _ = cache.Acquire());
                    scenario.Finally(() => { using (cache.Acquire()) { } });
                }
            },
            new ControlledTestOptions { Iterations = 3 }));

        Assert.Equal(0, report.Iteration);
        Assert.Contains(
            "waits for 'cache', held by leaker (finished without releasing it), after every flow has finished: nothing of the run is left to release it",
            report.Summary,
            StringComparison.Ordinal);
    }

    // ---- What the builder and the scenario refuse ---------------------------------------------------------------------

    [Fact]
    public void ABuilderThatThrows_IsInvalidOperationNamingIterationSeedAndRerun_FromEveryEntryPoint()
    {
        var planted = new KeyNotFoundException("no fixture for iteration 3");
        Action<Scenario> build = scenario =>
        {
            if (scenario.Iteration == 3)
            {
                throw planted;
            }

            scenario.Thread("a", () => { });
        };
        var options = new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 41, Iterations = 10 };

        foreach (var entry in new Func<ControlledTestResult>[]
        {
            () => ControlledTest.Run(build, options),
            () => ControlledTest.Check(build, options),
            () => ControlledTest.Replay(build, options, 3),
        })
        {
            var thrown = Assert.Throws<InvalidOperationException>(entry);
            Assert.StartsWith(
                "The scenario's builder threw in iteration 3 (seed 41, strategy Random), before any flow ran; rerun it with " +
                "new ControlledTestOptions { Seed = 41, Strategy = SchedulingStrategy.Random, Iterations = 4 }",
                thrown.Message,
                StringComparison.Ordinal);
            Assert.Same(planted, thrown.InnerException);
        }
    }

    [Fact]
    public void A27thFlowAndAnAsyncThreadBody_AreRefusedWithTheirOwnExceptions()
    {
        var tooMany = Assert.Throws<InvalidOperationException>(() => ControlledTest.Run(scenario =>
        {
            for (int i = 0; i < 27; i++)
            {
                scenario.Thread($"request{i}", () => { });
            }
        }));
        Assert.DoesNotContain("builder threw", tooMany.Message, StringComparison.Ordinal);
        Assert.Null(tooMany.InnerException);

        var asyncThread = Assert.Throws<ArgumentException>(() => ControlledTest.Run(scenario => scenario.Thread("job", async () => await Task.Yield())));
        Assert.Contains("An async body is a flow: call Scenario.Flow(", asyncThread.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a0b")]
    public void AMalformedSchedule_IsAFormatException_BeforeAnyFlowRuns(string schedule)
    {
        int started = 0;
        Assert.Throws<FormatException>(() => ControlledTest.Replay(
            scenario =>
            {
                scenario.Thread("a", () => Interlocked.Increment(ref started));
                scenario.Thread("b", () => Interlocked.Increment(ref started));
            },
            schedule));
        Assert.Equal(0, started);
    }

    // ---- Replay of a schedule that no longer fits ---------------------------------------------------------------------

    private static Action<Scenario> ProducerConsumer(bool planted) => scenario =>
    {
        var items = new CountingSemaphore(0, 1, "items");
        scenario.Thread("producer", () => items.Release());
        scenario.Thread("consumer", () => { using (items.Acquire()) { } });
        if (planted)
        {
            scenario.Finally(() => throw new InvalidOperationException("planted to learn the schedule"));
        }
    };

    [Fact]
    public void AReplayedScheduleThatNoLongerFits_IsStuck_SayingAtWhichChoiceAndWhy_AndOneThatFitsPasses()
    {
        string schedule = Failed(ControlledTest.Run(ProducerConsumer(planted: true), new ControlledTestOptions { Iterations = 1 })).Schedule;
        int choices = Regex.Matches(schedule, @"!?[a-z](\d*)").Sum(m => m.Groups[1].Length == 0 ? 1 : int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        AssertPasses(ControlledTest.Replay(ProducerConsumer(planted: false), schedule), 1);
        AssertPasses(ControlledTest.CheckReplay(ProducerConsumer(planted: false), schedule), 1);

        var otherFlow = FailedAs(ControlledFailureKind.Stuck, ControlledTest.Replay(ProducerConsumer(planted: false), "z" + schedule));
        Assert.True(otherFlow.IsReplayOfSchedule);
        Assert.Equal("z" + schedule, otherFlow.Schedule);
        Assert.Contains("choice 1 of the schedule runs flow 'z', but the scenario has 2 flows (a to b)", otherFlow.Summary, StringComparison.Ordinal);
        Assert.Contains("a = 'producer'", otherFlow.Summary, StringComparison.Ordinal);
        Assert.Contains("b = 'consumer'", otherFlow.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("Or rerun:", otherFlow.ToString(), StringComparison.Ordinal); // no seed chose it

        string longer = schedule + (schedule.TrimEnd("0123456789".ToCharArray())[^1] == 'a' ? "b2" : "a2");
        var leftOver = FailedAs(ControlledFailureKind.Stuck, ControlledTest.Replay(ProducerConsumer(planted: false), longer));
        Assert.Contains($"every flow finished after {choices} of its {choices + 2} choices, and 2 are left unused", leftOver.Summary, StringComparison.Ordinal);
        Assert.Equal(longer, leftOver.Schedule);
    }

    // ---- The trace: what each operation logs, by flow and lock name ---------------------------------------------------

    private static void EveryKindOfEntry(Scenario scenario)
    {
        var prices = new ReadWriteLock("prices");
        var stock = new AtomicCounter("stock");
        var queue = new ExclusiveLock("queue");
        var ready = new ConditionVariable(queue, "queue.ready");
        var phase = new PhaseBarrier(2, null, "phase");
        bool has = false;
        scenario.Thread("maker", () =>
        {
            using (prices.AcquireWrite())
            {
                stock.Exchange(stock.Value + 1);
            }

            using (queue.Acquire())
            {
                has = true;
                ready.Notify();
            }

            phase.SignalAndWait();
            ControlledTest.Interleave();
        });
        scenario.Thread("taker", () =>
        {
            using (prices.AcquireRead())
            {
            }

            using (queue.Acquire())
            {
                while (!has)
                {
                    ready.Wait();
                }
            }

            phase.SignalAndWait();
            scenario.Interleave(); // the same scheduling point as ControlledTest.Interleave()
        });
        scenario.Finally(() => throw new InvalidOperationException("planted to see the trace"));
    }

    [Fact]
    public void TheTrace_LogsEveryOperationKind_ByFlowAndLockName()
    {
        var seen = new HashSet<(string Flow, string Operation, string Target)>();
        for (int seed = 0; seed < 30; seed++)
        {
            var report = Failed(ControlledTest.Run(EveryKindOfEntry, new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = seed, Iterations = 1 }));
            seen.UnionWith(report.Trace.Select(e => (e.Flow, e.Operation, e.Operation == "interleave" ? "" : e.Target)));
        }

        (string, string, string)[] expected =
        [
            ("maker", "start", ""), ("maker", "finish", ""), ("taker", "start", ""), ("taker", "finish", ""),
            ("maker", "acquire write", "prices"), ("maker", "release", "prices"), ("taker", "acquire read", "prices"),
            ("maker", "read", "stock"), ("maker", "update", "stock"),
            ("maker", "acquire", "queue"), ("taker", "acquire", "queue"), ("maker", "notify", "queue.ready"),
            ("taker", "waits on", "queue.ready"), ("taker", "wakes on", "queue.ready"),
            ("maker", "arrive at", "phase"), ("taker", "arrive at", "phase"), ("maker", "waits at", "phase"), ("taker", "waits at", "phase"),
            ("maker", "interleave", ""), ("taker", "interleave", ""),
        ];
        var missing = expected.Where(e => !seen.Contains(e) && !(e.Item2 is "start" or "finish" && seen.Any(s => s.Flow == e.Item1 && s.Operation == e.Item2))).ToList();
        Assert.True(missing.Count == 0, "missing: " + string.Join("; ", missing) + "\nseen: " + string.Join("; ", seen));
    }

    private static Action<Scenario> TwoDeposits(bool withYield) => scenario =>
    {
        var wallet = new AsyncExclusiveLock("wallet");
        for (int d = 0; d < 2; d++)
        {
            scenario.Flow($"deposit{d}", async () =>
            {
                using (await wallet.AcquireAsync())
                {
                    if (withYield)
                    {
                        await Task.Yield();
                    }
                }

                if (withYield)
                {
                    await Task.Yield();
                }

                using (await wallet.AcquireAsync())
                {
                }
            });
        }

        scenario.Finally(() => throw new InvalidOperationException("planted to compare the runs"));
    };

    [Fact]
    public void TaskYield_TakesNoStep_SoARunWithItIsTheRunWithout()
    {
        for (int seed = 0; seed < 10; seed++)
        {
            var options = new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(3), Seed = seed, Iterations = 1 };
            var with = Failed(ControlledTest.Run(TwoDeposits(withYield: true), options));
            var without = Failed(ControlledTest.Run(TwoDeposits(withYield: false), options));
            Assert.Equal(without.Schedule, with.Schedule);
            Assert.Equal(without.Steps, with.Steps);
            Assert.Equal(without.Trace, with.Trace);
        }
    }

    [Fact]
    public void AThreadFlowsThreadAndAnAsyncFlowsActivity_AreNamedAfterTheFlow()
    {
        string? threadName = null, activityName = null;
        AssertPasses(
            ControlledTest.Check(
                scenario =>
                {
                    var gate = new AsyncExclusiveLock("gate");
                    scenario.Thread("pricer", () => threadName = Thread.CurrentThread.Name);
                    scenario.Flow("async-pricer", async () =>
                    {
                        using (await gate.AcquireAsync())
                        {
                            activityName = Activity.Current?.OperationName;
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1 }),
            1);
        Assert.Equal("pricer", threadName);
        Assert.Equal("async-pricer", activityName);
    }

    // ---- Conditions and barriers: the classic protocol bugs -----------------------------------------------------------

    private static Action<Scenario> Protocol(string protocol, bool fixedVersion) => scenario =>
    {
        if (protocol == "condition")
        {
            var queue = new ExclusiveLock("queue");
            var notEmpty = new ConditionVariable(queue, "queue.notEmpty");
            var items = new Queue<int>();
            for (int c = 0; c < 2; c++)
            {
                scenario.Thread($"consumer{c}", () =>
                {
                    using (queue.Acquire())
                    {
                        if (fixedVersion)
                        {
                            notEmpty.WaitUntil(() => items.Count > 0);
                        }
                        else if (items.Count == 0)
                        {
                            notEmpty.Wait(); // another consumer may take the item before this one runs again
                        }

                        items.Dequeue();
                    }
                });
            }

            scenario.Thread("producer", () =>
            {
                for (int i = 0; i < 2; i++)
                {
                    using (queue.Acquire())
                    {
                        items.Enqueue(i);
                        notEmpty.Notify();
                    }
                }
            });
            return;
        }

        var barrier = new PhaseBarrier(2, null, "phase");
        var slot = new int[2];
        var seen = new int[2];
        for (int w = 0; w < 2; w++)
        {
            int me = w;
            scenario.Thread($"worker{me}", () =>
            {
                slot[me] = me + 1;
                if (fixedVersion)
                {
                    barrier.SignalAndWait();
                    seen[me] = slot[1 - me];
                }
                else
                {
                    seen[me] = slot[1 - me]; // phase-2 read before the arrival
                    barrier.SignalAndWait();
                }
            });
        }

        scenario.Finally(() => Assert.Equal([2, 1], seen));
    };

    [Theory]
    [InlineData("condition", "Random", ControlledFailureKind.UnhandledException)]
    [InlineData("barrier", "Pct(3)", ControlledFailureKind.Assertion)]
    public void AConditionOrBarrierProtocolBug_IsFoundWithinTheBudget_AndItsFixPasses(string protocol, string strategy, ControlledFailureKind kind)
    {
        var options = new ControlledTestOptions { Strategy = StrategyNamed(strategy), Seed = 1, Iterations = Budget };
        var report = FailedAs(kind, ControlledTest.Run(Protocol(protocol, fixedVersion: false), options));
        Assert.InRange(report.Iteration, 0, Budget - 1);
        if (kind == ControlledFailureKind.UnhandledException)
        {
            Assert.IsType<InvalidOperationException>(report.Exception); // Dequeue on an empty queue
            Assert.StartsWith("consumer", report.Flow, StringComparison.Ordinal);
        }

        AssertPasses(ControlledTest.Run(Protocol(protocol, fixedVersion: true), options), Budget);
    }

    // ---- Each primitive kind is a scheduling point: a read-then-write split across two holds is found ---------------

    public static TheoryData<string> ControlledKinds() =>
    [
        "ExclusiveLock", "ReentrantLock", "SpinGate", "ReadWriteLock", "CountingSemaphore", "StripedLock", "StripedReadWriteLock.AcquireManyWrite (a LockSet)",
        "AsyncExclusiveLock+ConfigureAwait(false)", "AsyncReadWriteLock", "CountingSemaphore.AcquireAsync", "AsyncStripedLock",
    ];

    private static Action<Scenario> SplitDeposits(string kind, bool split) => scenario =>
    {
        int balance = 0;

        // Runs a section under one hold of the kind (scopes are ref structs, so the hold wraps the section).
        Action<Action>? under = null;
        Func<Action, Task>? underAsync = null;
        switch (kind)
        {
            case "ExclusiveLock": { var l = new ExclusiveLock("k"); under = section => { using (l.Acquire()) { section(); } }; break; }
            case "ReentrantLock": { var l = new ReentrantLock("k"); under = section => { using (l.Acquire()) { section(); } }; break; }
            case "SpinGate": { var l = new SpinGate("k"); under = section => { using (l.Acquire()) { section(); } }; break; }
            case "ReadWriteLock": { var l = new ReadWriteLock("k"); under = section => { using (l.AcquireWrite()) { section(); } }; break; }
            case "CountingSemaphore": { var l = new CountingSemaphore(1, 1, "k"); under = section => { using (l.Acquire()) { section(); } }; break; }
            case "StripedLock": { var l = new StripedLock<string>(4, "k"); under = section => { using (l.Acquire("account")) { section(); } }; break; }
            case "StripedReadWriteLock.AcquireManyWrite (a LockSet)": { var l = new StripedReadWriteLock<string>(4, "k"); under = section => { using (l.AcquireManyWrite("from", "to")) { section(); } }; break; }
            case "AsyncExclusiveLock+ConfigureAwait(false)": { var l = new AsyncExclusiveLock("k"); underAsync = async section => { using (await l.AcquireAsync().ConfigureAwait(false)) { section(); } }; break; }
            case "AsyncReadWriteLock": { var l = new AsyncReadWriteLock("k"); underAsync = async section => { using (await l.AcquireWriteAsync()) { section(); } }; break; }
            case "CountingSemaphore.AcquireAsync": { var l = new CountingSemaphore(1, 1, "k"); underAsync = async section => { using (await l.AcquireAsync()) { section(); } }; break; }
            case "AsyncStripedLock": { var l = new AsyncStripedLock<string>(4, "k"); underAsync = async section => { using (await l.AcquireAsync("account")) { section(); } }; break; }
            default: throw new ArgumentOutOfRangeException(nameof(kind));
        }

        for (int d = 0; d < 2; d++)
        {
            string name = $"deposit{d}";
            int seen = 0;
            if (under is not null)
            {
                scenario.Thread(name, () =>
                {
                    if (!split)
                    {
                        under(() => balance++);
                        return;
                    }

                    under(() => seen = balance);
                    under(() => balance = seen + 1);
                });
            }
            else
            {
                scenario.Flow(name, async () =>
                {
                    if (!split)
                    {
                        await underAsync!(() => balance++);
                        return;
                    }

                    await underAsync!(() => seen = balance);
                    await underAsync!(() => balance = seen + 1);
                });
            }
        }

        scenario.Finally(() => Assert.Equal(2, balance));
    };

    [Theory]
    [MemberData(nameof(ControlledKinds))]
    public void EachControlledKind_IsASchedulingPoint_SoASplitUpdateIsFound_AndOneHoldPasses(string kind)
    {
        var options = new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 1, Iterations = Budget };
        var report = FailedAs(ControlledFailureKind.Assertion, ControlledTest.Run(SplitDeposits(kind, split: true), options));
        Assert.InRange(report.Iteration, 0, Budget - 1);
        foreach (var flow in new[] { "deposit0", "deposit1" })
        {
            Assert.Contains(report.Trace, e => e.Flow == flow && e.Operation.StartsWith("acquire", StringComparison.Ordinal) && e.Target.StartsWith('k'));
        }

        AssertPasses(ControlledTest.Run(SplitDeposits(kind, split: false), options), Budget);
    }

    // ---- What it does not control: a StripedCounter between a read and a write is no scheduling point ----------------

    [Theory]
    [InlineData("AtomicCounter", true)]
    [InlineData("StripedCounter", false)]
    public void AStripedCounterIsNoSchedulingPoint_SoARaceAcrossItIsInvisible_WhereAnAtomicCounterShowsIt(string between, bool found)
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var atomic = new AtomicCounter("requests");
                var striped = new StripedCounter("requests");
                int balance = 0;
                for (int d = 0; d < 2; d++)
                {
                    scenario.Thread($"deposit{d}", () =>
                    {
                        int seen = balance;
                        switch (between)
                        {
                            case "AtomicCounter": atomic.Increment(); break;
                            default: striped.Increment(); break;
                        }

                        balance = seen + 1;
                    });
                }

                scenario.Finally(() => Assert.Equal(2, balance));
            },
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 1, Iterations = Budget });

        if (found)
        {
            Assert.Equal(ControlledFailureKind.Assertion, Failed(result).Kind);
        }
        else
        {
            AssertPasses(result, Budget);
        }
    }

    // ---- Cancellation -------------------------------------------------------------------------------------------------

    [Fact]
    public void ATokenCancelledByAnotherFlow_WakesTheWaiterWithItsCancellation_AndTheRunGoesOn()
    {
        int cancelled = 0, acquired = 0;
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("gate");
                var cts = new CancellationTokenSource();
                scenario.Thread("holder", () =>
                {
                    using (gate.Acquire())
                    {
                        ControlledTest.Interleave();
                        cts.Cancel();
                        ControlledTest.Interleave();
                    }
                });
                scenario.Thread("waiter", () =>
                {
                    try
                    {
                        using (gate.Acquire(cts.Token))
                        {
                            acquired++;
                        }
                    }
                    catch (OperationCanceledException e) when (e.CancellationToken == cts.Token)
                    {
                        cancelled++;
                    }
                });
            },
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 2, Iterations = Budget });

        AssertPasses(result, Budget);
        Assert.Equal(Budget, cancelled + acquired);
        Assert.True(cancelled > 0, "no run had the waiter blocked when the holder cancelled");
        Assert.True(acquired > 0, "no run let the waiter in before the cancellation");
    }

    [Fact]
    public void AWaitOnlyATimerWouldCancel_IsADeadlockAtOnce()
    {
        using var timer = new CancellationTokenSource(TimeSpan.FromHours(1));
        var report = FailedAs(ControlledFailureKind.Deadlock, ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("gate");
                var never = new CountingSemaphore(0, 1, "never");
                scenario.Thread("holder", () => { using (gate.Acquire()) { using (never.Acquire()) { } } });
                scenario.Thread("waiter", () => { using (gate.Acquire(timer.Token)) { } });
            },
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = Budget }));

        Assert.Contains(new WaitForEdge("waiter", "gate", "holder"), report.Waits);
        Assert.False(timer.IsCancellationRequested);
    }
}
