using System.Collections.Generic;
using System.Linq;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The trace reads in effect order: each flow notes every counter update right after it (one flow runs at a time, so
/// the notes are the order the updates happened), and the trace's update entries come in the same order.
/// </summary>
public sealed class TraceOrderTests
{
    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void CounterUpdatesAreTracedInTheOrderTheyTookEffect(string strategy)
    {
        for (int seed = 1; seed <= 20; seed++)
        {
            var happened = new List<string>();
            var result = ControlledTest.Run(
                scenario =>
                {
                    happened.Clear();
                    var counter = new AtomicCounter("count");
                    for (int f = 0; f < 3; f++)
                    {
                        string name = $"f{f}";
                        scenario.Thread(name, () =>
                        {
                            for (int i = 0; i < 3; i++)
                            {
                                counter.Increment();
                                happened.Add(name);
                            }
                        });
                    }

                    // Always fails, to get the report with the trace.
                    scenario.Finally(() => Assert.Fail("show the trace"));
                },
                new ControlledTestOptions { Seed = seed, Iterations = 1, Strategy = strategy == "pct" ? SchedulingStrategy.Pct() : SchedulingStrategy.Random });

            var report = result.Failure!;
            Assert.Equal(ControlledFailureKind.Assertion, report.Kind);
            var traced = report.Trace.Where(e => e.Operation == "update").Select(e => e.Flow).ToList();
            Assert.Equal(9, happened.Count);
            Assert.Equal(happened, traced);
        }
    }
}
