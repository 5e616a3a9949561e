using System;

namespace Locksmith.Testing.Scenarios;

/// <summary>
/// The budget every scenario is held to, and the checks shared by all of them: a broken variant is found within the
/// budget for each fixed seed, its report replays to the same failure and trace, and the correct variant passes the
/// same budget.
/// </summary>
internal static class Hunt
{
    /// <summary>Runs per (strategy, seed): a broken variant must fail within it, a correct one pass all of it.</summary>
    public const int Iterations = 200;

    /// <summary>The strategies by the names the theories use.</summary>
    public static SchedulingStrategy Strategy(string name) => name switch
    {
        "random" => SchedulingStrategy.Random,
        "pct2" => SchedulingStrategy.Pct(2),
        "pct3" => SchedulingStrategy.Pct(3),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "random, pct2 or pct3"),
    };

    public static ControlledTestOptions Options(string strategy, int seed) =>
        new() { Strategy = Strategy(strategy), Seed = seed, Iterations = Iterations };

    /// <summary>The broken variant must fail within the budget; returns its report after checking that it replays.</summary>
    public static ControlledTestReport MustFind(Action<Scenario> build, string strategy, int seed, ControlledFailureKind kind)
    {
        var result = ControlledTest.Run(build, Options(strategy, seed));

        Assert.False(result.Passed, $"not found in {result.IterationsRun} runs ({strategy}, seed {seed})");
        var report = result.Failure!;
        Assert.True(kind == report.Kind, report.ToString());
        Assert.Equal(seed, report.Seed);
        Assert.InRange(report.Iteration, 0, Iterations - 1);
        Assert.Contains(report.Schedule, report.ReplayLine, StringComparison.Ordinal);

        // The one-line replay runs exactly that schedule again: the same failure, step for step.
        var replayed = ControlledTest.Replay(build, report.Schedule).Failure;
        Assert.NotNull(replayed);
        Assert.Equal(report.Kind, replayed.Kind);
        Assert.Equal(report.Schedule, replayed.Schedule);
        Assert.Equal(report.Trace, replayed.Trace);
        Assert.Equal(report.Waits, replayed.Waits);
        Assert.Equal(report.Summary, replayed.Summary);
        return report;
    }

    /// <summary>The correct variant must pass every run of the same budget.</summary>
    public static void MustPass(Action<Scenario> build, string strategy, int seed)
    {
        var result = ControlledTest.Run(build, Options(strategy, seed));

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(Iterations, result.IterationsRun);
    }
}
