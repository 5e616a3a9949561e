using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// An async lock of the run held by an async flow that is not a flow of the run (a <c>Task.Run</c> body started with the
/// flow of the context suppressed, so it has a record of its own) while flow 'writer' waits for it.
/// </summary>
public sealed class OutsideAsyncHolderTests
{
    /// <summary>
    /// The task holds 'journal' and waits for 'ledger', which the writer holds while it asks for the journal. The run waits
    /// for the task's release in real time (an async wait tells the run nothing, so it cannot tell a timed one from one
    /// for good) and is Stuck: that stays, but the summary named "a thread", said nothing of the ledger, and so hid the
    /// cycle; it now names an async flow outside the run and what it waits for.
    /// </summary>
    [Fact]
    public async Task AnAsyncFlowOutsideTheRunHoldingALockAFlowWaitsFor_QueuedOnALockThatFlowHolds_IsStuck_NamingTheAsyncFlowAndItsWait()
    {
        int ranOut = 0;
        Task outside = Task.CompletedTask;
        AsyncExclusiveLock? ledger = null;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new AsyncExclusiveLock("journal");
                    ledger = new AsyncExclusiveLock("ledger");
                    scenario.Flow("writer", async () =>
                    {
                        using (await ledger.AcquireAsync())
                        {
                            using var tookJournal = new ManualResetEventSlim();
                            using (ExecutionContext.SuppressFlow())
                            {
                                outside = Task.Run(async () =>
                                {
                                    using (await journal.AcquireAsync())
                                    {
                                        tookJournal.Set();
                                        using (await ledger.AcquireAsync())
                                        {
                                        }
                                    }
                                });
                            }

                            tookJournal.Wait();

                            // Queued on the ledger before the writer asks for the journal (a guard, not a measure).
                            Assert.True(SpinWait.SpinUntil(() => ledger.WaitingCount == 1, TimeSpan.FromMinutes(1)));
                            using (await journal.AcquireAsync())
                            {
                            }
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromSeconds(1) });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
        }

        // Freed when the run unwound the writer (it gave the ledger back).
        await outside.WaitAsync(TimeSpan.FromMinutes(1));
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.Contains(
            "flow 'writer' waits for 'journal', held by an async flow that is not a flow of this run (a task outside it), which waits for 'ledger', held by writer (with no timeout, neither can go on), and did not release it for 1 s while no flow could run",
            report.Summary,
            StringComparison.Ordinal);
    }
}
