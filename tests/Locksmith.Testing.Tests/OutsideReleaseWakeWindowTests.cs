using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A thread outside the run ('keeper') holds 'journal', which flow 'writer' asks for, and is parked for one permit of
/// 'slots'; a task outside the run ('late') is queued behind it with a token. Another thread outside the run ('giver')
/// gives its permits back and is held, by the semaphore's test hook, after the count went up and before it wakes the
/// keeper: the keeper fits the free permits with no async waiter ahead of it (or one that fits too), so its wake-up is on
/// its way. The run has a long idle period, and the test fails if the scheduler's wait ran out (the decision was the
/// clock's).
/// </summary>
public sealed class OutsideReleaseWakeWindowTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // Bounds every wait of the test's own code, and the outside code's end once the run is over.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Waited for, not a deadlock: the giver is let go once the scheduler waits, wakes the keeper, which takes the permit
    /// and gives the journal back (it was a deadlock at once: the permit read as back, no code outside the run as holding
    /// one, and the keeper, still queued, as parked for good since only the late one, behind it, may leave). With
    /// <paramref name="untimedAsyncAhead"/> a task outside the run ('early') waits, with no timeout nor token, for one
    /// permit ahead of the keeper, and the giver gives two back: the wake-up serves both.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaiterOutsideTheRunThatAReleaseIsAboutToWake_WithACancellableAsyncWaiterBehindIt_IsWaitedFor_NotADeadlock(bool untimedAsyncAhead)
    {
        int ranOut = 0, idleWaits = 0, windows = 0;
        using var parked = new ManualResetEventSlim();
        using var inWindow = new ManualResetEventSlim();
        using var letGo = new ManualResetEventSlim();
        using var late = new CancellationTokenSource();
        Thread? giverThread = null;
        Task giver = Task.CompletedTask, keeper = Task.CompletedTask, lateWait = Task.CompletedTask, earlyWait = Task.CompletedTask;
        CountingSemaphore? slotsSeen = null;
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledRun.IdleWaitObserver = _ =>
        {
            Interlocked.Increment(ref idleWaits);
            letGo.Set();
        };
        ControlledRun.OutsideParkObserver = resource =>
        {
            if (ReferenceEquals(resource, slotsSeen))
            {
                parked.Set();
            }
        };

        // Holds the giver's release (only its, and once) between the count going up and the wake-up.
        ControlledRun.WakeAfterReleaseObserver = semaphore =>
        {
            if (ReferenceEquals(semaphore, slotsSeen) && ReferenceEquals(Thread.CurrentThread, Volatile.Read(ref giverThread)) &&
                Interlocked.Increment(ref windows) == 1)
            {
                inWindow.Set();
                letGo.Wait(s_guard);
            }
        };
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var journal = new ExclusiveLock("journal");
                    int given = untimedAsyncAhead ? 2 : 1;
                    var slots = new CountingSemaphore(given + 1, given + 1, "slots");
                    slotsSeen = slots;

                    scenario.Thread("writer", () =>
                    {
                        using (slots.Acquire())
                        {
                            using var gave = new ManualResetEventSlim();
                            using var giverTook = new ManualResetEventSlim();
                            using var keeperTook = new ManualResetEventSlim();
                            using var lateQueued = new ManualResetEventSlim();
                            using var earlyQueued = new ManualResetEventSlim();
                            using (ExecutionContext.SuppressFlow())
                            {
                                var giverRuns = new Thread(() =>
                                {
                                    var scope = slots.Acquire(given);
                                    giverTook.Set();
                                    gave.Wait(s_guard);
                                    scope.Dispose();
                                })
                                {
                                    IsBackground = true,
                                    Name = "giver",
                                };
                                Volatile.Write(ref giverThread, giverRuns);
                                giverRuns.Start();
                                giver = Task.Run(giverRuns.Join);
                                Assert.True(giverTook.Wait(s_guard));
                                if (untimedAsyncAhead)
                                {
                                    earlyWait = Task.Run(async () =>
                                    {
                                        var wait = slots.AcquireAsync();
                                        Assert.False(wait.IsCompleted);
                                        earlyQueued.Set();
                                        (await wait).Dispose();
                                    });
                                    Assert.True(earlyQueued.Wait(s_guard));
                                }

                                var keeperRuns = new Thread(() =>
                                {
                                    using (journal.Acquire())
                                    {
                                        keeperTook.Set();
                                        slots.Acquire().Dispose();
                                    }
                                })
                                {
                                    IsBackground = true,
                                    Name = "keeper",
                                };
                                keeperRuns.Start();
                                keeper = Task.Run(keeperRuns.Join);
                                Assert.True(keeperTook.Wait(s_guard));
                                Assert.True(parked.Wait(s_guard));

                                lateWait = Task.Run(async () =>
                                {
                                    var wait = slots.AcquireAsync(late.Token);
                                    Assert.False(wait.IsCompleted);
                                    lateQueued.Set();
                                    (await wait).Dispose();
                                });
                                Assert.True(lateQueued.Wait(s_guard));
                            }

                            gave.Set();
                            Assert.True(inWindow.Wait(s_guard));
                            using (journal.Acquire())
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
            ControlledRun.IdleWaitObserver = null;
            ControlledRun.OutsideParkObserver = null;
            ControlledRun.WakeAfterReleaseObserver = null;
            letGo.Set();
        }

        Assert.True(result.Passed, result.ToString());
        await Task.WhenAll(giver, keeper, lateWait, earlyWait).WaitAsync(s_guard);
        Assert.Equal(1, Volatile.Read(ref windows));
        Assert.Equal(0, Volatile.Read(ref ranOut));
        Assert.NotEqual(0, Volatile.Read(ref idleWaits));
    }
}
