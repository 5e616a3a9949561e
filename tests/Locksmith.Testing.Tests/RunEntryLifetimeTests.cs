using System;
using System.Runtime.CompilerServices;
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

    // What may be left: the few locks the last round's frames may still reach, and anything the run keeps for good.
    private const int Bound = 16;

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
