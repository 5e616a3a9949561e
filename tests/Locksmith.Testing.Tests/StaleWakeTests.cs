using System;
using System.Collections.Generic;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A blocking queue whose taker checks with <c>if</c> around <c>Wait</c>: one producer puts two items, two takers take one
/// each, and a notified taker can find the queue emptied by the other. Before, the summary said only "flow 'taker1' threw
/// InvalidOperationException: Queue empty."; now it names the wait, the notification and the flow that had the lock in
/// between, and says to check again after every wait.
/// </summary>
public sealed class StaleWakeTests
{
    private static void Takers(Scenario scenario)
    {
        var gate = new ExclusiveLock("queue");
        var notEmpty = new ConditionVariable(gate, "queue.not-empty");
        var items = new Queue<int>();
        void Put(int item)
        {
            using var scope = gate.Acquire();
            items.Enqueue(item);
            notEmpty.Notify();
        }

        int Take()
        {
            using var scope = gate.Acquire();
            if (items.Count == 0)
            {
                notEmpty.Wait();
            }

            return items.Dequeue();
        }

        scenario.Thread("producer", () =>
        {
            Put(1);
            Put(2);
        });
        scenario.Thread("taker0", () => Take());
        scenario.Thread("taker1", () => Take());
    }

    [Fact]
    public void ATakerThatThrowsAfterAStaleWake_IsToldToCheckAgain()
    {
        var result = ControlledTest.Run(Takers, new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 300 });

        var failure = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.UnhandledException, failure.Kind);
        Assert.IsType<InvalidOperationException>(failure.Exception);
        string woken = failure.Flow!;
        string other = woken == "taker0" ? "taker1" : "taker0";
        Assert.Matches(
            $@"Queue empty\. {woken} waited on 'queue\.not-empty' \(step \d+\) and producer notified it \(step \d+\), but {other} held 'queue' \(released it at step \d+\) before {woken} had it back \(step \d+\): .* Check the condition again after every wait, in a loop \(while, or WaitUntil\)$",
            failure.Summary);
        Assert.Equal(failure.Summary, ControlledTest.Replay(Takers, failure.Schedule).Failure?.Summary);
    }
}
