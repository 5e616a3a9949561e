using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// An async flow's continuation that the thread pool picks up (<c>ConfigureAwait(false)</c> on an incomplete await) runs
/// as that flow: its release is scheduled, so no run ends in a false deadlock. A task body the flow starts on the pool
/// (<c>Task.Run</c>) still runs uncontrolled, so a flow may wait for one.
/// </summary>
public sealed class PoolContinuationTests
{
    private const int Iterations = 200;

    private static async Task<int> ReadLaterAsync(AtomicCounter counter)
    {
        long seen = counter.Value;
        await Task.Yield();
        return (int)seen;
    }

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void AReleaseAfterAPoolContinuationIsScheduled(string strategy)
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new AsyncExclusiveLock("gate");
                var counter = new AtomicCounter("count");
                for (int f = 0; f < 2; f++)
                {
                    scenario.Flow($"f{f}", async () =>
                    {
                        for (int i = 0; i < 2; i++)
                        {
                            var scope = await gate.AcquireAsync().ConfigureAwait(false);
                            int seen = await ReadLaterAsync(counter).ConfigureAwait(false);
                            counter.Exchange(seen + 1);
                            scope.Dispose();
                        }
                    });
                }

                scenario.Finally(() => Assert.Equal(4, counter.Value));
            },
            new ControlledTestOptions { Seed = 3, Iterations = Iterations, Strategy = strategy == "pct" ? SchedulingStrategy.Pct() : SchedulingStrategy.Random });

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(Iterations, result.IterationsRun);
    }

    [Fact]
    public void AnUnguardedReadAcrossAPoolContinuationIsFound()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var counter = new AtomicCounter("count");
                for (int f = 0; f < 2; f++)
                {
                    scenario.Flow($"f{f}", async () =>
                    {
                        int seen = await ReadLaterAsync(counter).ConfigureAwait(false);
                        counter.Exchange(seen + 1);
                    });
                }

                scenario.Finally(() => Assert.Equal(2, counter.Value));
            },
            new ControlledTestOptions { Seed = 3, Iterations = Iterations });

        Assert.False(result.Passed, "the lost update was not found");
        var report = result.Failure!;
        Assert.Equal(ControlledFailureKind.Assertion, report.Kind);
        Assert.Contains(report.Trace, e => e.Operation == "resumes on a pool thread");
    }

    [Fact]
    public void AFlowMayWaitForATaskItRanOnThePool()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var counter = new AtomicCounter("count");
                scenario.Flow("waiter", async () =>
                {
                    await Task.Yield();
                    int value = Task.Run(() => 41).GetAwaiter().GetResult();
                    counter.Add(value + 1);
                });
                scenario.Finally(() => Assert.Equal(42, counter.Value));
            },
            new ControlledTestOptions { Seed = 3, Iterations = 20 });

        Assert.True(result.Passed, result.ToString());
    }
}
