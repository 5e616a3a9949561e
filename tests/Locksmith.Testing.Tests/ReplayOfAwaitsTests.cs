using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// An async flow that awaits something outside Locksmith (a timer, I/O, a task another thread completes) becomes
/// runnable when that comes back, in real time. A replay of a run where two such awaits came back in one order used to
/// meet them in the other order on some runs, and stop at the first choice of the flow not back yet ("which the run does
/// not offer there", Stuck): a report with <c>await Task.Delay(…)</c> replayed on some runs and not on others. Now a
/// replay waits (up to IdleTimeout) for the flow its schedule names when that flow awaits, as a run waits when no flow
/// can run. Ordered by the scheduler's own waits, not by time.
/// </summary>
public sealed class ReplayOfAwaitsTests
{
    [Fact]
    public void AReplayWaitsForTheFlowItsScheduleNames_WhenThatFlowsAwaitComesBackAfterAnothers()
    {
        var back = new TaskCompletionSource[2];
        int waits = 0;

        // The scheduler starts a wait for a post each time no flow it may run is runnable: the first time both flows
        // await; back comes the second flow's task first, then (once the scheduler waits again) the first flow's.
        ControlledRun.IdleWaitObserver = _ =>
        {
            int wait = ++waits;
            if (wait <= 2)
            {
                var task = back[wait == 1 ? 1 : 0];
                ThreadPool.UnsafeQueueUserWorkItem(static t => t.TrySetResult(), task, preferLocal: false);
            }
        };

        ControlledTestResult result;
        try
        {
            // a starts and awaits, b starts and awaits, then a resumes first, then b: the schedule of a run where a's
            // await came back first.
            result = ControlledTest.Replay(
                scenario =>
                {
                    var counter = new AtomicCounter("done");
                    for (int f = 0; f < 2; f++)
                    {
                        var task = back[f] = new TaskCompletionSource();
                        scenario.Flow(f == 0 ? "first" : "second", async () =>
                        {
                            await task.Task;
                            counter.Increment();
                        });
                    }
                },
                "aba2b2",
                new ControlledTestOptions { IdleTimeout = TimeSpan.FromSeconds(30) });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
            foreach (var task in back)
            {
                task?.TrySetResult();
            }
        }

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(2, waits);
    }
}
