using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// The thread → flow edge of a mixed cycle is read off state a thread leaves behind (the thread an async wait began
/// on, and that the thread is blocked now): these tests build states where that reading names a wait the thread is not
/// blocked on, and check no cycle is reported through it.
/// </summary>
public sealed class MixedCycleStaleEdgeTests
{
    /// <summary>
    /// A thread holding a sync lock begins one flow's wait for async lock 'first' and leaves it (fire and forget), then
    /// blocks (sync over async) on a second flow's wait for 'second', whose holder waits for nothing Locksmith sees. The
    /// holder of 'first' is a flow whose code blocks on the sync lock. Both queued waits name the thread as the one they
    /// began on; the detector took the first it met as the thread's wait and reported sync → thread → 'first' → flow as
    /// a deadlock, though the thread waits for 'second' and all ends once its holder lets go (no wait times out below).
    /// </summary>
    [Fact]
    public async Task AThreadThatLeftOneFlowsWait_AndBlocksOnAnothers_IsNotReportedInACycleThroughTheOneItLeft()
    {
        var first = new AsyncExclusiveLock("mx-stale-first");
        var second = new AsyncExclusiveLock("mx-stale-second");
        var syncLock = new ExclusiveLock("mx-stale-sync");
        using var threadHolds = new ManualResetEventSlim();
        using var firstHeld = new ManualResetEventSlim();
        using var secondHeld = new ManualResetEventSlim();
        using var releaseSecond = new ManualResetEventSlim();
        Task? left = null;

        // Holds 'first'; its code blocks its thread on the sync lock the thread holds.
        async Task HoldFirstThenBlockOnSync()
        {
            using (await first.AcquireAsync(Guard.HangLimit))
            {
                firstHeld.Set();
                Assert.True(threadHolds.Wait(Guard.HangLimit));
                using var sync = syncLock.Acquire(Guard.HangLimit);
            }
        }

        // Holds 'second' and blocks outside Locksmith until the test lets it go.
        async Task HoldSecondUntilReleased()
        {
            using (await second.AcquireAsync(Guard.HangLimit))
            {
                secondHeld.Set();
                Assert.True(releaseSecond.Wait(Guard.HangLimit));
            }
        }

        var firstHolder = Concurrently.Start("mx-stale-first-holder", () => HoldFirstThenBlockOnSync().GetAwaiter().GetResult());
        var secondHolder = Concurrently.Start("mx-stale-second-holder", () => HoldSecondUntilReleased().GetAwaiter().GetResult());
        var thread = Concurrently.Start("mx-stale-thread", () =>
        {
            Assert.True(firstHeld.Wait(Guard.HangLimit));
            Assert.True(secondHeld.Wait(Guard.HangLimit));
            using var held = syncLock.Acquire();
            threadHolds.Set();

            // Each call is its own flow (its async method's claim does not reach back here); both waits begin on this thread.
            left = TakeAndRelease(first);
            // Blocks on a wait handle at once (Task.Wait spins and sleeps first, so the thread's state flickers).
            Assert.True(((IAsyncResult)TakeAndRelease(second)).AsyncWaitHandle.WaitOne(Guard.HangLimit));
        });

        // Every wait queued or parked, and the thread blocked on the second flow's wait.
        Guard.SpinUntil(() =>
        {
            var names = DeadlockDetector.CurrentWaits().Select(w => w.LockName).ToHashSet();
            return names.Contains("mx-stale-sync") && names.Contains("mx-stale-first") && names.Contains("mx-stale-second") && thread.IsBlocked;
        });

        // Reads made while the thread was blocked before and after them; any report is false, a transient one too.
        var reported = new List<DeadlockCycle>();
        int blockedReads = 0;
        for (int read = 0; read < 10_000 && blockedReads < 20; read++)
        {
            bool before = thread.IsBlocked;
            reported.AddRange(DeadlockDetector.FindCycles().Where(c => c.Edges.Any(e => e.LockName.StartsWith("mx-stale-", StringComparison.Ordinal))));
            blockedReads += before && thread.IsBlocked ? 1 : 0;
        }

        // Not a deadlock: once 'second' is let go, every wait is granted and every thread ends.
        releaseSecond.Set();
        secondHolder.JoinGuarded();
        thread.JoinGuarded();
        firstHolder.JoinGuarded();
        await left!.WaitAsync(Guard.HangLimit);

        Assert.Equal(20, blockedReads);
        Assert.True(reported.Count == 0, string.Join(Environment.NewLine, reported));
    }

    /// <summary>
    /// Two queued waits begun on a thread that is not blocked (it has ended): the detector, which sets such a thread
    /// aside, finds nothing and does not fail on it (it threw NullReferenceException with no other stand-in about).
    /// </summary>
    [Fact]
    public async Task TwoQueuedWaitsBegunOnAThreadThatIsNotBlocked_AreOnNoCycle_AndTheDetectorReadsThem()
    {
        var first = new AsyncExclusiveLock("mx-idle-first");
        var second = new AsyncExclusiveLock("mx-idle-second");
        Task? leftFirst = null;
        Task? leftSecond = null;
        using (await first.AcquireAsync(Guard.HangLimit))
        using (await second.AcquireAsync(Guard.HangLimit))
        {
            // Without this flow's context: its claim on both locks would make the thread's waits this flow's own.
            Worker thread;
            using (ExecutionContext.SuppressFlow())
            {
                thread = Concurrently.Start("mx-idle-thread", () =>
                {
                    leftFirst = TakeAndRelease(first);
                    leftSecond = TakeAndRelease(second);
                });
            }

            thread.JoinGuarded();
            Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Count(w => w.LockName.StartsWith("mx-idle-", StringComparison.Ordinal)) == 2);

            Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName.StartsWith("mx-idle-", StringComparison.Ordinal)));
        }

        await leftFirst!.WaitAsync(Guard.HangLimit);
        await leftSecond!.WaitAsync(Guard.HangLimit);
    }

    private static async Task TakeAndRelease(AsyncExclusiveLock asyncLock)
    {
        using (await asyncLock.AcquireAsync(Guard.HangLimit))
        {
        }
    }
}
