using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The verdicts a new user meets first say what they need to know to act: which flows, which lock, and what to change.
/// </summary>
public sealed class VerdictMessageTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// 'b' asks for two permits of 'pool' while one is free. Before, the summary said "'pool' has 1 of 2 permits free: a
    /// holds 1" and left the reader to wonder why b waits at all.
    /// </summary>
    [Fact]
    public void AWaitForMorePermitsThanAreFree_SaysSo()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var pool = new CountingSemaphore(2, 2, "pool");
                var gate = new ExclusiveLock("gate");
                scenario.Thread("a", () =>
                {
                    using (pool.Acquire())
                    using (gate.Acquire())
                    {
                    }
                });
                scenario.Thread("b", () =>
                {
                    using (gate.Acquire())
                    using (pool.Acquire(2))
                    {
                    }
                });
            },
            new ControlledTestOptions { Seed = 1, Iterations = 200 });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.EndsWith("'pool' has 1 of 2 permits free: a holds 1; b asks for more than the 1 free", report.Summary, StringComparison.Ordinal);
    }

    /// <summary>
    /// 'items' starts empty and no flow releases it. Before, the summary was "a waits for 'items'" and nothing more.
    /// </summary>
    [Fact]
    public void AWaitForASignalNoFlowIsLeftToGive_SaysNoFlowHoldsOrReleasesOne()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var items = new CountingSemaphore(0, 1, "items");
                scenario.Thread("consumer", () => _ = items.Acquire());
                scenario.Thread("producer", () => { });
            },
            new ControlledTestOptions { Iterations = 1 });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.EndsWith(
            "consumer waits for 'items'. 'items' has 0 of 1 permits free and no flow holds any: no flow is left to release one (a signal that never came)",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// Flow 'a' blocks in a <see cref="SemaphoreSlim"/> that only 'b' would release, holding 'gate'. Before, the summary
    /// named a and "something outside Locksmith", but not b, nor what to use instead; and its Waits were empty.
    /// </summary>
    [Fact]
    public void AFlowBlockedOutsideLocksmith_IsStuck_AndTheSummarySaysWhatToUse_AndWhatTheOthersDo()
    {
        SemaphoreSlim? last = null;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var done = new SemaphoreSlim(0);
                    last = done;
                    var gate = new ExclusiveLock("gate");
                    scenario.Thread("a", () =>
                    {
                        using (gate.Acquire())
                        {
                            _ = done.Wait(s_guard);
                        }
                    });
                    scenario.Thread("b", () =>
                    {
                        using (gate.Acquire())
                        {
                        }

                        done.Release();
                    });
                },
                // Long enough that no step of a passing iteration outlasts it on a loaded machine.
                new ControlledTestOptions { Seed = 1, Iterations = 50, IdleTimeout = TimeSpan.FromSeconds(3) });
        }
        finally
        {
            // Lets the stuck flow's thread, which the run left where it was, end.
            last?.Release();
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck, report.ToString());
        Assert.StartsWith("flow 'a' reached no scheduling point for 3 s: it blocks on something outside Locksmith", report.Summary, StringComparison.Ordinal);
        Assert.Contains("use the Locksmith primitive made in the builder (CountingSemaphore, ConditionVariable, PhaseBarrier)", report.Summary, StringComparison.Ordinal);
        Assert.Matches("; meanwhile (b waits for 'gate' held by a|b gets no turn)$", report.Summary);
    }

    /// <summary>
    /// An async flow awaits a task nothing completes. Before, the summary said only that it "awaited something outside
    /// Locksmith", not what such a thing is, nor what to do.
    /// </summary>
    [Fact]
    public void AnAsyncFlowAwaitingSomethingOutsideLocksmith_IsStuck_AndTheSummarySaysWhatToDo()
    {
        var never = new TaskCompletionSource();
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario => scenario.Flow("a", async () => await never.Task),
                new ControlledTestOptions { Iterations = 1, IdleTimeout = TimeSpan.FromSeconds(1) });
        }
        finally
        {
            never.TrySetResult();
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck, report.ToString());
        Assert.Equal(
            "async flow 'a' awaited something outside Locksmith for 1 s while no other flow could run (a timer, I/O, a task run outside the run, " +
            "a TaskCompletionSource no flow completes): await Locksmith operations in a scenario, or raise IdleTimeout for a real delay",
            report.Summary);
    }
}
