using System;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// <c>scenario.Finally</c> belongs in the builder, as <c>scenario.Thread</c> and <c>scenario.Flow</c> do. Before, a call
/// from a running flow was accepted (its check then ran only in the schedules that reached the call), and one from a check
/// changed the list of checks being run, so <c>Run</c> threw "Collection was modified". Now both are refused with an
/// <see cref="InvalidOperationException"/> that says when to call it, as a flow added after the start is.
/// </summary>
public sealed class LateFinallyTests
{
    private const string Refusal = "Scenario.Finally was called after the run started (from a flow or a check); add every check in the scenario builder";

    private static readonly ControlledTestOptions s_once = new() { Strategy = SchedulingStrategy.Random, Iterations = 1 };

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void FinallyFromARunningFlow_IsRefused_AndItsCheckNeverRuns(bool asyncFlow, bool asyncCheck)
    {
        bool checkRan = false;
        void AddCheck(Scenario scenario)
        {
            if (asyncCheck)
            {
                scenario.Finally(async () =>
                {
                    await Task.Yield();
                    checkRan = true;
                });
            }
            else
            {
                scenario.Finally(() => checkRan = true);
            }
        }

        var result = ControlledTest.Run(
            scenario =>
            {
                if (asyncFlow)
                {
                    scenario.Flow("late", async () =>
                    {
                        await Task.Yield();
                        AddCheck(scenario);
                    });
                }
                else
                {
                    scenario.Thread("late", () => AddCheck(scenario));
                }
            },
            s_once);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.UnhandledException, report.Kind);
        Assert.Equal("late", report.Flow);
        var error = Assert.IsType<InvalidOperationException>(report.Exception);
        Assert.StartsWith(Refusal, error.Message, StringComparison.Ordinal);
        Assert.False(checkRan);
    }

    [Fact]
    public void FinallyFromACheck_IsRefused_AndFailsThatCheck()
    {
        bool laterCheckRan = false;
        var result = ControlledTest.Run(
            scenario =>
            {
                scenario.Thread("only", () => { });
                scenario.Finally(() => scenario.Finally(() => laterCheckRan = true));
            },
            s_once);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.Assertion, report.Kind);
        var error = Assert.IsType<InvalidOperationException>(report.Exception);
        Assert.StartsWith(Refusal, error.Message, StringComparison.Ordinal);
        Assert.False(laterCheckRan);
    }

    [Fact]
    public void AFlowAddedFromARunningFlow_IsRefusedTheSameWay()
    {
        var result = ControlledTest.Run(scenario => scenario.Thread("late", () => scenario.Thread("later", () => { })), s_once);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.UnhandledException, report.Kind);
        var error = Assert.IsType<InvalidOperationException>(report.Exception);
        Assert.Equal("Flow 'later' was added after the run started; add every flow in the scenario builder.", error.Message);
    }
}
