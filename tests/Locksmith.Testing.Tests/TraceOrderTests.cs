using System;
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

    [Fact]
    public void AReadWriteLocksAcquisitionsAreTracedWithTheirMode_SyncAndAsync()
    {
        // Before, a read and a write both read "acquire rw": the trace could not tell a reader from a writer.
        var report = ControlledTest.Run(
            scenario =>
            {
                var rw = new ReadWriteLock("rw");
                var arw = new AsyncReadWriteLock("arw");
                scenario.Thread("reader", () =>
                {
                    using (rw.AcquireRead())
                    {
                    }
                });
                scenario.Thread("writer", () =>
                {
                    using (rw.AcquireWrite())
                    {
                    }
                });
                scenario.Flow("async", async () =>
                {
                    using (await arw.AcquireReadAsync())
                    {
                    }

                    using (await arw.AcquireWriteAsync())
                    {
                    }
                });

                // Always fails, to get the report with the trace.
                scenario.Finally(() => Assert.Fail("show the trace"));
            },
            new ControlledTestOptions { Seed = 1, Iterations = 1 }).Failure!;

        var acquisitions = report.Trace.Where(e => e.Operation.StartsWith("acquire", StringComparison.Ordinal))
            .Select(e => $"{e.Flow}: {e.Operation} {e.Target}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["async: acquire read arw", "async: acquire write arw", "reader: acquire read rw", "writer: acquire write rw"], acquisitions);
    }
}
