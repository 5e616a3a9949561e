using System;
using System.Threading;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Two releases at the same instant: 'slots' starts with none of 3 free; keepers 'keeper-a' and 'keeper-b' (threads
/// outside the run) park for one permit each; 'sig-1' and 'sig-2' each give one back (signals), both adding theirs before
/// either wakes a keeper, so 2 are free at once. The keepers take both before any note of what was free, and every note,
/// read after both took, sees none free beyond the noter's own: each release's note read 1, so the pool read 1. Test hooks
/// hold each moment in that order. Then the worker gives one (a signal of its own), takes it and asks for another, which a
/// keeper holds and gives back once the run waits: no deadlock. Before, the worker's permit used up the whole pool as the
/// run read it, the keepers counted as holding none, and the run reported a Deadlock at once ("'slots' has 0 of 3
/// permits free: worker holds 1"). A release now notes the count its own compare-and-swap wrote: sig-2's wrote 2.
/// </summary>
public sealed class ReleasesAtTheSameInstantTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Fact]
    public void PermitsKeepersTookFromTwoSignalsAtOnce_AreWaitedFor_NotADeadlock()
    {
        CountingSemaphore? slotsSeen = null;
        int parkedCount = 0, released = 0, booked = 0, firstNote = 0;
        using var bothParked = new ManualResetEventSlim();
        using var bothReleased = new ManualResetEventSlim();
        using var bothBooked = new ManualResetEventSlim();
        using var firstBooked = new ManualResetEventSlim();
        Thread? keeperA = null, keeperB = null;

        ControlledRun.OutsideParkObserver = resource =>
        {
            if (ReferenceEquals(resource, slotsSeen) && Interlocked.Increment(ref parkedCount) == 2)
            {
                bothParked.Set();
            }
        };

        // Both releases add their permits before either wakes a keeper: the first waits here, after its compare-and-swap,
        // for the second to get here after its own.
        ControlledRun.WakeAfterReleaseObserver = semaphore =>
        {
            if (!ReferenceEquals(semaphore, slotsSeen) || !IsSignaller())
            {
                return;
            }

            if (Interlocked.Increment(ref released) == 1)
            {
                Assert.True(bothReleased.Wait(s_guard), "the other signaller did not release");
            }
            else
            {
                bothReleased.Set();
            }
        };
        ControlledRun.OutsidePermitsTakenObserver = (_, semaphore) =>
        {
            if (ReferenceEquals(semaphore, slotsSeen) && IsKeeper())
            {
                firstBooked.Set();
                if (Interlocked.Increment(ref booked) == 2)
                {
                    bothBooked.Set();
                }
            }
        };

        // The order of the notes: the first keeper to note waits until the other booked its take (so both took before
        // either note), and the signallers note only after both booked.
        ControlledRun.PoolNoteObserver = semaphore =>
        {
            if (!ReferenceEquals(semaphore, slotsSeen))
            {
                return;
            }

            if (IsSignaller())
            {
                Assert.True(bothBooked.Wait(s_guard), "the keepers did not take the permits");
            }
            else if (IsKeeper() && Volatile.Read(ref booked) < 2 && Interlocked.Exchange(ref firstNote, 1) == 0)
            {
                Assert.True(firstBooked.Wait(s_guard), "the other keeper did not take its permit");
            }
        };

        var idle = new IdleObservation();
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var slots = new CountingSemaphore(0, 3, "slots");
                    slotsSeen = slots;
                    scenario.Thread("worker", () =>
                    {
                        Thread sig1, sig2;
                        using (ExecutionContext.SuppressFlow())
                        {
                            keeperA = Keeper("keeper-a", slots, idle.LetGo);
                            keeperB = Keeper("keeper-b", slots, idle.LetGo);
                            Assert.True(bothParked.Wait(s_guard), "the keepers did not park");
                            sig1 = Signaller("sig-1", slots);
                            sig2 = Signaller("sig-2", slots);
                        }

                        Assert.True(sig1.Join(s_guard), "sig-1 did not end");
                        Assert.True(sig2.Join(s_guard), "sig-2 did not end");
                        Assert.Equal(0, slots.CurrentCount);
                        slots.Release();
                        using (slots.Acquire())
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
            ControlledRun.OutsideParkObserver = null;
            ControlledRun.WakeAfterReleaseObserver = null;
            ControlledRun.OutsidePermitsTakenObserver = null;
            ControlledRun.PoolNoteObserver = null;
        }

        Assert.True(keeperA?.Join(s_guard) ?? true, "keeper-a did not end");
        Assert.True(keeperB?.Join(s_guard) ?? true, "keeper-b did not end");
        Assert.Equal(2, Volatile.Read(ref released));
        Assert.True(result.Passed, result.ToString());
        idle.AssertWaitedWithoutRunningOut();
    }

    private static bool IsSignaller() => Thread.CurrentThread.Name is "sig-1" or "sig-2";

    private static bool IsKeeper() => Thread.CurrentThread.Name is "keeper-a" or "keeper-b";

    private static Thread Keeper(string name, CountingSemaphore slots, ManualResetEventSlim letGo)
    {
        var thread = new Thread(() =>
        {
            using (slots.Acquire())
            {
                letGo.Wait(s_guard);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return thread;
    }

    private static Thread Signaller(string name, CountingSemaphore slots)
    {
        var thread = new Thread(() => slots.Release()) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}
