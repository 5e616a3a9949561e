using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A flow that makes and drops many short-lived locks in one run (a loop over requests, each with its own lock and
/// semaphore) must not leave the run holding an entry for each: its books of names, permits and releases outside the run
/// keep only what something can still refer to. Counted after a full collection, at the end of the flow, so the bound
/// does not depend on time.
/// </summary>
public sealed class RunEntryLifetimeTests
{
    private const int Rounds = 200;

    // What may be left does not grow with the rounds: the last rounds' locks, and the waits and records of the pool threads
    // that ran the code outside the run (a few each). Before, every round left 4 to 6 entries (800 or more in 200 rounds).
    private const int Bound = 64;

    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Fact]
    public void LocksAFlowMakesAndDrops_AreNotKeptByTheRun()
    {
        int keptEarly = -1, keptLate = -1;
        var result = ControlledTest.Run(
            scenario => scenario.Thread("churn", () =>
            {
                for (int round = 0; round < Rounds; round++)
                {
                    Round();
                    if (round == 9)
                    {
                        keptEarly = KeptNow();
                    }
                }

                keptLate = KeptNow();
            }),
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 1, MaxSteps = 100_000, IdleTimeout = TimeSpan.FromMinutes(2) });

        Assert.True(result.Passed, result.ToString());
        Assert.InRange(keptEarly, 0, Bound);
        Assert.InRange(keptLate, 0, Bound);
    }

    /// <summary>
    /// Code outside the run waits on a short-lived semaphore the flow holds, in every round: a thread parks on it, and a
    /// task queues on it. Each such wait ends when the flow gives the permit back, and what the run kept of it must go.
    /// </summary>
    [Fact]
    public void WaitsOutsideTheRunOnLocksAFlowMakesAndDrops_AreNotKeptByTheRun()
    {
        int keptEarly = -1, keptLate = -1;
        using var parked = new SemaphoreSlim(0);
        ControlledRun.OutsideParkObserver = _ => parked.Release();
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario => scenario.Flow("churn", async () =>
                {
                    for (int round = 0; round < Rounds; round++)
                    {
                        await WaitedForRound(parked);
                        if (round == 9)
                        {
                            keptEarly = KeptNow();
                        }
                    }

                    keptLate = KeptNow();
                }),
                new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 1, MaxSteps = 100_000, IdleTimeout = TimeSpan.FromMinutes(2) });
        }
        finally
        {
            ControlledRun.OutsideParkObserver = null;
        }

        Assert.True(result.Passed, result.ToString());
        Assert.InRange(keptEarly, 0, Bound);
        Assert.InRange(keptLate, 0, Bound);
    }

    /// <summary>
    /// A semaphore used as a signal in every round: code outside the run gives a permit it never took, and the flow takes
    /// it and never gives it back (a done-signal). Their books never come back to zero (the flow's counts one held, the
    /// outside code's one given back), yet nothing can wait on the semaphore once it is dropped.
    /// </summary>
    [Fact]
    public void SemaphoresUsedAsSignalsAndDropped_AreNotKeptByTheRun()
    {
        int keptEarly = -1, keptLate = -1;
        var result = ControlledTest.Run(
            scenario => scenario.Thread("signalled", () =>
            {
                for (int round = 0; round < Rounds; round++)
                {
                    SignalRound();
                    if (round == 9)
                    {
                        keptEarly = KeptNow();
                    }
                }

                keptLate = KeptNow();
            }),
            new ControlledTestOptions { Strategy = SchedulingStrategy.Random, Iterations = 1, MaxSteps = 100_000, IdleTimeout = TimeSpan.FromMinutes(2) });

        Assert.True(result.Passed, result.ToString());
        Assert.InRange(keptEarly, 0, Bound);
        Assert.InRange(keptLate, 0, Bound);
    }

    /// <summary>One signal: a task outside the run releases a new semaphore's only permit, and the flow takes it for good.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SignalRound()
    {
        var done = new CountingSemaphore(0, 1);
        Assert.True(Task.Run(() => done.Release()).Wait(s_guard), "the task outside the run did not end");
        _ = done.Acquire();
    }

    /// <summary>
    /// One round: the flow holds the one permit of a new semaphore while a thread outside the run parks for it and a task
    /// outside the run (an async flow of its own) queues for it, then gives it back and waits for both to end.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task WaitedForRound(SemaphoreSlim parked)
    {
        var slots = new CountingSemaphore(1, 1);
        Task thread, task;
        using (await slots.AcquireAsync())
        {
            using var queued = new ManualResetEventSlim();
            using (ExecutionContext.SuppressFlow())
            {
                thread = Task.Run(() => slots.Acquire().Dispose());
                Assert.True(parked.Wait(s_guard), "the thread outside the run did not park");
                task = Task.Run(async () =>
                {
                    var wait = slots.AcquireAsync();
                    queued.Set();
                    (await wait).Dispose();
                });
            }

            Assert.True(queued.Wait(s_guard), "the task outside the run did not queue");
        }

        Assert.True(Task.WhenAll(thread, task).Wait(s_guard), "the code outside the run did not end");
    }

    /// <summary>
    /// One request: the flow takes and gives back a lock and a permit, and code outside the run (a task the flow waits
    /// for) does the same with no flow waiting, so its release is noted for a flow that might enlist. Nothing of it is
    /// reachable once this returns.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Round()
    {
        var journal = new ExclusiveLock();
        var slots = new CountingSemaphore(2, 2);
        using (journal.Acquire())
        {
        }

        slots.Acquire().Dispose();
        var outside = Task.Run(() =>
        {
            using (journal.Acquire())
            {
            }

            slots.Acquire().Dispose();
        });
        Assert.True(outside.Wait(s_guard), "the task outside the run did not end");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int KeptNow()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ControlledRun.CurrentForTests!.KeptEntriesForTests;
    }
}
