using System;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A Locksmith lock created outside the scenario builder (a static field of the code under test, the test class, an
/// earlier run) is not part of the run: a flow that blocks on it while its holder waits for its turn is reported as
/// Stuck. Before, the summary said the flow "blocks on something outside Locksmith (Monitor, Thread.Sleep, a task)",
/// which sent the reader looking for a Monitor; now it names the lock, its holder, and where to create it.
/// </summary>
public sealed class UncontrolledLockTests
{
    [Fact]
    public void AFlowBlockedOnALockCreatedOutsideTheBuilder_IsStuck_NamingTheLockAndItsHolder()
    {
        // As a static field of the code under test, or the test class, makes it: before the run.
        var registry = new ExclusiveLock("registry");

        // a takes the lock (no scheduling point: the run does not control it) and gives up its turn at Interleave();
        // b then blocks on the lock for real.
        var result = ControlledTest.Replay(
            scenario =>
            {
                scenario.Thread("a", () =>
                {
                    using (registry.Acquire())
                    {
                        ControlledTest.Interleave();
                    }
                });
                scenario.Thread("b", () =>
                {
                    using (registry.Acquire())
                    {
                    }
                });
            },
            "ab",
            new ControlledTestOptions { IdleTimeout = TimeSpan.FromSeconds(1) });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "b", report.ToString());
        Assert.Contains("flow 'b' reached no scheduling point for 1 s: it waits for 'registry', held by a,", report.Summary, StringComparison.Ordinal);
        Assert.Contains("a Locksmith lock this run does not control", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("outside Locksmith", report.Summary, StringComparison.Ordinal);
    }
}
