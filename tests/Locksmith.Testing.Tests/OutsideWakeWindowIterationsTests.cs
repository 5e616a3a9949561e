using System;
using System.Threading;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The wake window over many iterations, as a user's test meets it: a flow's release wakes a thread outside the run ('Y')
/// queued ahead of another ('X', which holds 'journal'), and the flow then asks for 'journal'. Until Y takes the permit,
/// X reads as fitting the free one (its wake-up may be on its way), so the run waits; Y's acquisition ends that wait (it
/// wakes the run), not the idle period. No iteration may be called a deadlock or wait its idle period out: the idle
/// period is long, so one that ran out would show as a failure here, not pass as a slow test.
/// </summary>
public sealed class OutsideWakeWindowIterationsTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Fact]
    public void AReleaseThatWakesAWaiterAheadOfTheHolder_IsWaitedFor_InEveryIteration_WithoutTheIdlePeriodRunningOut()
    {
        int ranOut = 0, idleWaits = 0, parks = 0;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledRun.IdleWaitObserver = _ => Interlocked.Increment(ref idleWaits);
        ControlledRun.OutsideParkObserver = _ => Interlocked.Increment(ref parks);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var slots = new CountingSemaphore(1, 1, "slots");
                    var journal = new ExclusiveLock("journal");
                    scenario.Thread("f", () =>
                    {
                        int before = Volatile.Read(ref parks);
                        _ = slots.Acquire();
                        var y = new Thread(() =>
                        {
                            using (slots.Acquire())
                            {
                            }
                        })
                        { IsBackground = true, Name = "Y" };
                        y.Start();
                        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref parks) > before, s_guard), "Y did not park");
                        var x = new Thread(() =>
                        {
                            using (journal.Acquire())
                            using (slots.Acquire())
                            {
                            }
                        })
                        { IsBackground = true, Name = "X" };
                        x.Start();
                        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref parks) > before + 1, s_guard), "X did not park");
                        slots.Release();
                        using (journal.Acquire())
                        {
                        }

                        Assert.True(x.Join(s_guard) && y.Join(s_guard), "X or Y did not end");
                    });
                },
                new ControlledTestOptions { Iterations = 200, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(2) });
        }
        finally
        {
            ControlledRun.IdleRanOutObserver = null;
            ControlledRun.IdleWaitObserver = null;
            ControlledRun.OutsideParkObserver = null;
        }

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
        Assert.NotEqual(0, idleWaits);
    }
}
