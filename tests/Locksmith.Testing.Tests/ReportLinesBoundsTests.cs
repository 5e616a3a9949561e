using System;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A report's replay and rerun lines carry the bounds the run had when they are not the defaults: pasted as printed, they
/// run the same run. Before, both lines left <c>MaxSteps</c> and <c>IdleTimeout</c> out, so a <c>StepBoundExceeded</c>
/// found with <c>MaxSteps = 20</c> passed when rerun from its line (10,000 steps) and its replay ran past the schedule's
/// end and said the schedule no longer fit (<c>Stuck</c>); and PCT spreads its change points by <c>MaxSteps</c>, so a
/// rerun by seed with another bound chooses other schedules.
/// </summary>
public sealed class ReportLinesBoundsTests
{
    // One flow with 40 lock operations: more than 20 scheduling steps, well within the default bound.
    private static void LongFlow(Scenario scenario)
    {
        var gate = new ExclusiveLock("gate");
        scenario.Thread("worker", () =>
        {
            for (int i = 0; i < 40; i++)
            {
                using (gate.Acquire())
                {
                }
            }
        });
    }

    [Fact]
    public void AStepBoundFoundWithALowMaxSteps_ReplaysAndRerunsFromTheLinesAsPrinted()
    {
        var options = new ControlledTestOptions { MaxSteps = 20, Strategy = SchedulingStrategy.Random, Seed = 1, Iterations = 1 };
        var report = ControlledTest.Run(LongFlow, options).Failure;
        Assert.NotNull(report);
        Assert.Equal(ControlledFailureKind.StepBoundExceeded, report.Kind);

        Assert.Equal($"ControlledTest.CheckReplay(scenario, \"{report.Schedule}\", new ControlledTestOptions {{ MaxSteps = 20 }})", report.ReplayLine);
        Assert.Contains(
            "Or rerun: new ControlledTestOptions { Seed = 1, Strategy = SchedulingStrategy.Random, Iterations = 1, MaxSteps = 20 } (the last iteration fails)",
            report.ToString(),
            StringComparison.Ordinal);

        // What those lines run: the same failure, not a pass (rerun) or a misfit (replay).
        var bounds = new ControlledTestOptions { MaxSteps = 20 };
        var replayed = Assert.Throws<ControlledTestFailure>(() => ControlledTest.CheckReplay(LongFlow, report.Schedule, bounds)).Report;
        Assert.Equal(ControlledFailureKind.StepBoundExceeded, replayed.Kind);
        Assert.Equal(report.ReplayLine, replayed.ReplayLine);
        var rerun = ControlledTest.Run(LongFlow, new ControlledTestOptions { Seed = 1, Strategy = SchedulingStrategy.Random, Iterations = 1, MaxSteps = 20 });
        Assert.Equal(ControlledFailureKind.StepBoundExceeded, rerun.Failure?.Kind);
    }

    [Fact]
    public void AStepBoundSchedule_ReplayedWithTheDefaultBound_SaysToPassTheRunsMaxSteps()
    {
        var report = ControlledTest.Run(LongFlow, new ControlledTestOptions { MaxSteps = 20, Strategy = SchedulingStrategy.Random, Iterations = 1 }).Failure;
        Assert.NotNull(report);

        var replayed = ControlledTest.Replay(LongFlow, report.Schedule).Failure;

        Assert.NotNull(replayed);
        Assert.Equal(ControlledFailureKind.Stuck, replayed.Kind);
        Assert.Contains(
            "the schedule ends after 20 choices but the run goes on (a run that exceeded MaxSteps ends its schedule there: replay it with that run's MaxSteps, as its replay line does)",
            replayed.Summary,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1500, "TimeSpan.FromMilliseconds(1500)")]
    [InlineData(120_000, "TimeSpan.FromSeconds(120)")]
    public void ANonDefaultIdleTimeout_IsInBothLines(int milliseconds, string written)
    {
        var options = new ControlledTestOptions
        {
            IdleTimeout = TimeSpan.FromMilliseconds(milliseconds), MaxSteps = 20, Strategy = SchedulingStrategy.Random, Seed = 1, Iterations = 1,
        };
        var report = ControlledTest.Run(LongFlow, options).Failure;
        Assert.NotNull(report);

        Assert.EndsWith($", new ControlledTestOptions {{ MaxSteps = 20, IdleTimeout = {written} }})", report.ReplayLine, StringComparison.Ordinal);
        Assert.Contains($"Iterations = 1, MaxSteps = 20, IdleTimeout = {written} }}", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheDefaultBounds_AreLeftOut()
    {
        var report = ControlledTest.Run(LongFlow, new ControlledTestOptions { MaxSteps = 10_000, IdleTimeout = TimeSpan.FromSeconds(30), Iterations = 1 })
            .Failure;
        Assert.Null(report);

        var failed = ControlledTest.Replay(LongFlow, "b").Failure;
        Assert.NotNull(failed);
        Assert.Equal("ControlledTest.CheckReplay(scenario, \"b\")", failed.ReplayLine);
    }
}
