using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Diagnostics;

public sealed class DeadlockDetectorTests
{
    [Fact]
    public void NothingWaiting_FindsNoCycle()
    {
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName.StartsWith("dd-", StringComparison.Ordinal)));
    }

    [Fact]
    public void RealDeadlock_IsReportedWithBothLocksAndThreads_ThenTimeoutsReleaseIt()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var first = new ExclusiveLock("dd-first", level: 1);
        var second = new ExclusiveLock("dd-second", level: 2);
        var bothHoldOne = new Barrier(2);
        int detected = 0;
        int timeoutsA = 0, timeoutsB = 0;

        // Each thread holds one lock and waits for the other in short timed waits until the test has seen the
        // cycle; then the waits run out and the threads let go. Bounded by attempts, not by a clock.
        void Run(ExclusiveLock mine, ExclusiveLock theirs, ref int timeouts, bool yieldAfterDetection)
        {
            using var held = mine.Acquire();
            bothHoldOne.SignalAndWait();
            for (int attempt = 0; attempt < 100_000; attempt++)
            {
                if (theirs.TryAcquire(TimeSpan.FromMilliseconds(100), out var got))
                {
                    got.Dispose();
                    return;
                }

                timeouts++;
                if (yieldAfterDetection && Volatile.Read(ref detected) == 1)
                {
                    return;
                }
            }
        }

        var a = Concurrently.Start("dd-thread-a", () => Run(first, second, ref timeoutsA, yieldAfterDetection: true));
        var b = Concurrently.Start("dd-thread-b", () => Run(second, first, ref timeoutsB, yieldAfterDetection: false));

        DeadlockCycle? cycle = null;
        Guard.SpinUntil(() =>
        {
            cycle = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == "dd-first"));
            return cycle is not null;
        });
        Volatile.Write(ref detected, 1);
        a.JoinGuarded();
        b.JoinGuarded();

        Assert.NotNull(cycle);
        Assert.Equal(2, cycle!.Edges.Count);
        Assert.Equal(new[] { "dd-first", "dd-second" }, cycle.Edges.Select(e => e.LockName).Order());
        Assert.Equal(new[] { "dd-thread-a", "dd-thread-b" }, cycle.Edges.Select(e => e.ThreadName).Order());
        Assert.All(cycle.Edges, e => Assert.NotEqual(e.ThreadId, e.OwnerThreadId));
        var waitsForSecond = cycle.Edges.Single(e => e.LockName == "dd-second");
        Assert.Equal(2, waitsForSecond.LockLevel);
        Assert.Equal(cycle.Edges.Single(e => e.LockName == "dd-first").ThreadId, waitsForSecond.OwnerThreadId);
        Assert.Contains("dd-thread-a", cycle.ToString());

        // Released by the timeouts: nothing is held, nobody waits, no cycle remains.
        Assert.True(timeoutsA > 0);
        Assert.False(first.IsHeld);
        Assert.False(second.IsHeld);
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName.StartsWith("dd-", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A cycle through a sync lock and an async lock: flow F holds the async lock and its code blocks its thread on the
    /// sync lock; the sync lock's holder, a thread, blocks on an acquisition of the async lock it began (sync over async).
    /// The thread's wait was registered on its flow's record and the flow's on the thread's, so neither edge led on, and
    /// FindCycles found nothing. Polled in a bounded loop; the timed waits end the deadlock once the test has looked.
    /// </summary>
    [Fact]
    public void AMixedCycle_AFlowBlockedOnASyncLock_WhoseHolderBlocksOnTheFlowsAsyncLock_IsReported_NamingBoth()
    {
        var asyncLock = new AsyncExclusiveLock("dd-mixed-async");
        var syncLock = new ExclusiveLock("dd-mixed-sync");
        using var flowHolds = new ManualResetEventSlim();
        using var threadHolds = new ManualResetEventSlim();
        int looked = 0;

        // The flow: takes the async lock (free, so no await yields and its code runs on this thread), then blocks its
        // thread on the sync lock.
        async Task Flow()
        {
            using (await asyncLock.AcquireAsync())
            {
                flowHolds.Set();
                threadHolds.Wait();
                for (int attempt = 0; attempt < 100_000 && Volatile.Read(ref looked) == 0; attempt++)
                {
                    if (syncLock.TryAcquire(TimeSpan.FromMilliseconds(100), out var got))
                    {
                        got.Dispose();
                        return;
                    }
                }
            }
        }

        var flow = Concurrently.Start("dd-mixed-flow-thread", () => Flow().GetAwaiter().GetResult());
        var thread = Concurrently.Start("dd-mixed-thread", () =>
        {
            using var held = syncLock.Acquire();
            threadHolds.Set();
            flowHolds.Wait();
            for (int attempt = 0; attempt < 100_000 && Volatile.Read(ref looked) == 0; attempt++)
            {
                // Sync over async: this thread blocks on the flow it begins here, which waits for the async lock.
                using var scope = asyncLock.TryAcquireAsync(TimeSpan.FromMilliseconds(100)).AsTask().GetAwaiter().GetResult();
                if (scope.IsAcquired)
                {
                    return;
                }
            }
        });

        DeadlockCycle? cycle = null;
        for (int poll = 0; poll < 20_000 && cycle is null; poll++)
        {
            cycle = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == "dd-mixed-sync"));
            if (cycle is null)
            {
                Thread.Sleep(1);
            }
        }

        Volatile.Write(ref looked, 1);
        flow.JoinGuarded();
        thread.JoinGuarded();

        Assert.NotNull(cycle);
        Assert.Equal(2, cycle!.Edges.Count);
        var onSync = cycle.Edges.Single(e => e.LockName == "dd-mixed-sync");
        var onAsync = cycle.Edges.Single(e => e.LockName == "dd-mixed-async");

        // The flow waits for the sync lock through its blocked thread; the thread for the async lock through its flow.
        Assert.True(onSync.IsFlow, cycle.ToString());
        Assert.Equal(onAsync.OwnerThreadId, onSync.ThreadId);
        Assert.Equal(onSync.OwnerThreadId, onAsync.ThreadId);
        Assert.False(onAsync.IsFlow, cycle.ToString());
        Assert.Equal("dd-mixed-thread", onAsync.ThreadName);
        Assert.NotNull(onSync.WaitsThrough);
        Assert.NotNull(onAsync.WaitsThrough);
        string text = cycle.ToString();
        Assert.Contains("waits for 'dd-mixed-sync', held by thread", text, StringComparison.Ordinal);
        Assert.Contains("(on thread ", text, StringComparison.Ordinal);
        Assert.Contains("thread " + onAsync.ThreadId + " ('dd-mixed-thread') (blocked on the async wait of flow #", text, StringComparison.Ordinal);
        Assert.Contains("'dd-mixed-flow-thread'", text, StringComparison.Ordinal);
    }

    [Fact]
    public void WaitChainWithoutCycle_IsNotReported()
    {
        var gate = new ExclusiveLock("dd-chain");
        using var holder = new HeldOnOtherThread("dd-holder", release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);
        using var cts = new CancellationTokenSource();
        var waiter = Concurrently.Start("dd-waiter", () =>
        {
            Assert.Throws<OperationCanceledException>(() => gate.Acquire(Timeout.InfiniteTimeSpan, cts.Token));
        });
        Blocked.OnLock(gate);

        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName == "dd-chain"));
        cts.Cancel();
        waiter.JoinGuarded();
    }

    [Fact]
    public async Task AnAsyncWait_IsListedWithItsOwnMode_AfterTheSameFlowWaitedForAnotherMode()
    {
        var readWrite = new AsyncReadWriteLock("dd-mode-rw");
        var exclusive = new AsyncExclusiveLock("dd-mode-ex");
        var keep = new AsyncExclusiveLock("dd-mode-keep");

        // Holders in flows of their own, taken before this flow holds anything (a task started in a hold shares it).
        var writeHold = await Task.Run(async () => await readWrite.AcquireWriteAsync());
        var exclusiveHold = await Task.Run(async () => await exclusive.AcquireAsync());

        // Held throughout, so both waits below are the same flow record's.
        using var kept = await keep.AcquireAsync();
        var read = readWrite.AcquireReadAsync(Guard.HangLimit);
        Guard.SpinUntil(() => readWrite.WaitingCount == 1);
        Assert.Equal(LockMode.Read, DeadlockDetector.CurrentWaits().Single(w => w.LockName == "dd-mode-rw").Mode);
        writeHold.Dispose();
        (await read).Dispose();

        var wait = exclusive.AcquireAsync(Guard.HangLimit);
        Guard.SpinUntil(() => exclusive.WaitingCount == 1);
        var listed = DeadlockDetector.CurrentWaits().Single(w => w.LockName == "dd-mode-ex");
        exclusiveHold.Dispose();
        (await wait).Dispose();

        Assert.Equal(LockMode.Exclusive, listed.Mode);
    }

    [Fact]
    public async Task CurrentWaits_NameTheHolderEachWaitIsBehind_AThreadWithItsName_AFlowByItsId()
    {
        // Before, a wait was listed without its holder: a stuck shutdown's log could not say who kept the lock.
        // Ordered, so the holder keeps an owner record, where its name is read (an unordered hold may leave none: "thread 16").
        var ledger = new ExclusiveLock("dd-holder-sync", 10);
        var outbox = new AsyncExclusiveLock("dd-holder-async");
        int holderId = 0;
        using var holding = HeldOnOtherThread.Hold("dd-holder", release =>
        {
            holderId = Environment.CurrentManagedThreadId;
            using var scope = ledger.Acquire();
            release.Wait();
        });
        var flowHold = await Task.Run(async () => await outbox.AcquireAsync());
        Task asyncWaiter;
        using (ExecutionContext.SuppressFlow())
        {
            asyncWaiter = Task.Run(async () =>
            {
                using var scope = await outbox.AcquireAsync(Guard.HangLimit);
            });
        }

        var syncWaiter = Concurrently.Start("dd-holder-waiter", () =>
        {
            using var scope = ledger.Acquire(Guard.HangLimit);
        });
        Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Count(w => w.LockName.StartsWith("dd-holder-", StringComparison.Ordinal)) == 2);
        var waits = DeadlockDetector.CurrentWaits();
        var onLedger = waits.Single(w => w.LockName == ledger.Name);
        var onOutbox = waits.Single(w => w.LockName == outbox.Name);
        int flowId = outbox.HolderFlowId;

        holding.Dispose();
        syncWaiter.JoinGuarded();
        flowHold.Dispose();
        await asyncWaiter;

        Assert.Equal(holderId, onLedger.HolderId);
        Assert.Equal($"thread {holderId} ('dd-holder')", onLedger.Holder);
        Assert.Equal(ledger.Id, onLedger.LockId);
        Assert.Equal(outbox.Id, onOutbox.LockId);
        Assert.Equal(flowId, onOutbox.HolderId);
        Assert.Equal($"flow #{flowId - (1 << 30)}", onOutbox.Holder);
    }

    [Fact]
    public async Task AFlowWaitingForSemaphorePermits_IsListedByCurrentWaits_AndIsOnNoCycle()
    {
        // Before, only flows queued on async exclusive and read-write locks were read: a flow stuck waiting for permits
        // was missing from CurrentWaits (and so from the health check's waits blocked past the threshold).
        var permits = new CountingSemaphore(0, 2, "listed-permits");
        Task<int> waiter;
        using (ExecutionContext.SuppressFlow())
        {
            waiter = Task.Run(async () =>
            {
                // A finite timeout, so the wait reads the clock and stamps its start.
                using var scope = await permits.AcquireAsync(2, Guard.HangLimit);
                return permits.CurrentCount;
            });
        }

        Guard.SpinUntil(() => permits.QueuedAsyncWaiterCount == 1);

        var wait = Assert.Single(DeadlockDetector.CurrentWaits(), w => w.LockName == permits.Name);
        Assert.True(wait.IsFlow);
        Assert.Equal(LockMode.Permit, wait.Mode);
        Assert.Equal(0, wait.HolderId);
        Assert.Null(wait.Holder);
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName == permits.Name));

        permits.Release(2);
        Assert.Equal(0, await waiter);
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName == permits.Name);
    }

    [Fact]
    public async Task AnUntimedAsyncWaitNobodyClocked_IsListedFromItsFirstSighting_AndCountedFromThere()
    {
        // Before, a wait that read no clock (no timeout, no long-wait handler, no wait metric) was left out of
        // CurrentWaits: a stuck async waiter was invisible to the health check and to the sample's /locks page.
        using var policy = PolicyScope.DefaultTimeout(Timeout.InfiniteTimeSpan);
        LocksmithPolicy.LongWaitOccurred = null;
        var gate = new AsyncExclusiveLock("dd-unclocked");
        var held = await Task.Run(async () => await gate.AcquireAsync());
        Task waiter;
        using (ExecutionContext.SuppressFlow())
        {
            waiter = Task.Run(async () =>
            {
                using var scope = await gate.AcquireAsync();
            });
        }

        Guard.SpinUntil(() => gate.WaitingCount == 1);
        var waitingFlow = gate.FirstWaiterForTests!.Owner;
        Assert.Equal(0, Volatile.Read(ref waitingFlow.WaitingSince));

        var first = Assert.Single(DeadlockDetector.CurrentWaits(), w => w.LockName == gate.Name);
        Assert.True(first.IsFlow);
        Assert.Equal(LockMode.Exclusive, first.Mode);
        long stamped = Volatile.Read(ref waitingFlow.WaitingSince);
        Assert.NotEqual(0, stamped);

        // Once the clock has moved past the stamp, a later read still lists the wait and keeps the first sighting's
        // stamp (a read that stamped again would have moved it).
        Guard.SpinUntil(() => System.Diagnostics.Stopwatch.GetTimestamp() > stamped);
        Assert.Single(DeadlockDetector.CurrentWaits(), w => w.LockName == gate.Name);
        Assert.Equal(stamped, Volatile.Read(ref waitingFlow.WaitingSince));

        held.Dispose();
        await waiter;
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName == gate.Name);
    }
}
