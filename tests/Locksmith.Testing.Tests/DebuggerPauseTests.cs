using System;
using System.Threading;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A flow paused at a breakpoint while a replay is debugged reaches no scheduling point for as long as the pause lasts.
/// Before, the run reported it <c>Stuck</c> after one <see cref="ControlledTestOptions.IdleTimeout"/> (30 s by default)
/// whether or not a debugger was attached; now, under a debugger, it waits for the flow. The debugger is simulated: the
/// flow blocks until the scenario's thread has checked for idleness twice.
/// </summary>
public sealed class DebuggerPauseTests
{
    private static (ControlledTestResult Result, bool Resumed, int Checks) RunPausedFlow(bool debuggerAttached)
    {
        using var breakpoint = new ManualResetEventSlim();
        int checks = 0;
        bool resumed = false;
        ControlledRun.DebuggerAttached = () => debuggerAttached;
        ControlledRun.IdleCheckObserver = () =>
        {
            if (++checks == 2)
            {
                breakpoint.Set();
            }
        };

        try
        {
            var result = ControlledTest.Run(
                scenario =>
                {
                    var gate = new ExclusiveLock("gate");
                    scenario.Thread("paused", () =>
                    {
                        resumed = breakpoint.Wait(TimeSpan.FromSeconds(30));   // the hang guard: a debugger's pause
                        using var scope = gate.Acquire();
                    });
                    scenario.Thread("other", () =>
                    {
                        using var scope = gate.Acquire();
                    });
                },
                new ControlledTestOptions { Iterations = 1, IdleTimeout = TimeSpan.FromMilliseconds(200) });
            return (result, resumed, checks);
        }
        finally
        {
            ControlledRun.DebuggerAttached = null;
            ControlledRun.IdleCheckObserver = null;
            breakpoint.Set();
        }
    }

    [Fact]
    public void AFlowPausedUnderADebugger_IsWaitedFor_NotReportedStuck()
    {
        var (result, resumed, checks) = RunPausedFlow(debuggerAttached: true);

        Assert.True(result.Passed, result.ToString());
        Assert.True(resumed);
        Assert.True(checks >= 2, $"{checks} idle checks");
    }

    [Fact]
    public void WithoutADebugger_TheSamePause_IsStuckAtTheFirstIdleCheck()
    {
        var (result, _, checks) = RunPausedFlow(debuggerAttached: false);

        var failure = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.Stuck, failure.Kind);
        Assert.Equal("paused", failure.Flow);
        Assert.Equal(1, checks);
    }
}
