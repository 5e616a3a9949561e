using System;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Two transfers that lock two accounts in argument order, each with a timeout as the README's first example takes one:
/// the deadlock surfaces as a timeout the scheduler took because every flow was blocked. Before, the summary named only
/// the timeout, which reads as slowness; now it also names the cycle the timeout broke and calls it a deadlock.
/// </summary>
public sealed class TimeoutInCycleTests
{
    private const string Cycle =
        "The scheduler timed that wait out because every flow was blocked in a cycle (a->b waits for 'account:2' held by " +
        "b->a; b->a waits for 'account:1' held by a->b): without the timeout this is a deadlock.";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(2);

    private static void SyncTransfers(Scenario scenario)
    {
        var one = new ExclusiveLock("account:1");
        var two = new ExclusiveLock("account:2");
        scenario.Thread("a->b", () =>
        {
            using var first = one.Acquire(s_timeout);
            using var second = two.Acquire(s_timeout);
        });
        scenario.Thread("b->a", () =>
        {
            using var first = two.Acquire(s_timeout);
            using var second = one.Acquire(s_timeout);
        });
    }

    private static void AsyncTransfers(Scenario scenario)
    {
        var one = new AsyncExclusiveLock("account:1");
        var two = new AsyncExclusiveLock("account:2");
        scenario.Flow("a->b", async () =>
        {
            using var first = await one.AcquireAsync(s_timeout);
            using var second = await two.AcquireAsync(s_timeout);
        });
        scenario.Flow("b->a", async () =>
        {
            using var first = await two.AcquireAsync(s_timeout);
            using var second = await one.AcquireAsync(s_timeout);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ATimeoutThatBrokeACycle_IsNamedAsADeadlock(bool async)
    {
        Action<Scenario> build = async ? AsyncTransfers : SyncTransfers;
        var result = ControlledTest.Run(build, new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 200 });

        var failure = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.UnhandledException, failure.Kind);
        Assert.IsType<LockTimeoutException>(failure.Exception);
        Assert.Contains(Cycle, failure.Summary, StringComparison.Ordinal);

        // The replay's report says the same.
        Assert.Equal(failure.Summary, ControlledTest.Replay(build, failure.Schedule).Failure?.Summary);
    }
}
