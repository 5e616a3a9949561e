using System;

namespace Locksmith.Testing.Tests;

/// <summary>The trace names a stripe of an unnamed striped lock the same way in every run, so replays match.</summary>
public sealed class StripeNameTests
{
    [Fact]
    public void TheStripesOfAnUnnamedStripedLock_AreRenumberedSoReplaysMatch()
    {
        // Before, a stripe ("StripedLock#12 (…)[1]") kept the striped lock's process-wide number: every run, and so every
        // replay, printed another trace.
        static void Build(Scenario scenario)
        {
            var striped = new StripedLock<int>(4);
            scenario.Thread("only", () =>
            {
                using var scope = striped.Acquire(1);
            });
            scenario.Finally(() => throw new InvalidOperationException("show the trace"));
        }

        var first = ControlledTest.Run(Build, new ControlledTestOptions { Iterations = 1 }).Failure!;
        var replayed = ControlledTest.Replay(Build, first.Schedule).Failure!;

        Assert.Equal(first.Trace, replayed.Trace);
        Assert.Contains(first.Trace, e => e.Operation == "acquire" && e.Target.StartsWith("StripedLock#1", StringComparison.Ordinal)
            && e.Target.EndsWith(']'));
    }
}
