using System;
using System.Threading.Tasks;

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
            new ControlledTestOptions { IdleTimeout = TimeSpan.FromSeconds(5) });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "b", report.ToString());
        Assert.Contains("flow 'b' reached no scheduling point for 5 s: it waits for 'registry', held by a,", report.Summary, StringComparison.Ordinal);
        Assert.Contains("a Locksmith lock this run does not control", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("outside Locksmith", report.Summary, StringComparison.Ordinal);
    }
    /// <summary>
    /// The same for an async flow queued on such a lock: its wait is a real one too, so the run found it awaiting and
    /// said only that it "awaited something outside Locksmith". Now the summary names the lock, its holder and what to do.
    /// </summary>
    [Fact]
    public void AnAsyncFlowQueuedOnALockCreatedOutsideTheBuilder_IsStuck_NamingTheLockAndItsHolder()
    {
        var registry = new AsyncExclusiveLock("registry");

        // b takes the scenario's gate; a takes the registry (no scheduling point) and queues on the gate; b then queues
        // on the registry for real, and neither can go on.
        var result = ControlledTest.Replay(
            scenario =>
            {
                var gate = new AsyncExclusiveLock("gate");
                scenario.Flow("a", async () =>
                {
                    using (await registry.AcquireAsync())
                    {
                        using (await gate.AcquireAsync())
                        {
                        }
                    }
                });
                scenario.Flow("b", async () =>
                {
                    using (await gate.AcquireAsync())
                    {
                        ControlledTest.Interleave();
                        using (await registry.AcquireAsync())
                        {
                        }
                    }
                });
            },
            "babab",
            new ControlledTestOptions { IdleTimeout = TimeSpan.FromSeconds(5) });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "b", report.ToString());
        Assert.Contains("async flow 'b' awaited for 5 s while no other flow could run: it waits for 'registry', held by a,", report.Summary, StringComparison.Ordinal);
        Assert.Contains("a Locksmith lock this run does not control", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("outside Locksmith", report.Summary, StringComparison.Ordinal);
    }
}
