using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// <see cref="DeadlockDetector.CurrentWaits"/> names an async flow by reading its activity inside the flow's execution
/// context. Called on a thread outside the run (a watchdog, the test) while a controlled async flow waited on a lock, that
/// switch looked like a continuation of the flow: the thread was adopted as the flow, waited for the flow's turn, and the
/// run's trace and schedule gained a step ("waiter: resumes on a pool thread"). Ordered by the scheduler's own waits.
/// </summary>
public sealed class DiagnosticsDuringRunTests
{
    [Fact]
    public void ReadingTheCurrentWaitsDuringARun_NeitherWaitsForAFlowsTurn_NorChangesTheRun()
    {
        // Made before the run, so its wait is a real one, listed by the detector.
        var outside = new AsyncExclusiveLock("outside");
        TaskCompletionSource? release = null;
        IReadOnlyList<LockWaitInProgress>? seen = null;
        int waits = 0;

        // Once both flows await (no flow can run), a pool thread reads the waits, then lets the holder go on.
        ControlledRun.IdleWaitObserver = _ =>
        {
            if (++waits == 1)
            {
                var holderGoesOn = release!;
                ThreadPool.UnsafeQueueUserWorkItem(
                    _ =>
                    {
                        seen = DeadlockDetector.CurrentWaits();
                        holderGoesOn.TrySetResult();
                    },
                    null);
            }
        };

        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var holderGoesOn = release = new TaskCompletionSource();
                    scenario.Flow("holder", async () =>
                    {
                        using (await outside.AcquireAsync())
                        {
                            await holderGoesOn.Task;
                        }
                    });
                    scenario.Flow("waiter", async () =>
                    {
                        using (await outside.AcquireAsync())
                        {
                        }
                    });
                    scenario.Finally(() => throw new InvalidOperationException("the trace, please"));
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromSeconds(30) });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
            release?.TrySetResult();
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Assertion, report.ToString());
        Assert.DoesNotContain(report.Trace, entry => entry.Operation == "resumes on a pool thread");
        Assert.NotNull(seen);
        Assert.Contains(seen, wait => wait.WaiterName == "waiter" && wait.LockName == "outside");
    }
}
