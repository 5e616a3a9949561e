using System;
using Locksmith.Testing.Scenarios.Subjects;

namespace Locksmith.Testing.Scenarios;

/// <summary>
/// A consumer that checks its condition with <c>if</c> instead of <c>while</c>: a producer's notification wakes one
/// waiting consumer, but a second consumer can take the lock first and the job with it; the woken one then dequeues
/// from an empty queue. Written against <see cref="ConditionVariable.Wait()"/> on purpose (WaitUntil loops for you).
/// </summary>
public sealed class ConditionRecheckTests
{
    /// <summary>Two consumers take one job each; a producer puts two.</summary>
    private static void Consumers(Scenario scenario, WaitStyle style)
    {
        var queue = new JobQueue();
        var taken = new int[2];
        for (int c = 0; c < taken.Length; c++)
        {
            int consumer = c;
            scenario.Thread($"consumer{consumer}", () => taken[consumer] = queue.Take(style));
        }

        scenario.Thread("producer", () =>
        {
            queue.Put(1);
            queue.Put(2);
        });
        scenario.Finally(() => Assert.Equal(3, taken[0] + taken[1]));
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("random", 17)]
    [InlineData("random", 2026)]
    [InlineData("pct3", 1)]
    [InlineData("pct3", 17)]
    [InlineData("pct3", 2026)]
    public void AnIfConsumerIsFoundTakingFromAnEmptyQueue(string strategy, int seed)
    {
        var report = Hunt.MustFind(s => Consumers(s, WaitStyle.If), strategy, seed, ControlledFailureKind.UnhandledException);

        Assert.IsType<InvalidOperationException>(report.Exception);
        Assert.StartsWith("consumer", report.Flow, StringComparison.Ordinal);
        string woken = report.Flow!;
        string other = woken == "consumer0" ? "consumer1" : "consumer0";

        // The trace tells the story by name: the woken consumer waited on the condition, the producer notified it, it
        // took the lock back and threw on the empty queue: the other consumer had taken the job that notification was for.
        int waited = Index(report, woken, "waits on", "jobs.notEmpty");
        int notified = Index(report, "producer", "notify", "jobs.notEmpty", after: waited);
        int reacquired = Index(report, woken, "acquire", "jobs.lock", after: notified);
        int threw = Index(report, woken, "throws", "InvalidOperationException", after: reacquired);
        Index(report, other, "release", "jobs.lock");
        Assert.Equal(report.Trace.Count - 1, threw);
        Assert.Contains(report.Trace, e => e is { Operation: "acquire", Target: "jobs.lock" });
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void AWhileConsumerIsNotFlagged(string strategy, int seed) =>
        Hunt.MustPass(s => Consumers(s, WaitStyle.While), strategy, seed);

    [Theory]
    [InlineData("pct3", 2026)]
    public void AWaitUntilConsumerIsNotFlagged(string strategy, int seed) =>
        Hunt.MustPass(s => Consumers(s, WaitStyle.WaitUntil), strategy, seed);

    /// <summary>The index of the flow's first such operation after <paramref name="after"/>; fails the test when there is none.</summary>
    private static int Index(ControlledTestReport report, string flow, string operation, string target, int after = -1)
    {
        for (int i = after + 1; i < report.Trace.Count; i++)
        {
            if (report.Trace[i] is var e && e.Flow == flow && e.Operation == operation && e.Target == target)
            {
                return i;
            }
        }

        Assert.Fail($"no '{flow}: {operation} {target}' after entry {after}:\n{report}");
        return -1;
    }
}
