using System;
using System.Collections.Generic;
using System.Linq;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The trace reads in effect order: each flow notes every counter update right after it (one flow runs at a time, so
/// the notes are the order the updates happened), and the trace's update entries come in the same order.
/// </summary>
public sealed class TraceOrderTests
{
    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void CounterUpdatesAreTracedInTheOrderTheyTookEffect(string strategy)
    {
        for (int seed = 1; seed <= 20; seed++)
        {
            var happened = new List<string>();
            var result = ControlledTest.Run(
                scenario =>
                {
                    happened.Clear();
                    var counter = new AtomicCounter("count");
                    for (int f = 0; f < 3; f++)
                    {
                        string name = $"f{f}";
                        scenario.Thread(name, () =>
                        {
                            for (int i = 0; i < 3; i++)
                            {
                                counter.Increment();
                                happened.Add(name);
                            }
                        });
                    }

                    // Always fails, to get the report with the trace.
                    scenario.Finally(() => Assert.Fail("show the trace"));
                },
                new ControlledTestOptions { Seed = seed, Iterations = 1, Strategy = strategy == "pct" ? SchedulingStrategy.Pct() : SchedulingStrategy.Random });

            var report = result.Failure!;
            Assert.Equal(ControlledFailureKind.Assertion, report.Kind);
            var traced = report.Trace.Where(e => e.Operation == "update").Select(e => e.Flow).ToList();
            Assert.Equal(9, happened.Count);
            Assert.Equal(happened, traced);
        }
    }

    [Fact]
    public void AReadWriteLocksAcquisitionsAreTracedWithTheirMode_SyncAndAsync()
    {
        // Before, a read and a write both read "acquire rw": the trace could not tell a reader from a writer.
        var report = ControlledTest.Run(
            scenario =>
            {
                var rw = new ReadWriteLock("rw");
                var arw = new AsyncReadWriteLock("arw");
                scenario.Thread("reader", () =>
                {
                    using (rw.AcquireRead())
                    {
                    }
                });
                scenario.Thread("writer", () =>
                {
                    using (rw.AcquireWrite())
                    {
                    }
                });
                scenario.Flow("async", async () =>
                {
                    using (await arw.AcquireReadAsync())
                    {
                    }

                    using (await arw.AcquireWriteAsync())
                    {
                    }
                });

                // Always fails, to get the report with the trace.
                scenario.Finally(() => Assert.Fail("show the trace"));
            },
            new ControlledTestOptions { Seed = 1, Iterations = 1 }).Failure!;

        var acquisitions = report.Trace.Where(e => e.Operation.StartsWith("acquire", StringComparison.Ordinal))
            .Select(e => $"{e.Flow}: {e.Operation} {e.Target}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["async: acquire read arw", "async: acquire write arw", "reader: acquire read rw", "writer: acquire write rw"], acquisitions);
    }

    /// <summary>
    /// A waiter whose notification came after its <c>waits on</c> but before it gave up its turn (the notifier ran at the
    /// choice its wait's release made) is woken without blocking. Before, its trace had no <c>wakes on</c> line then, so it
    /// read as if the flow went on without being woken; now the trace says what woke it, as for a waiter that blocked.
    /// </summary>
    [Fact]
    public void AWaiterNotifiedBeforeItBlocked_StillHasAWakesOnLine()
    {
        // Seed 2 of Random: the waiter releases 'gate' at step 3, and the opener runs at step 4, before the waiter blocks.
        var report = Assert.IsType<ControlledTestReport>(ControlledTest.Replay(WaiterAndOpener, "ba2b2a3ba").Failure);

        var waiter = report.Trace.Where(e => e.Flow == "waiter").Select(e => (e.Step, e.Operation, e.Target)).ToList();
        (int, string, string)[] expected =
        [
            (2, "start", ""), (3, "acquire", "gate"), (3, "waits on", "gate.opened"), (3, "release", "gate"),
            (7, "wakes on", "gate.opened"), (8, "acquire", "gate"), (8, "release", "gate"), (10, "finish", ""),
        ];
        Assert.Equal(expected, waiter);
        Assert.Contains(report.Trace, e => e is { Step: 4, Flow: "opener", Operation: "acquire" });
        Assert.Contains(report.Trace, e => e is { Step: 4, Flow: "opener", Operation: "notify", Target: "gate.opened" });
    }

    /// <summary>Whatever the schedule, every condition wait that was not timed out is followed by the waiter's <c>wakes on</c>.</summary>
    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void EveryConditionWait_IsFollowedByWhatWokeIt(string strategy)
    {
        for (int seed = 0; seed < 30; seed++)
        {
            var options = new ControlledTestOptions { Seed = seed, Iterations = 1, Strategy = strategy == "pct" ? SchedulingStrategy.Pct() : SchedulingStrategy.Random };
            var trace = Assert.IsType<ControlledTestReport>(ControlledTest.Run(WaiterAndOpener, options).Failure).Trace;
            var waiter = trace.Where(e => e.Flow == "waiter").ToList();
            for (int i = 0; i < waiter.Count; i++)
            {
                if (waiter[i].Operation == "waits on")
                {
                    // Its wait's release of the lock, then what woke it.
                    Assert.True(
                        i + 2 < waiter.Count && waiter[i + 1].Operation == "release" && waiter[i + 2] is { Operation: "wakes on", Target: "gate.opened" },
                        $"seed {seed}: " + string.Join(", ", waiter.Select(e => $"{e.Step} {e.Operation} {e.Target}")));
                }
            }
        }
    }

    private static void WaiterAndOpener(Scenario scenario)
    {
        var gate = new ExclusiveLock("gate");
        var opened = new ConditionVariable(gate, "gate.opened");
        bool open = false;
        scenario.Thread("waiter", () =>
        {
            using (gate.Acquire())
            {
                while (!open)
                {
                    opened.Wait();
                }
            }
        });
        scenario.Thread("opener", () =>
        {
            using (gate.Acquire())
            {
                open = true;
                opened.Notify();
            }
        });

        // Always fails, to get the report with the trace.
        scenario.Finally(() => throw new InvalidOperationException("planted to see the trace"));
    }
}
