using System;
using System.Collections.Generic;
using System.Threading;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Condition variables, barriers and counters are scheduled too: their correct uses pass every schedule of the budget,
/// and a counter's hand-rolled read-then-write loses an update.
/// </summary>
public sealed class CoordinationTests
{
    private static readonly ControlledTestOptions s_options = new() { Seed = 8, Iterations = 100 };

    [Fact]
    public void AConsumerThatWaitsInALoopNeverTakesFromAnEmptyQueue()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("queue");
                var notEmpty = new ConditionVariable(gate, "notEmpty");
                var items = new Queue<int>();
                var taken = new List<int>();
                for (int c = 0; c < 2; c++)
                {
                    scenario.Thread($"consumer{c}", () =>
                    {
                        using var scope = gate.Acquire();
                        notEmpty.WaitUntil(() => items.Count > 0);
                        taken.Add(items.Dequeue());
                    });
                }

                scenario.Thread("producer", () =>
                {
                    for (int i = 1; i <= 2; i++)
                    {
                        using var scope = gate.Acquire();
                        items.Enqueue(i);
                        notEmpty.Notify();
                    }
                });
                scenario.Finally(() => Assert.Equal(3, taken[0] + taken[1]));
            },
            s_options);

        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>
    /// A timed <c>WaitUntil</c> whose predicate never holds returns false once the run times its wait out, as it does
    /// outside a run when the time is up. Before, it waited again for what was left of its real-time deadline after each
    /// timed-out wait, which a run never lets pass: the flow spun until the step bound (StepBoundExceeded).
    /// </summary>
    [Fact]
    public void ATimedWaitUntilWhosePredicateNeverHolds_ReturnsFalseOnceTheRunTimesItOut() =>
        TimedWaitUntil(opens: false, TimeSpan.FromSeconds(2), iterations: 20);

    /// <summary>The same wait returns true when the state comes true before the run times it out (a notify wakes it).</summary>
    [Fact]
    public void ATimedWaitUntil_ReturnsTrueWhenNotifiedOfTheState() =>
        TimedWaitUntil(opens: true, Timeout.InfiniteTimeSpan, iterations: 50);

    /// <summary>
    /// A waiter's timed <c>WaitUntil</c> on a gate another flow takes once, opening it (and notifying) when
    /// <paramref name="opens"/>: what the wait returned must say whether the state came true.
    /// </summary>
    private static void TimedWaitUntil(bool opens, TimeSpan timeout, int iterations)
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("gate");
                var opened = new ConditionVariable(gate, "gate.opened");
                bool isOpen = false;
                bool? waited = null;
                scenario.Thread("waiter", () =>
                {
                    using (gate.Acquire())
                    {
                        waited = opened.WaitUntil(() => isOpen, timeout);
                    }
                });
                scenario.Thread("other", () =>
                {
                    using (gate.Acquire())
                    {
                        if (opens)
                        {
                            isOpen = true;
                            opened.Notify();
                        }
                    }
                });
                scenario.Finally(() => Assert.Equal(opens, waited));
            },
            new ControlledTestOptions { Seed = 8, Iterations = iterations });

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void AWaitThatIsNeverNotifiedIsADeadlockNamingTheCondition_AndItsFlowUnwinds()
    {
        Thread? consumer = null;
        var failure = ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("queue");
                var notEmpty = new ConditionVariable(gate, "notEmpty");
                scenario.Thread("consumer", () =>
                {
                    consumer = Thread.CurrentThread;
                    using var scope = gate.Acquire();
                    notEmpty.Wait();
                });
            },
            s_options).Failure;

        Assert.NotNull(failure);
        Assert.Equal(ControlledFailureKind.Deadlock, failure.Kind);
        Assert.Equal([new WaitForEdge("consumer", "notEmpty", null)], failure.Waits);

        // The ended run unwinds the waiting flow: taking the lock back must not retry forever on its thread.
        Assert.NotNull(consumer);
        Assert.True(consumer.Join(TimeSpan.FromMinutes(2)), "hang guard: the consumer flow never unwound");
    }

    [Fact]
    public void BarrierParticipantsSeeEveryRowOfTheFinishedPhase()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var barrier = new PhaseBarrier(3, name: "rows-done");
                var rows = new int[3];
                var sums = new int[3];
                for (int p = 0; p < 3; p++)
                {
                    int index = p;
                    scenario.Thread($"p{p}", () =>
                    {
                        rows[index] = index + 1;
                        barrier.SignalAndWait();
                        sums[index] = rows[0] + rows[1] + rows[2];
                    });
                }

                scenario.Finally(() => Assert.Equal([6, 6, 6], sums));
            },
            s_options);

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void APostPhaseActionThatTakesALockRunsWhileOthersWaitForIt()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("totals");
                int phasesDone = 0;
                var barrier = new PhaseBarrier(2, _ =>
                {
                    using var scope = gate.Acquire();
                    phasesDone++;
                }, "rounds");
                for (int p = 0; p < 2; p++)
                {
                    scenario.Thread($"p{p}", () =>
                    {
                        barrier.SignalAndWait();
                        barrier.SignalAndWait();
                    });
                }

                scenario.Finally(() => Assert.Equal(2, phasesDone));
            },
            s_options);

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void AtomicIncrementsNeverLoseAnUpdateButAReadThenWriteDoes()
    {
        var atomic = ControlledTest.Run(
            scenario =>
            {
                var hits = new AtomicCounter("hits");
                scenario.Thread("a", () => hits.Increment());
                scenario.Thread("b", () => hits.Increment());
                scenario.Finally(() => Assert.Equal(2, hits.Value));
            },
            s_options);
        Assert.True(atomic.Passed, atomic.ToString());

        var handRolled = ControlledTest.Run(
            scenario =>
            {
                var hits = new AtomicCounter("hits");
                scenario.Thread("a", () => hits.Exchange(hits.Value + 1));
                scenario.Thread("b", () => hits.Exchange(hits.Value + 1));
                scenario.Finally(() => Assert.Equal(2, hits.Value));
            },
            s_options).Failure;
        Assert.NotNull(handRolled);
        Assert.Equal(ControlledFailureKind.Assertion, handRolled.Kind);
        Assert.Contains(handRolled.Trace, e => e is { Operation: "read", Target: "hits" });
        Assert.Contains(handRolled.Trace, e => e is { Operation: "update", Target: "hits" });
    }
}
