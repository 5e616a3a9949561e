using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A task the builder starts while it holds an async lock (a background refresher started inside the hold) carries the
/// builder's claim, so it shares the builder's flow record: the locks it takes are the builder's in the run's eyes, even
/// once the builder released its own. Started under <see cref="ExecutionContext.SuppressFlow"/>, it is code outside the
/// run with a record of its own, and the run waits for its release.
/// </summary>
public sealed class BuilderTaskTests
{
    /// <summary>
    /// The refresher takes 'journal' and keeps it until the scheduler found nothing to run; flow 'writer' then waits for
    /// it. Sharing the builder's record, the hold is the builder's: a deadlock at once, naming the code running the
    /// scenario, though the refresher would release it. With the flow of the context suppressed, the run waits for that
    /// release and passes. The idle period is ten minutes: the shared case must not wait for any of it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATaskTheBuilderStartsWhileHoldingAnAsyncLock_SharesTheBuildersRecord_UnlessItsFlowIsSuppressed(bool suppressFlow)
    {
        int idleWaits = 0;
        using var release = new ManualResetEventSlim();
        var running = Task.Run(() =>
        {
            ControlledRun.IdleWaitObserver = _ =>
            {
                idleWaits++;
                release.Set();
            };
            try
            {
                return ControlledTest.Run(
                    scenario =>
                    {
                        var config = new AsyncExclusiveLock("config");
                        var journal = new AsyncExclusiveLock("journal");
                        using var taken = new ManualResetEventSlim();
                        Task StartRefresher() => Task.Run(async () =>
                        {
                            using (await journal.AcquireAsync())
                            {
                                taken.Set();
                                release.Wait();
                            }
                        });

                        using (config.AcquireAsync().AsTask().GetAwaiter().GetResult())
                        {
                            if (suppressFlow)
                            {
                                using (ExecutionContext.SuppressFlow())
                                {
                                    _ = StartRefresher();
                                }
                            }
                            else
                            {
                                _ = StartRefresher();
                            }

                            taken.Wait();
                        }

                        int entries = 0;
                        scenario.Flow("writer", async () =>
                        {
                            using (await journal.AcquireAsync())
                            {
                                entries++;
                            }
                        });
                        scenario.Finally(() => Assert.Equal(1, entries));
                    },
                    new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(10) });
            }
            finally
            {
                ControlledRun.IdleWaitObserver = null;
                release.Set();
            }
        });

        // A guard, not a measure: a run that waits for the shared hold would otherwise hang the test for ten minutes.
        var result = await running.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        if (suppressFlow)
        {
            Assert.True(result.Passed, result.ToString());
            Assert.NotEqual(0, idleWaits);
            return;
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, idleWaits);
        Assert.Contains("flow 'writer' waits for 'journal', held by the code running the scenario", report.Summary, StringComparison.Ordinal);

        // The summary names the task as a possible holder, and the way out.
        Assert.Contains(
            "or a task the builder started while it held an async lock took it: such a task shares the builder's flow record, unless started under ExecutionContext.SuppressFlow()",
            report.Summary,
            StringComparison.Ordinal);
    }
}
