using System.Linq;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A trace skips step numbers (the README's example has no line at 5 and 8), and the skip was put down to
/// <c>await Task.Yield()</c> taking a step without a line. It takes none: the continuation is posted to the flow's own
/// context and runs at once, in the same turn. A skipped number is the choice that resumed a flow after its release (a
/// scheduling point too), whose next entry, an attempt, is logged at the choice that lets it go on.
/// </summary>
public sealed class YieldTraceTests
{
    [Fact]
    public void AnAwaitOfTaskYield_TakesNoStep_TheRunIsTheSameWithoutIt()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var withYields = Traced(yields: true, seed);
            var without = Traced(yields: false, seed);
            Assert.Equal(without.Schedule, withYields.Schedule);
            Assert.Equal(without.Steps, withYields.Steps);
            Assert.Equal(without.Trace, withYields.Trace);
        }
    }

    /// <summary>A release followed by an acquire skips a step number, with no Task.Yield anywhere.</summary>
    [Fact]
    public void AStepNumberIsSkipped_WhereAFlowResumesAfterItsReleaseAndThenAttemptsAgain()
    {
        var report = Traced(yields: false, seed: 0);
        var release = report.Trace.First(e => e is { Flow: "a", Operation: "release" });
        var next = report.Trace.First(e => e.Step > release.Step && e.Flow == "a");
        Assert.True(next.Operation == "acquire" && next.Step > release.Step + 1 && report.Trace.All(e => e.Step != release.Step + 1 || e.Flow != "a"), report.ToString());
    }

    private static ControlledTestReport Traced(bool yields, int seed) =>
        ControlledTest.Run(
            scenario =>
            {
                var gate = new AsyncExclusiveLock("gate");
                foreach (string name in new[] { "a", "b" })
                {
                    scenario.Flow(name, async () =>
                    {
                        using (await gate.AcquireAsync())
                        {
                        }

                        if (yields)
                        {
                            await Task.Yield();
                            await Task.Yield();
                        }

                        using (await gate.AcquireAsync())
                        {
                        }
                    });
                }

                // Always fails, to get the report with the trace.
                scenario.Finally(() => Assert.Fail("show the trace"));
            },
            new ControlledTestOptions { Seed = seed, Iterations = 1, Strategy = SchedulingStrategy.Random }).Failure!;
}
