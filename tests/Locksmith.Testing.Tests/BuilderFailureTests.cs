using System;
using System.Globalization;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A scenario builder that throws: before, its exception came out of <c>Run</c> as it was, without the iteration or the
/// seed, so a builder that fails only on some iterations could not be run again alone.
/// </summary>
public sealed class BuilderFailureTests
{
    private sealed class SetupBroke(string message) : Exception(message);

    private static void FailsOnIterationThree(Scenario scenario)
    {
        if (scenario.Iteration == 3)
        {
            throw new SetupBroke(string.Create(CultureInfo.InvariantCulture, $"no fixture for case {scenario.Iteration}"));
        }

        var gate = new ExclusiveLock("builder-gate");
        scenario.Thread("only", () =>
        {
            using var scope = gate.Acquire();
        });
    }

    [Fact]
    public void ABuilderThatThrows_NamesTheIterationAndSeed_AndKeepsItsException()
    {
        var options = new ControlledTestOptions { Iterations = 10, Seed = 41 };

        var error = Assert.Throws<InvalidOperationException>(() => ControlledTest.Run(FailsOnIterationThree, options));

        Assert.IsType<SetupBroke>(error.InnerException);
        Assert.Contains("builder threw in iteration 3 (seed 41, strategy ", error.Message, StringComparison.Ordinal);
        Assert.Contains("SetupBroke: no fixture for case 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("Iterations = 4 }", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRerunTheMessageGives_FailsTheSameWay_AndReplayByIterationToo()
    {
        var options = new ControlledTestOptions { Iterations = 10, Seed = 41 };
        var rerun = new ControlledTestOptions { Seed = 41, Strategy = options.Strategy, Iterations = 4 };

        var again = Assert.Throws<InvalidOperationException>(() => ControlledTest.Check(FailsOnIterationThree, rerun));
        var replayed = Assert.Throws<InvalidOperationException>(() => ControlledTest.Replay(FailsOnIterationThree, options, iteration: 3));

        Assert.Contains("iteration 3 (seed 41", again.Message, StringComparison.Ordinal);
        Assert.Contains("iteration 3 (seed 41", replayed.Message, StringComparison.Ordinal);
        Assert.IsType<SetupBroke>(replayed.InnerException);

        // Up to the iteration before it, the same builder passes: the failure is the iteration's own.
        Assert.Null(ControlledTest.Run(FailsOnIterationThree, new ControlledTestOptions { Iterations = 3, Seed = 41 }).Failure);
    }

    [Fact]
    public void ABuilderThatThrowsInAReplayOfASchedule_SaysSo()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ControlledTest.Replay(_ => throw new SetupBroke("no fixture"), "a1"));

        Assert.Contains("builder threw in a replay of a schedule", error.Message, StringComparison.Ordinal);
        Assert.IsType<SetupBroke>(error.InnerException);
    }

    [Fact]
    public void TheScenariosOwnRefusal_ComesOutAsItIs()
    {
        // A misuse the scenario refuses is the same on every iteration and names what to do: not wrapped.
        var error = Assert.Throws<ArgumentException>(() => ControlledTest.Run(
            scenario => scenario.Thread("x", async () => await System.Threading.Tasks.Task.Yield()),
            new ControlledTestOptions { Iterations = 1 }));

        Assert.StartsWith("The body of 'x' is async", error.Message, StringComparison.Ordinal);
    }
}
