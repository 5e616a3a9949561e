using System;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The options and strategies are records: a test varies a shared set of options with <c>with</c>, and two options that
/// run the same schedules compare equal (before, <c>with</c> did not compile, CS8858, and <c>Pct(2)</c> equalled only itself).
/// </summary>
public sealed class OptionsRecordTests
{
    [Fact]
    public void WithChangesOnlyWhatItNames()
    {
        var shared = new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(2), Iterations = 50, MaxSteps = 400 };

        var other = shared with { Seed = 7 };

        Assert.Equal(7, other.Seed);
        Assert.Equal(0, shared.Seed);
        Assert.Equal(50, other.Iterations);
        Assert.Equal(400, other.MaxSteps);
        Assert.Equal(SchedulingStrategy.Pct(2), other.Strategy);
        Assert.NotEqual(shared, other);
        Assert.Equal(shared, other with { Seed = 0 });
    }

    [Fact]
    public void StrategiesCompareByWhatTheyRun()
    {
        Assert.Equal(SchedulingStrategy.Pct(2), SchedulingStrategy.Pct(2));
        Assert.Equal(SchedulingStrategy.Pct(2).GetHashCode(), SchedulingStrategy.Pct(2).GetHashCode());
        Assert.NotEqual(SchedulingStrategy.Pct(2), SchedulingStrategy.Pct(3));
        Assert.NotEqual(SchedulingStrategy.Random, SchedulingStrategy.Portfolio);
        Assert.Equal("Pct(3)", SchedulingStrategy.Pct().ToString());
    }

    [Fact]
    public void TheOptionsPrintWhatTheyHold_ForATestLog()
    {
        var options = new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(2), Seed = 3, IdleTimeout = TimeSpan.FromSeconds(5) };

        Assert.Equal(
            "ControlledTestOptions { Strategy = Pct(2), Seed = 3, Iterations = 100, MaxSteps = 10000, IdleTimeout = 00:00:05 }",
            options.ToString());
    }

    [Fact]
    public void AnOptionsCopyWithABadValue_IsRefusedLikeANewOne()
    {
        var copy = new ControlledTestOptions { Iterations = 1 } with { MaxSteps = 0 };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ControlledTest.Run(_ => { }, copy));

        Assert.Equal("MaxSteps", error.ParamName);
    }
}
