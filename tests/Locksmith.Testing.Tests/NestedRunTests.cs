using System;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>A controlled run started from inside another run's async flow runs its own flows.</summary>
public sealed class NestedRunTests
{
    [Fact]
    public void ARunStartedInsideAnAsyncFlow_RunsItsOwnFlows()
    {
        // Before, the inner run's flow threads inherited the outer flow's identity and waited for the outer flow's turn,
        // which never came while that flow waited for the inner run: the inner run failed as Stuck.
        ControlledTestResult? inner = null;
        var outer = ControlledTest.Run(
            scenario => scenario.Flow("outer", async () =>
            {
                await Task.Yield();
                inner = ControlledTest.Run(
                    nested =>
                    {
                        var gate = new ExclusiveLock("gate");
                        nested.Thread("thread", () =>
                        {
                            using var scope = gate.Acquire();
                        });
                        nested.Flow("flow", async () =>
                        {
                            await Task.Yield();
                            using var scope = gate.Acquire();
                        });
                    },
                    new ControlledTestOptions { Iterations = 3, IdleTimeout = TimeSpan.FromSeconds(10) });
            }),
            new ControlledTestOptions { Iterations = 1, IdleTimeout = TimeSpan.FromSeconds(60) });

        Assert.True(outer.Passed, outer.ToString());
        Assert.NotNull(inner);
        Assert.True(inner.Passed, inner.ToString());
        Assert.Equal(3, inner.IterationsRun);
    }
}
