using System;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A report's replay line pasted into a test keeps failing once the bug is fixed: the fix changes the lock operations, so
/// the recorded schedule no longer fits and the replay is <c>Stuck</c>. The summary says that a fix changes the run too
/// and what to keep as the regression test. Before, a misfit in mid-run said only "choice 6 of the schedule runs flow
/// 'b', which the run does not offer there" (a trial took it for a bug of the fix), and the README promised the pasted
/// line would pass once fixed.
/// </summary>
public sealed class ReplayAfterAFixTests
{
    // Increment as two holds (read, then write) or, fixed, as one.
    private static void Counter(Scenario scenario, bool fixedCode)
    {
        var gate = new ExclusiveLock("hits");
        int hits = 0;
        for (int i = 0; i < 3; i++)
        {
            scenario.Thread($"request{i}", () =>
            {
                if (fixedCode)
                {
                    using (gate.Acquire())
                    {
                        hits++;
                    }

                    return;
                }

                int seen;
                using (gate.Acquire())
                {
                    seen = hits;
                }

                using (gate.Acquire())
                {
                    hits = seen + 1;
                }
            });
        }

        scenario.Finally(() => Assert.Equal(3, hits));
    }

    [Fact]
    public void TheReplayLineOfAFixedBug_FailsAsAMisfit_SayingAFixChangesTheRun_AndWhatToKeep()
    {
        var found = ControlledTest.Run(s => Counter(s, fixedCode: false), new ControlledTestOptions { Seed = 0 }).Failure;
        Assert.NotNull(found);
        Assert.Equal(ControlledFailureKind.Assertion, found.Kind);

        var afterFix = Assert.Throws<ControlledTestFailure>(() => ControlledTest.CheckReplay(s => Counter(s, fixedCode: true), found.Schedule)).Report;

        Assert.Equal(ControlledFailureKind.Stuck, afterFix.Kind);
        Assert.StartsWith("the replayed schedule does not fit this run: ", afterFix.Summary, StringComparison.Ordinal);
        Assert.Contains(
            "The run is not the recorded one: the code under test changed since the schedule was recorded (a fix of the bug it showed changes it too), " +
            "the scenario is not deterministic, or the schedule is another scenario's. A replay line is for debugging the bug it shows; " +
            "to keep the bug fixed, keep the Check that found it (the report's rerun options)",
            afterFix.Summary,
            StringComparison.Ordinal);

        // The seeded Check is the regression test: it passes once fixed.
        Assert.True(ControlledTest.Check(s => Counter(s, fixedCode: true), new ControlledTestOptions { Seed = 0 }).Passed);
    }

    [Fact]
    public void ASchedulesChoicesLeftUnused_SayWhatToKeepToo()
    {
        var report = ControlledTest.Replay(
            s =>
            {
                s.Thread("a", () => { });
                s.Thread("b", () => { });
            },
            "abab").Failure;
        Assert.NotNull(report);
        Assert.Contains("left unused: the code under test changed since the schedule was recorded, or it is another scenario's", report.Summary, StringComparison.Ordinal);
        Assert.Contains("to keep the bug fixed, keep the Check that found it", report.Summary, StringComparison.Ordinal);
    }
}
