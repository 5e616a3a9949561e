using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A task outside the run (its own async flow) holds 'journal', which flow 'writer' asks for, while it waits, with no
/// timeout nor token, for an async lock of the run the writer holds: a read behind the writer's write, a write behind its
/// read, a permit it has. The run can never end, and says so at once as a deadlock. Each run has a long idle period, and a
/// test fails if the scheduler's wait ran out (the decision was the clock's), so no test depends on time.
/// </summary>
public sealed class OutsideAsyncWaiterKindsTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // The idle period of a run that ends Stuck: it also bounds the task's start on the thread pool (which may first have to
    // inject a thread on a busy machine) and its taking the journal, which at 1 s could pass first, so the run named the
    // writer's block outside Locksmith instead.
    private static readonly TimeSpan s_stuckIdle = TimeSpan.FromSeconds(5);

    // Bounds the waits for the task's end and for its taking the journal.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData("read behind a write", "which waits for 'catalog', held by writer: neither can go on")]
    [InlineData("write behind a read", "which waits for 'catalog', held for reading by writer: neither can go on")]
    [InlineData("permit", "which waits for 'slots', held by writer: neither can go on")]
    public async Task AnAsyncFlowOutsideTheRunWaitingUntimedForWhatAFlowHolds_HoldingALockThatFlowWaitsFor_IsADeadlockAtOnce(string kind, string waits)
    {
        int ranOut = 0;
        Task outside = Task.CompletedTask;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new AsyncExclusiveLock("journal");
                    var catalog = new AsyncReadWriteLock("catalog");
                    var slots = new CountingSemaphore(1, 1, "slots");
                    Func<ValueTask<AsyncLockScope>> hold = kind switch
                    {
                        "read behind a write" => () => catalog.AcquireWriteAsync(),
                        "write behind a read" => () => catalog.AcquireReadAsync(),
                        _ => () => slots.AcquireAsync(),
                    };
                    Func<ValueTask<AsyncLockScope>> wait = kind switch
                    {
                        "read behind a write" => () => catalog.AcquireReadAsync(),
                        "write behind a read" => () => catalog.AcquireWriteAsync(),
                        _ => () => slots.AcquireAsync(),
                    };
                    scenario.Flow("writer", async () =>
                    {
                        using (await hold())
                        {
                            var tookJournal = new ManualResetEventSlim();
                            using (ExecutionContext.SuppressFlow())
                            {
                                outside = Task.Run(async () =>
                                {
                                    using (await journal.AcquireAsync())
                                    {
                                        tookJournal.Set();
                                        using (await wait())
                                        {
                                        }
                                    }
                                });
                            }

                            Assert.True(tookJournal.Wait(s_guard));
                            using (await journal.AcquireAsync())
                            {
                            }
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
        }

        // Freed when the run unwound the writer (it gave back what it held).
        await outside.WaitAsync(s_guard);
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, Volatile.Read(ref ranOut));
        Assert.Contains(new WaitForEdge("writer", "journal", null), report.Waits);
        Assert.Contains(
            "'journal' is held by an async flow that is not a flow of this run (a task outside it), " + waits,
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// The task's write waits behind the writer's read with a timeout longer than the idle period: the run waits for the
    /// task in real time and is Stuck when the idle period runs out, and the summary names the read the task waits behind
    /// (it said only that the task did not release the journal: a lock held for reading has no holder to name).
    /// </summary>
    [Fact]
    public async Task AnAsyncFlowOutsideTheRunWaitingToWriteBehindAFlowsRead_LongerThanTheIdlePeriod_IsStuck_NamingTheRead()
    {
        int ranOut = 0;
        Task outside = Task.CompletedTask;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new AsyncExclusiveLock("journal");
                    var catalog = new AsyncReadWriteLock("catalog");
                    scenario.Flow("writer", async () =>
                    {
                        using (await catalog.AcquireReadAsync())
                        {
                            var tookJournal = new ManualResetEventSlim();
                            using (ExecutionContext.SuppressFlow())
                            {
                                outside = Task.Run(async () =>
                                {
                                    using (await journal.AcquireAsync())
                                    {
                                        tookJournal.Set();
                                        using (await catalog.TryAcquireWriteAsync(TimeSpan.FromMinutes(10)))
                                        {
                                        }
                                    }
                                });
                            }

                            Assert.True(tookJournal.Wait(s_guard));

                            // Queued behind the read before the writer asks for the journal (a guard, not a measure).
                            Assert.True(SpinWait.SpinUntil(() => catalog.WaitingCount == 1, s_guard));
                            using (await journal.AcquireAsync())
                            {
                            }
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_stuckIdle });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
        }

        await outside.WaitAsync(s_guard);
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.NotEqual(0, Volatile.Read(ref ranOut));
        Assert.Contains(
            "flow 'writer' waits for 'journal', held by an async flow that is not a flow of this run (a task outside it), which waits for 'catalog', held for reading by writer (a wait with a timeout or a token, which has not ended), and did not release it for 5 s while no flow could run",
            report.Summary,
            StringComparison.Ordinal);
    }
}
