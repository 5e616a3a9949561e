using System;
using System.Threading;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A thread outside the run ('keeper') holds the one permit of 'slots', which flow 'worker' waits for. Once the run waits
/// for the keeper, it gives the permit back, and is held, by the run's test hook, after the count went up and before its
/// signal reaches the run; meanwhile another thread outside the run ('pulser') fails a try of another semaphore, which
/// wakes the scheduler to decide again. The permit is free, the keeper's books still say it holds it, and the signal that
/// makes the worker try again is on its way: not a deadlock. Before, the scheduler counted the free permit as come back
/// and no code outside the run as holding one, and reported a Deadlock ("'slots' has 1 of 1 permits free: worker asks
/// for more than the 1 free"), as the CI run of 434910b did in <see cref="ReleasesAtTheSameInstantTests"/>.
/// </summary>
public sealed class OutsideReleaseSignalWindowTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    // How long the held release waits for the scheduler's second idle wait: a hang guard, not an assertion. With the
    // bug the run fails at once instead and never waits again; the test then fails on the run's result.
    private static readonly TimeSpan s_secondWaitGuard = TimeSpan.FromSeconds(5);

    [Fact]
    public void APermitGivenBackOutsideTheRunWhoseSignalIsOnItsWay_IsWaitedFor_NotADeadlock()
    {
        CountingSemaphore? slotsSeen = null, otherSeen = null;
        int windows = 0;
        Thread? keeper = null, pulser = null;
        var idle = new IdleObservation();
        var letGo = idle.LetGo;

        // The keeper's release, once: the count is up, the signal not yet heard. The pulser wakes the scheduler now.
        ControlledRun.OutsideSignalObserver = resource =>
        {
            if (!ReferenceEquals(resource, slotsSeen) || Thread.CurrentThread.Name != "keeper" || Interlocked.Increment(ref windows) != 1)
            {
                return;
            }

            var other = otherSeen!;
            pulser = new Thread(() => Assert.False(other.TryAcquire(out _))) { IsBackground = true, Name = "pulser" };
            pulser.Start();
            Assert.True(pulser.Join(s_guard), "the pulser did not end");
            idle.WaitedAgain.Wait(s_secondWaitGuard);
        };

        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var slots = new CountingSemaphore(1, 1, "slots");
                    var other = new CountingSemaphore(0, 1, "other");
                    slotsSeen = slots;
                    otherSeen = other;
                    scenario.Thread("worker", () =>
                    {
                        using var keeperTook = new ManualResetEventSlim();
                        using (ExecutionContext.SuppressFlow())
                        {
                            keeper = new Thread(() =>
                            {
                                using (slots.Acquire())
                                {
                                    keeperTook.Set();
                                    letGo.Wait(s_guard);
                                }
                            })
                            {
                                IsBackground = true,
                                Name = "keeper",
                            };
                            keeper.Start();
                        }

                        Assert.True(keeperTook.Wait(s_guard), "the keeper did not take the permit");
                        using (slots.Acquire())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(2) });
        }
        finally
        {
            idle.Dispose();
            ControlledRun.OutsideSignalObserver = null;
        }

        Assert.True(keeper?.Join(s_guard) ?? true, "the keeper did not end");
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(1, Volatile.Read(ref windows));
        Assert.NotNull(pulser);
        Assert.True(idle.WaitedAgain.IsSet, "the scheduler did not wait again while the keeper's signal was on its way");
        idle.AssertWaitedWithoutRunningOut();
    }
}
