using System;
using System.Globalization;
using System.Threading;

namespace Locksmith.Testing.Tests;

/// <summary>Options and schedule strings a run cannot use are refused up front, with the option named.</summary>
public sealed class OptionsAndScheduleTests
{
    [Fact]
    public void AnIdleTimeoutLongerThanAWaitCanTake_IsRefusedBeforeAnyFlowRuns()
    {
        // Before, it passed validation and the run's first wait threw ArgumentOutOfRangeException ("timeout") after the
        // flows had started.
        bool ran = false;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ControlledTest.Run(
            scenario => scenario.Thread("only", () => ran = true),
            new ControlledTestOptions { Iterations = 1, IdleTimeout = TimeSpan.FromDays(30) }));

        Assert.Equal("IdleTimeout", error.ParamName);
        Assert.False(ran);
    }

    [Fact]
    public void AScheduleCountTooLargeForANumber_IsAFormatException()
    {
        // Before, int.Parse threw OverflowException.
        var error = Assert.Throws<FormatException>(() => ControlledTest.Replay(OneFlow, "a99999999999"));

        Assert.Contains("a99999999999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AScheduleCountOfZero_IsAFormatException()
    {
        // Before, "a0" decoded to no choices at all and the replay was reported as Stuck, as if the scenario had changed.
        var error = Assert.Throws<FormatException>(() => ControlledTest.Replay(OneFlow, "a0"));

        Assert.Contains("count of 0 at position 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AScheduleWithMoreChoicesThanMaxSteps_IsRefusedBeforeItIsExpanded()
    {
        // Before, every choice was expanded into a list first ("a2000000000" took gigabytes) and the run then ignored the
        // choices it did not use: a schedule no run with these bounds can make passed.
        var options = new ControlledTestOptions { MaxSteps = 100 };
        var error = Assert.Throws<FormatException>(() => ControlledTest.Replay(OneFlow, "a50b51", options));

        Assert.Contains("MaxSteps", error.Message, StringComparison.Ordinal);
        Assert.NotNull(ControlledTest.Replay(OneFlow, "a2", options));
    }

    [Fact]
    public void AnEmptySchedule_IsAFormatExceptionThatSaysWhatAScheduleLooksLike_AndRunsNothing()
    {
        // Before, "" decoded to no choices and the replay ran the scenario until its first choice, then reported it as
        // Stuck ("the schedule ends after 0 choices"), as if the scenario had changed. Every run makes at least one choice
        // (the first flow to run), so no report's schedule is empty.
        bool ran = false;
        var error = Assert.Throws<FormatException>(() => ControlledTest.Replay(scenario => scenario.Thread("only", () => ran = true), ""));

        Assert.StartsWith("The schedule is empty", error.Message, StringComparison.Ordinal);
        Assert.Contains("a letter per flow", error.Message, StringComparison.Ordinal);
        Assert.Contains("ControlledTestReport.Schedule", error.Message, StringComparison.Ordinal);
        Assert.False(ran);
    }

    [Fact]
    public void ThePortfolioTakesTurnsAsDocumented_AndItsRandomIterationsAreRandomsOwnRuns()
    {
        Assert.Same(SchedulingStrategy.Portfolio, new ControlledTestOptions().Strategy);
        string[] members = ["Random", "Pct(2)", "Pct(3)", "Random", "Pct(2)", "Pct(3)"];
        for (int iteration = 0; iteration < members.Length; iteration++)
        {
            var report = ControlledTest.Run(FailsAt(iteration), new ControlledTestOptions { Seed = 5, Iterations = iteration + 1 }).Failure;
            Assert.NotNull(report);
            Assert.Equal(iteration, report.Iteration);
            Assert.Contains($"(seed 5, strategy Portfolio, {members[iteration]} in this iteration, ", report.ToString(), StringComparison.Ordinal);
            // Pasteable C# (before, "Strategy = Portfolio", which does not compile): the options that rerun the failure.
            Assert.Contains(
                $"Or rerun: new ControlledTestOptions {{ Seed = 5, Strategy = SchedulingStrategy.Portfolio, Iterations = {iteration + 1} }} (the last iteration fails)",
                report.ToString(),
                StringComparison.Ordinal);

            if (members[iteration] == "Random")
            {
                // The same per-iteration generator as an explicit Random run: the same schedule.
                var random = ControlledTest.Run(FailsAt(iteration), new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 5, Iterations = iteration + 1 }).Failure;
                Assert.NotNull(random);
                Assert.Equal(random.Schedule, report.Schedule);
                Assert.Contains("(seed 5, strategy Random, ", random.ToString(), StringComparison.Ordinal);
                Assert.Contains("Or rerun: new ControlledTestOptions { Seed = 5, Strategy = SchedulingStrategy.Random, ", random.ToString(), StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Two flows contending for a lock; the check fails in iteration <paramref name="failing"/> only.</summary>
    private static Action<Scenario> FailsAt(int failing) => scenario =>
    {
        var gate = new ExclusiveLock("gate");
        for (int f = 0; f < 2; f++)
        {
            scenario.Thread($"worker{f}", () =>
            {
                using (gate.Acquire())
                {
                }

                using (gate.Acquire())
                {
                }
            });
        }

        scenario.Finally(() => Assert.NotEqual(failing, scenario.Iteration));
    };

    private static void OneFlow(Scenario scenario)
    {
        var gate = new ExclusiveLock("gate");
        scenario.Thread("only", () =>
        {
            using var scope = gate.Acquire();
        });
    }

    /// <summary>
    /// A schedule copied from a terminal or a test log comes with spaces or a line break around it. Before, the replay threw
    /// FormatException ("no flow letter at position 0"); now it replays the schedule itself.
    /// </summary>
    [Theory]
    [InlineData("  {0}")]
    [InlineData("{0}\n")]
    [InlineData("\t{0} \r\n")]
    public void AScheduleWithWhitespaceAroundIt_ReplaysAsTheScheduleItself(string pasted)
    {
        var found = Assert.IsType<ControlledTestReport>(ControlledTest.Run(FailsAt(0), new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 1 }).Failure);

        var replayed = Assert.IsType<ControlledTestReport>(ControlledTest.Replay(FailsAt(0), string.Format(CultureInfo.InvariantCulture, pasted, found.Schedule)).Failure);

        Assert.Equal(ControlledFailureKind.Assertion, replayed.Kind);
        Assert.Equal(found.Schedule, replayed.Schedule);
        Assert.Equal(found.Trace, replayed.Trace);
        Assert.Contains($"ControlledTest.CheckReplay(scenario, \"{found.Schedule}\")", replayed.ReplayLine, StringComparison.Ordinal);
    }

    /// <summary>Garbage inside a schedule is still refused, naming the character (by its code when it is invisible) and its position.</summary>
    [Theory]
    [InlineData("a2 b3", "has the character U+0020 (a space) at position 2 (0-based)")]
    [InlineData(" a2\nb3 ", "has the character U+000A (a line break) at position 2 (0-based)")]
    [InlineData("a2B3", "has 'B' at position 2 (0-based), where a flow letter a-z belongs, optionally after '!' (flow letters are lower case)")]
    [InlineData("a2?", "has '?' at position 2 (0-based)")]
    [InlineData("ab!", "ends after the '!' at position 2; expected a flow letter a-z after it")]
    public void AStrayCharacterInASchedule_IsAFormatExceptionNamingItAndItsPosition(string schedule, string expected)
    {
        bool ran = false;
        var error = Assert.Throws<FormatException>(() => ControlledTest.Replay(scenario => scenario.Thread("only", () => ran = true), schedule));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(ran);
    }

    /// <summary>A schedule of whitespace only is the empty schedule.</summary>
    [Fact]
    public void AScheduleOfWhitespaceOnly_IsTheEmptySchedule()
    {
        var error = Assert.Throws<FormatException>(() => ControlledTest.Replay(OneFlow, " \r\n"));

        Assert.StartsWith("The schedule is empty", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// IdleTimeout = Timeout.InfiniteTimeSpan stays refused (a flow blocked outside Locksmith would hang the test for good;
    /// a flow paused under a debugger is waited for anyway), and the refusal now says so. Before, only "must be greater
    /// than '00:00:00'", which read as a bug for a value the BCL uses for "no limit".
    /// </summary>
    [Fact]
    public void AnInfiniteIdleTimeout_IsRefusedBeforeAnyFlowRuns_SayingWhyAndWhatToUse()
    {
        bool ran = false;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ControlledTest.Run(
            scenario => scenario.Thread("only", () => ran = true),
            new ControlledTestOptions { Iterations = 1, IdleTimeout = Timeout.InfiniteTimeSpan }));

        Assert.Equal("IdleTimeout", error.ParamName);
        Assert.Contains("IdleTimeout cannot be infinite", error.Message, StringComparison.Ordinal);
        Assert.Contains("debugger", error.Message, StringComparison.Ordinal);
        Assert.Contains("finite IdleTimeout", error.Message, StringComparison.Ordinal);
        Assert.False(ran);

        // Replay refuses it the same way, before decoding the schedule.
        var replay = Assert.Throws<ArgumentOutOfRangeException>(() => ControlledTest.Replay(OneFlow, "a", new ControlledTestOptions { IdleTimeout = Timeout.InfiniteTimeSpan }));
        Assert.Contains("IdleTimeout cannot be infinite", replay.Message, StringComparison.Ordinal);
    }

    /// <summary>A run that failed at its first choice said "(… 1 steps)", in the report's first line and in a replay's.</summary>
    [Fact]
    public void AOneStepRun_IsReportedAsOneStep_NotOneSteps()
    {
        static void Build(Scenario scenario) => scenario.Thread("x", () => throw new InvalidOperationException("at once"));

        var found = Assert.IsType<ControlledTestReport>(ControlledTest.Run(Build, new ControlledTestOptions { Iterations = 1 }).Failure);
        var replayed = Assert.IsType<ControlledTestReport>(ControlledTest.Replay(Build, found.Schedule).Failure);

        Assert.Equal(1, found.Steps);
        Assert.Contains(", 1 step): flow 'x' threw", found.ToString(), StringComparison.Ordinal);
        Assert.Contains(" (1 step): flow 'x' threw", replayed.ToString(), StringComparison.Ordinal);
    }
}
