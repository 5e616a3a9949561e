using System.Threading.Tasks;
using Locksmith.Testing.Scenarios.Subjects;

namespace Locksmith.Testing.Scenarios;

/// <summary>
/// Generated async wrappers around cores that really await: the wrapper resumes on a thread-pool thread
/// (<c>ConfigureAwait(false)</c> on an incomplete task), and the scheduler runs that continuation as its flow, so the
/// release inside it is scheduled like any other and no run ends in a false deadlock.
/// </summary>
public sealed class EscapedContinuationTests
{
    private static void Tally(Scenario scenario, bool atomic)
    {
        var tally = new AsyncTally();
        for (int f = 0; f < 2; f++)
        {
            scenario.Flow($"adder{f}", async () =>
            {
                for (int i = 0; i < 2; i++)
                {
                    if (atomic)
                    {
                        await tally.IncrementAsync();
                    }
                    else
                    {
                        // Broken: the read and the write are two holds, with a switch possible between them.
                        int seen = await tally.ReadAsync();
                        await tally.WriteAsync(seen + 1);
                    }
                }
            });
        }

        scenario.Finally(() => Assert.Equal(4, tally.ReadAsync().GetAwaiter().GetResult()));
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void IncrementThatAwaitsUnderTheLockPasses(string strategy, int seed) =>
        Hunt.MustPass(s => Tally(s, atomic: true), strategy, seed);

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void ReadThenWriteAcrossTwoHoldsIsFound(string strategy, int seed)
    {
        // Not Hunt.MustFind: when the pool delivers a continuation is not the scheduler's choice, so a replay of this
        // run may see a flow runnable one step earlier or later (README, Systematic testing).
        var result = ControlledTest.Run(s => Tally(s, atomic: false), Hunt.Options(strategy, seed));

        Assert.False(result.Passed, $"not found in {result.IterationsRun} runs ({strategy}, seed {seed})");
        var report = result.Failure!;
        Assert.True(report.Kind == ControlledFailureKind.Assertion, report.ToString());
        Assert.Contains(report.Trace, e => e is { Operation: "resumes on a pool thread" });
        Assert.Contains(report.Trace, e => e is { Flow: "adder0", Operation: "release", Target: "tally.async" });
        Assert.Contains(report.Trace, e => e is { Flow: "adder1", Operation: "release", Target: "tally.async" });
    }
}
