using System;

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
}
