using System;
using System.Threading;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A permit a flow took, given back by code outside the run and taken again there (by another thread, or by the one that
/// gave it back), is held outside the run, not by the flow: the semaphore's books are by taker, and the flow's one taken
/// permit cannot tell that the permit the semaphore misses is no longer the flow's. A flow waiting for it must wait for
/// that code's release, not be called deadlocked. Each run has a long idle period, and a test fails if the scheduler's
/// wait ran out (the decision was the clock's), so nothing depends on time.
/// </summary>
public sealed class OutsidePermitRetakenTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // Bounds every wait of the test's own code, and the outside code's end once the run is over.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Flow 'worker' takes the one permit of 'slots' and keeps it for code outside the run to give back; 'returner' (or
    /// the keeper itself, when <paramref name="sameThread"/>) gives it back, and 'keeper' takes it and holds it until the
    /// run waits for it. Then the worker asks for a permit: the keeper's release is on its way once the run waits.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFlowsPermitGivenBackAndRetakenOutsideTheRun_IsWaitedFor_NotADeadlock(bool sameThread)
    {
        var idle = new IdleObservation();
        Thread? keeper = null;
        bool keeperTook = false;
        ControlledTestResult result;
        using (idle)
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var slots = new CountingSemaphore(1, 1, "slots");
                    scenario.Thread("worker", () =>
                    {
                        _ = slots.Acquire();
                        using var took = new ManualResetEventSlim();
                        keeper = new Thread(() =>
                        {
                            if (sameThread)
                            {
                                slots.Release();
                            }

                            using (slots.Acquire())
                            {
                                keeperTook = true;
                                took.Set();
                                idle.LetGo.Wait(s_guard);
                            }
                        })
                        { IsBackground = true, Name = "keeper" };
                        if (!sameThread)
                        {
                            var returner = new Thread(() => slots.Release()) { IsBackground = true, Name = "returner" };
                            returner.Start();
                            Assert.True(returner.Join(s_guard), "the returner did not end");
                        }

                        keeper.Start();
                        Assert.True(took.Wait(s_guard), "the keeper did not take the permit");
                        using (slots.Acquire())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }

        Assert.True(keeper!.Join(s_guard), "the keeper did not end");
        Assert.True(keeperTook);
        Assert.True(result.Passed, result.ToString());
        idle.AssertWaitedWithoutRunningOut();
    }

    /// <summary>
    /// As above, while another thread outside the run ('holder') holds a permit of 'slots' (2) of its own as the returner
    /// gives the worker's back: the run cannot tell whose came back. The keeper then takes one and holds it until the run
    /// waits, the holder gives its own back, and the worker asks for two. Before, the return was counted as the holder's,
    /// so once the holder gave its own back the keeper's permit read as the worker's: a Deadlock at once, though the keeper
    /// would release. Now the flows' is counted as back, and the keeper's release is waited for.
    /// </summary>
    [Fact]
    public void AFlowsPermitGivenBackOutside_WhileOtherOutsideCodeHoldsOne_IsCountedAsTheFlows_SoTheRetakerIsWaitedFor()
    {
        var idle = new IdleObservation();
        using var holderGo = new ManualResetEventSlim();
        Thread? keeper = null, holder = null;
        ControlledTestResult result;
        try
        {
            using var observing = idle;
            result = ControlledTest.Run(
                scenario =>
                {
                    var slots = new CountingSemaphore(2, 2, "slots");
                    scenario.Thread("worker", () =>
                    {
                        using var held = new ManualResetEventSlim();
                        holder = new Thread(() =>
                        {
                            using (slots.Acquire())
                            {
                                held.Set();
                                holderGo.Wait(s_guard);
                            }
                        })
                        { IsBackground = true, Name = "holder" };
                        holder.Start();
                        Assert.True(held.Wait(s_guard), "the holder did not take its permit");
                        _ = slots.Acquire();
                        var returner = new Thread(() => slots.Release()) { IsBackground = true, Name = "returner" };
                        returner.Start();
                        Assert.True(returner.Join(s_guard), "the returner did not end");
                        using var took = new ManualResetEventSlim();
                        keeper = new Thread(() =>
                        {
                            using (slots.Acquire())
                            {
                                took.Set();
                                idle.LetGo.Wait(s_guard);
                            }
                        })
                        { IsBackground = true, Name = "keeper" };
                        keeper.Start();
                        Assert.True(took.Wait(s_guard), "the keeper did not take the permit");
                        holderGo.Set();
                        Assert.True(holder.Join(s_guard), "the holder did not end");
                        using (slots.Acquire(2))
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            holderGo.Set();
        }

        Assert.True(keeper!.Join(s_guard), "the keeper did not end");
        Assert.True(result.Passed, result.ToString());
        idle.AssertWaitedWithoutRunningOut();
    }
}
