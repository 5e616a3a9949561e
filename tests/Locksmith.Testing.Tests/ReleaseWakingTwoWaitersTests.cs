using System;
using System.Threading;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A release that wakes two waiters outside the run: 'slots' starts with none of 2 free; keepers 'keeper-a' and
/// 'keeper-b' (threads outside the run) park for one permit each; 'signaller' gives two back (a signal). The two keepers
/// can take both permits before the signaller's own note of what it freed, and each keeper's note, read after the other
/// took, sees one free: the pool read 1, though 2 were free at once. Test hooks hold the notes in that order. Then
/// keeper-a gives its permit back, the worker takes it and asks for another, which keeper-b holds and gives back once the
/// run waits: no deadlock. Before, the worker's permit used up the whole pool as the run read it, keeper-b counted as
/// holding none, and the run reported a Deadlock at once ("'slots' has 0 of 2 permits free: worker holds 1").
/// </summary>
public sealed class ReleaseWakingTwoWaitersTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Fact]
    public void APermitAKeeperTookFromASignalThatWokeTwo_IsWaitedFor_NotADeadlock()
    {
        CountingSemaphore? slotsSeen = null;
        Thread? signallerThread = null;
        int parkedCount = 0, booked = 0, firstNote = 0;
        using var bothParked = new ManualResetEventSlim();
        using var bothBooked = new ManualResetEventSlim();
        using var firstBooked = new ManualResetEventSlim();
        using var letGoA = new ManualResetEventSlim();
        Thread? keeperA = null, keeperB = null, signaller = null;

        ControlledRun.OutsideParkObserver = resource =>
        {
            if (ReferenceEquals(resource, slotsSeen) && Interlocked.Increment(ref parkedCount) == 2)
            {
                bothParked.Set();
            }
        };
        ControlledRun.OutsidePermitsTakenObserver = (_, semaphore) =>
        {
            if (ReferenceEquals(semaphore, slotsSeen) && !ReferenceEquals(Thread.CurrentThread, Volatile.Read(ref signallerThread)))
            {
                firstBooked.Set();
                if (Interlocked.Increment(ref booked) == 2)
                {
                    bothBooked.Set();
                }
            }
        };

        // The order of the notes: the first keeper to note waits until the other booked its take (so both took before
        // either note; the first has booked nothing yet, so any booking is the other's), and the signaller notes only
        // after both booked.
        ControlledRun.PoolNoteObserver = semaphore =>
        {
            if (!ReferenceEquals(semaphore, slotsSeen) || Volatile.Read(ref booked) >= 2 && !ReferenceEquals(Thread.CurrentThread, Volatile.Read(ref signallerThread)))
            {
                return;
            }

            if (ReferenceEquals(Thread.CurrentThread, Volatile.Read(ref signallerThread)))
            {
                Assert.True(bothBooked.Wait(s_guard), "the keepers did not take the permits");
            }
            else if (Interlocked.Exchange(ref firstNote, 1) == 0)
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
                    var slots = new CountingSemaphore(0, 2, "slots");
                    slotsSeen = slots;
                    scenario.Thread("worker", () =>
                    {
                        using (ExecutionContext.SuppressFlow())
                        {
                            keeperA = Keeper("keeper-a", slots, letGoA);
                            keeperB = Keeper("keeper-b", slots, idle.LetGo);
                            Assert.True(bothParked.Wait(s_guard), "the keepers did not park");
                            signaller = new Thread(() => slots.Release(2)) { IsBackground = true, Name = "signaller" };
                            Volatile.Write(ref signallerThread, signaller);
                            signaller.Start();
                        }

                        Assert.True(signaller.Join(s_guard), "the signaller did not end");
                        letGoA.Set();
                        Assert.True(keeperA.Join(s_guard), "keeper-a did not end");
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
            letGoA.Set();
            ControlledRun.OutsideParkObserver = null;
            ControlledRun.OutsidePermitsTakenObserver = null;
            ControlledRun.PoolNoteObserver = null;
        }

        Assert.True(keeperB?.Join(s_guard) ?? true, "keeper-b did not end");
        Assert.True(result.Passed, result.ToString());
        idle.AssertWaitedWithoutRunningOut();
    }

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
}
