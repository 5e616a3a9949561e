using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>How a controlled run names its flows in the runtime's messages, and when it calls a flow stuck.</summary>
public sealed class FlowNamesAndIdleTests
{
    /// <summary>
    /// Before, a timeout the scheduler ended named the waiter and the holder as threads ("Thread 12 ('controlled flow
    /// waiter')", OwnerThreadName "controlled flow holder") or as the runtime's async flows ("flow #7 … held by flow #6"),
    /// never as the scenario's flows that the trace and the report name. Now the thread keeps its id and the flow's name.
    /// </summary>
    [Fact]
    public void ATimeoutInsideARun_NamesTheWaitingAndHoldingFlows_SyncAndAsync()
    {
        var thrown = new List<LockTimeoutException>();
        var result = ControlledTest.Run(
            scenario => OppositeOrderTimeoutScenario.Build(scenario, thrown),
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Seed = 3, Iterations = 100 });

        Assert.True(result.Passed, result.ToString());
        Assert.Contains(thrown, static e => e.LockName == "gate");
        Assert.Contains(thrown, static e => e.LockName == "async-gate");
        Assert.All(thrown, static e =>
        {
            if (e.LockName == "gate")
            {
                Assert.Matches(@"^Thread \d+ \('waiter'\) timed out after 1500 ms waiting for exclusive access to 'gate', held by thread \d+ \('holder'\)\.$", e.Message);
                Assert.Equal("holder", e.OwnerThreadName);
            }
            else
            {
                Assert.Matches(@"^Flow #\d+ \('async-waiter'\) \(on thread \d+( \('[^']*'\))?\) timed out after 2500 ms waiting for exclusive access to 'async-gate', held by flow #\d+ \('async-holder'\)\.$", e.Message);
            }
        });
    }

    /// <summary>
    /// Before, the idle check compared the step count with the one it had read a whole idle period earlier, so a flow that
    /// blocked outside Locksmith was reported after one to two IdleTimeouts (two checks when it blocked from its start).
    /// Now the check waits one IdleTimeout from the last step: the first check after it reports the flow. Counted, not timed.
    /// </summary>
    [Fact]
    public void AFlowBlockedOutsideLocksmith_IsReportedStuck_AtTheFirstIdleCheck()
    {
        int checks = 0;
        using var outside = new ManualResetEventSlim(false);
        ControlledRun.IdleCheckObserver = () => checks++;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario => scenario.Thread("sleeper", () => outside.Wait()),
                new ControlledTestOptions { Iterations = 1, IdleTimeout = TimeSpan.FromMilliseconds(200) });
        }
        finally
        {
            ControlledRun.IdleCheckObserver = null;
            outside.Set();
        }

        var failure = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.Stuck, failure.Kind);
        Assert.Equal("sleeper", failure.Flow);
        Assert.Equal(1, checks);
    }

    /// <summary>
    /// Before, the run waited (Thread.Join, up to an IdleTimeout) for every flow's thread after the report, also for the
    /// flow reported stuck, which blocks outside Locksmith and does not end: the report reached the test after two
    /// IdleTimeouts, not one as README says. Now the stuck flow is not waited for; the others, parked at scheduling
    /// points, still are. Counted by the joins made, not timed.
    /// </summary>
    [Fact]
    public void AFlowReportedStuck_IsNotWaitedFor_WhileTheOtherFlowsAre()
    {
        var joined = new List<string>();
        using var outside = new ManualResetEventSlim(false);
        var gate = new ExclusiveLock("idle-gate");
        ControlledRun.JoinObserver = joined.Add;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    scenario.Thread("sleeper", () =>
                    {
                        using (gate.Acquire())
                        {
                        }

                        outside.Wait();
                    });
                    scenario.Thread("other", () =>
                    {
                        using (gate.Acquire())
                        {
                        }
                    });
                },
                // Long enough that "other", if it goes first, reaches its scheduling points on a loaded machine.
                new ControlledTestOptions { Iterations = 1, IdleTimeout = TimeSpan.FromSeconds(2) });
        }
        finally
        {
            ControlledRun.JoinObserver = null;
            outside.Set();
        }

        var failure = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.Stuck, failure.Kind);
        Assert.Equal("sleeper", failure.Flow);
        Assert.Equal(["other"], joined);
    }

    /// <summary>
    /// Before, the scheduler's wait for a post to an idle async flow started a whole IdleTimeout again at every wake-up,
    /// also one that made no flow runnable (here, posts to a finished flow's context), so a flow awaiting something outside
    /// Locksmith was reported only after the wake-ups stopped. Now the wait counts from the last step: each wait after such a
    /// wake-up is for what is left of the first one. Counted by the waits the scheduler starts, not timed.
    /// </summary>
    [Fact]
    public void AnAsyncFlowAwaitingOutsideLocksmith_IsReportedOneIdlePeriodAfterTheLastStep_ThroughUnrelatedWakeUps()
    {
        const int wakeUps = 3;

        // The three wake-ups must all come within one idle period: at 300 ms, a poster late on a loaded 2-core machine let
        // the period run out first (fewer waits, and a poster left waiting). The asserts count and compare; none is timed.
        var idleTimeout = TimeSpan.FromSeconds(2);
        var waits = new List<TimeSpan>();
        var outside = new TaskCompletionSource();
        SynchronizationContext? finished = null;
        using var waitStarted = new SemaphoreSlim(0);
        ControlledRun.IdleWaitObserver = wait =>
        {
            waits.Add(wait);
            waitStarted.Release();
        };

        // Waits until the scheduler is in its wait (it holds the run's gate until then, and Post takes it), then wakes it.
        // A thread of its own, so no busy thread pool delays it; each wait is bounded by the hang guard.
        Exception? posterFailed = null;
        var poster = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < wakeUps; i++)
                {
                    if (!waitStarted.Wait(TimeSpan.FromMinutes(1)))
                    {
                        throw new TimeoutException($"Hang guard: the scheduler's wait {i + 1} never started.");
                    }

                    finished!.Post(static _ => { }, null);
                }
            }
            catch (Exception e)
            {
                posterFailed = e;
            }
        })
        { IsBackground = true, Name = "poster" };
        poster.Start();
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    scenario.Flow("early", () =>
                    {
                        finished = SynchronizationContext.Current;
                        return Task.CompletedTask;
                    });
                    scenario.Flow("awaiter", async () => await outside.Task);
                },
                new ControlledTestOptions { Iterations = 1, IdleTimeout = idleTimeout });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
            outside.TrySetResult();
        }

        Assert.True(poster.Join(TimeSpan.FromMinutes(2)), "Hang guard: the poster never ended.");
        Assert.Null(posterFailed);
        var failure = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.Stuck, failure.Kind);
        Assert.Equal("awaiter", failure.Flow);
        Assert.True(waits.Count > wakeUps, string.Join(", ", waits));
        Assert.True(waits[0] <= idleTimeout, string.Join(", ", waits));
        for (int i = 1; i < waits.Count; i++)
        {
            Assert.True(waits[i] < waits[i - 1], $"wait {i} of [{string.Join(", ", waits)}] did not shrink");
        }
    }
}
