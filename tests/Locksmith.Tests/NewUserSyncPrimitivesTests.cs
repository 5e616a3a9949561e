using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests;

/// <summary>
/// A new user's scenarios for the sync primitives of a service (caches, counters, rate limiters, connection pools,
/// ledgers), written from README's "The runtime" section only. Each ends by checking holders, counts and queues exactly.
/// Policy changes go through <see cref="PolicyScope"/>; the project runs its tests one at a time (xunit.runner.json).
/// </summary>
public sealed class NewUserSyncPrimitivesTests
{
    private static readonly TimeSpan s_short = TimeSpan.FromMilliseconds(20);

    private static string Me => ThreadName(Environment.CurrentManagedThreadId, Thread.CurrentThread.Name);

    private static string ThreadName(int id, string? name) => string.IsNullOrEmpty(name) ? $"{id}" : $"{id} ('{name}')";

    private static int WaitsOn(string lockName) => DeadlockDetector.CurrentWaits().Count(w => w.LockName == lockName);

    private static void WaitUntilWaiting(string lockName, int count = 1) =>
        Guard.SpinUntil(() => WaitsOn(lockName) == count, $"{count} wait(s) on '{lockName}'");

    // A wait registers with the detector before it queues; a registered thread that is also blocked has queued and parked.
    private static void WaitUntilParked(Worker worker, string lockName, int count = 1) =>
        Guard.SpinUntil(() => WaitsOn(lockName) == count && worker.IsBlocked, $"'{worker.Name}' parked on '{lockName}'");

    private static void AssertFree(ExclusiveLock gate)
    {
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.OwnerThreadId);
        Assert.Equal(0, WaitsOn(gate.Name));
    }

    private static void AssertFree(ReadWriteLock rw)
    {
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.Equal(0, rw.WriterThreadId);
        Assert.Equal(0, WaitsOn(rw.Name));
    }

    [Fact]
    public void ExclusiveLock_ReentryAndForeignRelease_ThrowNamedExceptions_AndLeaveTheOneHoldIntact()
    {
        var cache = new ExclusiveLock("cache");
        using (var scope = cache.Acquire())
        {
            var reentry = Assert.Throws<LockRecursionException>(() => { using var again = cache.Acquire(); });
            Assert.Contains("'cache'", reentry.Message);
            Assert.Contains($"Thread {Me} tried to acquire", reentry.Message);
            Assert.True(cache.IsHeldByCurrentThread);

            var me = Environment.CurrentManagedThreadId;
            SynchronizationLockException? foreign = null;
            var intruder = Worker.Start("intruder", () => foreign = Assert.Throws<SynchronizationLockException>(cache.Release));
            intruder.JoinGuarded();
            Assert.Contains($"(it is held by thread {Me})", foreign!.Message);
            Assert.Contains("'cache'", foreign.Message);
            Assert.Equal(me, cache.OwnerThreadId);

            // README: disposing a scope twice is harmless.
            scope.Dispose();
            scope.Dispose();
            Assert.False(cache.IsHeld);
        }

        var free = Assert.Throws<SynchronizationLockException>(cache.Release);
        Assert.Contains("(the lock is not held)", free.Message);
        AssertFree(cache);
    }

    [Fact]
    public void ExclusiveLock_TimeoutNamesTheHolder_InTheExceptionAndTheEventAlike()
    {
        using var policy = PolicyScope.Capture();
        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = events.Enqueue;
        var stock = new ExclusiveLock("stock", level: 2);
        using (var holder = HeldOnOtherThread.Hold("stock-writer", r => { using var s = stock.Acquire(); r.Wait(); }))
        {
            var timeout = Assert.Throws<LockTimeoutException>(() => { using var s = stock.Acquire(s_short); });
            Assert.Equal("stock", timeout.LockName);
            Assert.Equal(holder.ThreadId, timeout.OwnerThreadId);
            Assert.Equal("stock-writer", timeout.OwnerThreadName);
            Assert.IsAssignableFrom<TimeoutException>(timeout);
            Assert.EndsWith($"held by thread {holder.ThreadId} ('stock-writer').", timeout.Message);
            Assert.StartsWith($"Thread {Me} timed out after", timeout.Message);

            var evt = Assert.Single(events);
            Assert.Equal("stock", evt.LockName);
            Assert.Equal(holder.ThreadId, evt.OwnerThreadId);
            Assert.Equal("stock-writer", evt.OwnerThreadName);
            Assert.Equal(timeout.Waited, evt.Waited);

            // TryAcquire with zero tries once, raises no timeout event and returns an empty scope.
            Assert.False(stock.TryAcquire(TimeSpan.Zero, out var none));
            Assert.False(none.IsAcquired);
            none.Dispose();
            Assert.False(stock.TryAcquire(out var none2));
            Assert.False(none2.IsAcquired);
            Assert.Single(events);
            Assert.Equal(holder.ThreadId, stock.OwnerThreadId);
            Assert.Equal(0, WaitsOn("stock"));
        }

        AssertFree(stock);
    }

    [Fact]
    public void DefaultTimeout_BoundsThePlainAcquire_OfEveryKind()
    {
        using var policy = PolicyScope.DefaultTimeout(s_short);
        var gate = new ExclusiveLock("default-timeout-gate");
        var pool = new CountingSemaphore(1, 1, "default-timeout-pool");
        var rw = new ReadWriteLock("default-timeout-rw");
        using (HeldOnOtherThread.Hold("default-holder", r =>
               {
                   using var a = gate.Acquire();
                   using var b = pool.Acquire();
                   using var c = rw.AcquireWrite();
                   r.Wait();
               }))
        {
            Assert.Equal("default-timeout-gate", Assert.Throws<LockTimeoutException>(() => { using var s = gate.Acquire(); }).LockName);
            Assert.Equal("default-timeout-pool", Assert.Throws<LockTimeoutException>(() => { using var s = pool.Acquire(); }).LockName);
            Assert.Equal("default-timeout-rw", Assert.Throws<LockTimeoutException>(() => { using var s = rw.AcquireRead(); }).LockName);
            Assert.Equal(0, pool.CurrentCount);
            Assert.Equal(0, pool.WaitingCount);
        }

        AssertFree(gate);
        AssertFree(rw);
        Assert.Equal(1, pool.CurrentCount);
    }

    [Fact]
    public void CancelledWait_ThrowsOperationCanceled_AndLeavesTheHolderAndQueueUnchanged()
    {
        var ledger = new ExclusiveLock("cancel-ledger", level: 4);
        using var cts = new CancellationTokenSource();
        using (var holder = HeldOnOtherThread.Hold("ledger-holder", r => { using var s = ledger.Acquire(); r.Wait(); }))
        {
            Exception? caught = null;
            var waiter = Worker.Start("ledger-waiter", () =>
            {
                try
                {
                    using var s = ledger.Acquire(Timeout.InfiniteTimeSpan, cts.Token);
                }
                catch (Exception e)
                {
                    caught = e;
                }
            });
            WaitUntilWaiting("cancel-ledger");
            cts.Cancel();
            waiter.JoinGuarded();
            Assert.IsAssignableFrom<OperationCanceledException>(caught);
            Assert.Equal(holder.ThreadId, ledger.OwnerThreadId);
            Assert.Equal(0, WaitsOn("cancel-ledger"));
        }

        AssertFree(ledger);
        using (var after = ledger.Acquire())
        {
            Assert.True(ledger.IsHeldByCurrentThread);
        }

        AssertFree(ledger);
    }

    [Fact]
    public void ReentrantLock_NestsForItsOwner_AndOthersSeeItHeldUntilTheLastRelease()
    {
        var counters = new ReentrantLock("counters");
        using (var outer = counters.Acquire())
        {
            using (var middle = counters.Acquire())
            {
                using var inner = counters.Acquire();
                Assert.Equal(3, counters.RecursionCount);
                int otherCount = -1;
                bool otherTook = true;
                var other = Worker.Start("counters-peer", () =>
                {
                    otherCount = counters.RecursionCount;
                    otherTook = counters.TryAcquire(TimeSpan.Zero, out var s);
                    s.Dispose();
                    Assert.Throws<SynchronizationLockException>(counters.Release);
                });
                other.JoinGuarded();
                Assert.Equal(0, otherCount);
                Assert.False(otherTook);
            }

            Assert.Equal(1, counters.RecursionCount);
            Assert.True(counters.IsHeldByCurrentThread);
        }

        Assert.Equal(0, counters.RecursionCount);
        Assert.False(counters.IsHeld);
        Assert.Equal(0, counters.OwnerThreadId);
    }

    [Fact]
    public void ReadWriteLock_HasNoReentryUpgradeOrDowngrade_AndCountsReadersExactly()
    {
        var catalog = new ReadWriteLock("catalog");
        using (var read = catalog.AcquireRead())
        {
            Assert.Throws<LockRecursionException>(() => { using var again = catalog.AcquireRead(); });
            var upgrade = Assert.Throws<LockRecursionException>(() => { using var w = catalog.AcquireWrite(); });
            Assert.Contains("while it holds the read lock", upgrade.Message);
            Assert.True(catalog.IsReadLockHeldByCurrentThread);
            Assert.Equal(1, catalog.CurrentReaderCount);
        }

        using (var write = catalog.AcquireWrite())
        {
            Assert.Throws<LockRecursionException>(() => { using var r = catalog.AcquireRead(); });
            Assert.Throws<LockRecursionException>(() => { using var w = catalog.AcquireWrite(); });
            Assert.Equal(Environment.CurrentManagedThreadId, catalog.WriterThreadId);
            Assert.Equal(0, catalog.CurrentReaderCount);
        }

        var readers = Enumerable.Range(0, 3)
            .Select(i => new HeldOnOtherThread($"reader-{i}", r => { using var s = catalog.AcquireRead(); r.Wait(); }))
            .ToList();
        foreach (var reader in readers)
        {
            reader.WaitUntilHeld();
        }

        Assert.Equal(3, catalog.CurrentReaderCount);
        Assert.False(catalog.TryAcquireWrite(TimeSpan.Zero, out var denied));
        Assert.False(denied.IsAcquired);
        foreach (var reader in readers)
        {
            reader.Release();
        }

        AssertFree(catalog);
    }

    [Theory]
    [InlineData(ReadWritePolicy.ReaderPreferred, true)]
    [InlineData(ReadWritePolicy.WriterPreferred, false)]
    [InlineData(ReadWritePolicy.Fair, false)]
    public void ReadWriteLock_Policies_DecideWhetherANewReaderPassesAQueuedWriter(ReadWritePolicy policy, bool readerPasses)
    {
        var name = $"policy-{policy}";
        var rw = new ReadWriteLock(name, policy: policy);
        Assert.Equal(policy, rw.Policy);
        var order = new ConcurrentQueue<string>();
        using var firstReader = HeldOnOtherThread.Hold("first-reader", r => { using var s = rw.AcquireRead(); r.Wait(); });
        var writer = Worker.Start("writer", () => { using var s = rw.AcquireWrite(); order.Enqueue("writer"); });
        WaitUntilParked(writer, name);

        var passed = rw.TryAcquireRead(TimeSpan.Zero, out var probe);
        Assert.Equal(readerPasses, passed);
        Assert.Equal(readerPasses ? 2 : 1, rw.CurrentReaderCount);
        probe.Dispose();
        Assert.Equal(1, rw.CurrentReaderCount);

        if (!readerPasses)
        {
            // A reader arriving after the writer waits behind it, and is served after it.
            var lateReader = Worker.Start("late-reader", () => { using var s = rw.AcquireRead(); order.Enqueue("late-reader"); });
            WaitUntilParked(lateReader, name, 2);
            firstReader.Release();
            writer.JoinGuarded();
            lateReader.JoinGuarded();
            Assert.Equal(["writer", "late-reader"], order.ToArray());
        }
        else
        {
            firstReader.Release();
            writer.JoinGuarded();
            Assert.Equal(["writer"], order.ToArray());
        }

        AssertFree(rw);
    }

    [Fact]
    public void SpinGate_IsAnOwnedNonReentrantLock_ThatKeepsACounterExact()
    {
        var gate = new SpinGate("hits-gate");
        long hits = 0;
        using (var held = gate.Acquire())
        {
            Assert.Throws<LockRecursionException>(() => { using var again = gate.Acquire(); });
            bool took = true;
            Worker.Start("gate-peer", () => { took = gate.TryAcquire(TimeSpan.Zero, out var s); s.Dispose(); }).JoinGuarded();
            Assert.False(took);
        }

        var workers = Enumerable.Range(0, 3).Select(i => Worker.Start($"spin-{i}", () =>
        {
            for (var n = 0; n < 2_000; n++)
            {
                using var s = gate.Acquire();
                hits++;
            }
        })).ToList();
        workers.ForEach(w => w.JoinGuarded());
        Assert.Equal(6_000, hits);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.OwnerThreadId);
    }

    [Fact]
    public void CountingSemaphore_ConnectionPool_TakesAndGivesBackSeveralPermits_FromAnyThread()
    {
        var pool = new CountingSemaphore(3, 3, "conn-pool");
        using (var two = pool.Acquire(2))
        {
            Assert.Equal(2, two.Count);
            Assert.Equal(1, pool.CurrentCount);
            Assert.False(pool.TryAcquire(2, TimeSpan.Zero, out var none));
            Assert.False(none.IsAcquired);
            Assert.Equal(1, pool.CurrentCount);

            var granted = 0;
            var waiter = Worker.Start("pool-waiter", () =>
            {
                using var s = pool.Acquire(3);
                Volatile.Write(ref granted, s.Count);
            });
            Guard.SpinUntil(() => pool.WaitingCount == 1);
            Assert.Equal(0, Volatile.Read(ref granted));
            two.Dispose();
            waiter.JoinGuarded();
            Assert.Equal(3, granted);
        }

        Assert.Equal(3, pool.CurrentCount);
        Assert.Equal(0, pool.WaitingCount);

        // No owner: a permit taken on one thread is given back by another.
        Worker.Start("borrower", () => pool.Acquire(TimeSpan.Zero)).JoinGuarded();
        Assert.Equal(2, pool.CurrentCount);
        pool.Release();
        Assert.Equal(3, pool.CurrentCount);
        Assert.Throws<SemaphoreFullException>(() => pool.Release());
        Assert.Equal(3, pool.CurrentCount);
        Assert.Equal(3, pool.MaxCount);
    }

    [Fact]
    public void CountingSemaphore_Timeout_SaysHowManyPermitsWereFree_AsREADMEQuotes()
    {
        var pool = new CountingSemaphore(8, 8, "db-pool");
        using var all = pool.Acquire(8);
        var timeout = Assert.Throws<LockTimeoutException>(() => { using var s = pool.Acquire(s_short); });
        Assert.Contains("waiting for 1 permit(s) of semaphore 'db-pool'; when it gave up, 0 of its maximum 8 were free.", timeout.Message);
        Assert.Equal(0, pool.CurrentCount);
        Assert.Equal(0, pool.WaitingCount);
    }

    [Fact]
    public void StripedLock_AcquireMany_TakesEachStripeOnce_AndAllOrNone()
    {
        var accounts = new StripedLock<int>(4, "accounts");
        Assert.Equal(4, accounts.StripeCount);
        var sameStripe = Enumerable.Range(1, 100).First(k => k != 1 && accounts.StripeOf(k) == accounts.StripeOf(1));
        var otherStripe = Enumerable.Range(1, 100).First(k => accounts.StripeOf(k) != accounts.StripeOf(1));
        using (var many = accounts.AcquireMany(1, sameStripe, otherStripe))
        {
            Assert.Equal(2, many.Count);
            Assert.True(accounts.IsHeldByCurrentThread(1));
            Assert.True(accounts.IsHeldByCurrentThread(sameStripe));
            Assert.True(accounts.IsHeldByCurrentThread(otherStripe));
            bool took = true;
            Worker.Start("accounts-peer", () => { took = accounts.TryAcquire(otherStripe, TimeSpan.Zero, out var s); s.Dispose(); }).JoinGuarded();
            Assert.False(took);
        }

        using (HeldOnOtherThread.Hold("stripe-holder", r => { using var s = accounts.Acquire(otherStripe); r.Wait(); }))
        {
            Assert.False(accounts.TryAcquireMany(s_short, out var none, 1, otherStripe));
            Assert.False(none.IsAcquired);
            Assert.False(accounts.IsHeldByCurrentThread(1));
            var timeout = Assert.Throws<LockTimeoutException>(() => { using var s = accounts.AcquireMany(s_short, 1, otherStripe); });
            Assert.EndsWith("held up striped lock 'accounts' taking several keys (2 stripe(s)), which takes all or none: none of them is held.", timeout.Message);
            Assert.False(accounts.IsHeldByCurrentThread(1));
        }

        Assert.False(accounts.IsHeldByCurrentThread(1));
        Assert.Equal(0, WaitsOn("accounts"));
        Assert.True(accounts.TryAcquireMany(TimeSpan.Zero, out var again, 1, otherStripe));
        again.Dispose();
    }

    [Fact]
    public void StripedReadWriteLock_AcquireManyWrite_IsAllOrNothing_AgainstAReader()
    {
        var cache = new StripedReadWriteLock<string>(8, "cache-stripes");
        var a = "a";
        var b = Enumerable.Range(0, 1000).Select(i => $"k{i}").First(k => cache.StripeOf(k) != cache.StripeOf(a));
        using (HeldOnOtherThread.Hold("cache-reader", r => { using var s = cache.AcquireRead(b); r.Wait(); }))
        {
            Assert.True(cache.TryAcquireRead(b, TimeSpan.Zero, out var shared));
            shared.Dispose();
            Assert.False(cache.TryAcquireManyWrite(s_short, out var none, a, b));
            Assert.False(none.IsAcquired);
            Assert.True(cache.TryAcquireWrite(a, TimeSpan.Zero, out var aFree));
            aFree.Dispose();
        }

        using (var both = cache.AcquireManyWrite(a, b))
        {
            Assert.Equal(2, both.Count);
            bool took = true;
            Worker.Start("cache-peer", () => { took = cache.TryAcquireRead(a, TimeSpan.Zero, out var s); s.Dispose(); }).JoinGuarded();
            Assert.False(took);
        }

        Assert.Equal(0, WaitsOn("cache-stripes"));
    }

    [Fact]
    public void LockSet_TakesLocksInTheGlobalOrder_WhateverTheArgumentOrder()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        ExclusiveLock orders = new("set-orders", level: 1), stock = new("set-stock", level: 2), audit = new("set-audit", level: 3);
        using (var set = LockSet.Acquire(audit, orders))
        {
            Assert.Equal(2, set.Count);
            Assert.True(orders.IsHeldByCurrentThread);
            Assert.True(audit.IsHeldByCurrentThread);
        }

        using (var set = LockSet.Acquire([audit, stock, orders]))
        {
            Assert.Equal(3, set.Count);
        }

        AssertFree(orders);
        AssertFree(stock);
        AssertFree(audit);
    }

    [Fact]
    public void LockSet_WithATimeout_IsAllOrNothing_AndItsTimeoutSaysSo()
    {
        ExclusiveLock orders = new("aon-orders", level: 1), ledger = new("ledger", level: 4);
        var pool = new CountingSemaphore(2, 2, "aon-pool", level: 2);
        using (var holder = HeldOnOtherThread.Hold("worker", r => { using var s = ledger.Acquire(); r.Wait(); }))
        {
            Assert.False(LockSet.TryAcquire(s_short, out var none, orders, pool, ledger));
            Assert.False(none.IsAcquired);
            Assert.False(orders.IsHeld);
            Assert.Equal(2, pool.CurrentCount);

            var timeout = Assert.Throws<LockTimeoutException>(() => { using var s = LockSet.Acquire(s_short, orders, pool, ledger); });
            Assert.EndsWith($"held by thread {holder.ThreadId} ('worker'). 'ledger' held up a LockSet of 3 lock(s), which takes all or none: none of them is held.", timeout.Message);
            Assert.Equal("ledger", timeout.LockName);
            Assert.False(orders.IsHeld);
            Assert.Equal(2, pool.CurrentCount);
            Assert.Equal(holder.ThreadId, ledger.OwnerThreadId);
        }

        using (var set = LockSet.Acquire(s_short, orders, pool, ledger))
        {
            Assert.Equal(3, set.Count);
            Assert.Equal(1, pool.CurrentCount);
        }

        AssertFree(orders);
        AssertFree(ledger);
        Assert.Equal(2, pool.CurrentCount);
    }

    [Fact]
    public void LockSet_DuplicatesAndHeldMembers_AreRejectedBeforeAnythingIsTaken()
    {
        ExclusiveLock a = new("dup-a", level: 1), b = new("dup-b", level: 2);
        var duplicate = Assert.Throws<ArgumentException>(() => { using var s = LockSet.Acquire([a, b, a]); });
        Assert.Equal("locks", duplicate.ParamName);
        Assert.Contains("'dup-a'", duplicate.Message);
        Assert.Contains("locks[0]", duplicate.Message);
        Assert.Contains("locks[2]", duplicate.Message);
        AssertFree(a);
        AssertFree(b);

        using (var held = a.Acquire())
        {
            var recursion = Assert.Throws<LockRecursionException>(() => { using var s = LockSet.Acquire(a, b); });
            Assert.Contains("'dup-a'", recursion.Message);
            Assert.Contains(Me, recursion.Message);
            Assert.False(b.IsHeld);
        }

        var reentrant = new ReentrantLock("dup-reentrant", level: 0);
        using (var outer = reentrant.Acquire())
        {
            using var set = LockSet.Acquire(b, reentrant);
            Assert.Equal(2, reentrant.RecursionCount);
            Assert.True(b.IsHeldByCurrentThread);
        }

        Assert.Equal(0, reentrant.RecursionCount);
        AssertFree(a);
        AssertFree(b);
    }

    [Fact]
    public void LockSet_TwoLockFormAndAcquireLocksOf_TakeOneObjectsLockOnce()
    {
        var account = new ExclusiveLock("self-transfer", level: 1);
        var other = new ExclusiveLock("self-other", level: 2);
        using (var set = LockSet.Acquire(account, account))
        {
            Assert.True(account.IsHeldByCurrentThread);
        }

        AssertFree(account);
        using (var set = LockSet.AcquireLocksOf(account, other, account))
        {
            Assert.True(account.IsHeldByCurrentThread);
            Assert.True(other.IsHeldByCurrentThread);
        }

        AssertFree(account);
        AssertFree(other);
        Assert.True(LockSet.TryAcquireLocksOf(s_short, out var taken, other, other));
        Assert.True(other.IsHeldByCurrentThread);
        taken.Dispose();
        AssertFree(other);
    }

    [Fact]
    public void ConditionVariable_BoundedQueue_WaitUntilAndNotify_HandEveryItemOver()
    {
        var gate = new ExclusiveLock("queue-gate");
        var notEmpty = new ConditionVariable(gate, "not-empty");
        Assert.Same(gate, notEmpty.Lock);
        var queue = new Queue<int>();
        var taken = new List<int>();
        var consumer = Worker.Start("consumer", () =>
        {
            for (var i = 0; i < 5; i++)
            {
                using var s = gate.Acquire();
                notEmpty.WaitUntil(() => queue.Count > 0);
                taken.Add(queue.Dequeue());
            }
        });
        for (var i = 0; i < 5; i++)
        {
            using var s = gate.Acquire();
            queue.Enqueue(i);
            notEmpty.Notify();
        }

        consumer.JoinGuarded();
        Assert.Equal([0, 1, 2, 3, 4], taken);
        Assert.Empty(queue);
        AssertFree(gate);

        // A predicate that never holds: false after the timeout, holding the lock.
        using (var s = gate.Acquire())
        {
            Assert.False(notEmpty.WaitUntil(() => queue.Count > 0, s_short));
            Assert.True(gate.IsHeldByCurrentThread);
        }

        // Waiting without the lock is a SynchronizationLockException.
        var unheld = Assert.Throws<SynchronizationLockException>(() => notEmpty.Wait(s_short));
        Assert.Contains("'not-empty'", unheld.Message);
        AssertFree(gate);
    }

    [Fact]
    public void ConditionVariable_NotifyAll_WakesEveryWaiter()
    {
        var gate = new ExclusiveLock("broadcast-gate");
        var go = new ConditionVariable(gate, "go");
        var open = false;
        var woken = 0;
        var refused = 0;
        var waiters = Enumerable.Range(0, 3).Select(i => Worker.Start($"waiter-{i}", () =>
        {
            using var s = gate.Acquire();
            go.WaitUntil(() => open || (refused++ < 0));
            woken++;
        })).ToList();

        // Each refusal is counted under the lock just before that waiter parks and gives the lock up, so once all three
        // have refused, taking the lock proves each of them is parked on the condition.
        Guard.SpinUntil(() => Volatile.Read(ref refused) == 3);
        using (var s = gate.Acquire())
        {
            Assert.Equal(0, woken);
            Assert.Equal(3, refused);
            open = true;
            go.NotifyAll();
        }

        waiters.ForEach(w => w.JoinGuarded());
        Assert.Equal(3, woken);
        Assert.Equal(3, refused);
        AssertFree(gate);
    }

    [Fact]
    public void PhaseBarrier_RunsThePostPhaseActionOncePerPhase_AndATimeoutBreaksIt()
    {
        var actions = 0;
        var barrier = new PhaseBarrier(3, b => actions++, "batch");
        Assert.Equal(3, barrier.ParticipantCount);
        var workers = Enumerable.Range(0, 2).Select(i => Worker.Start($"batch-{i}", () =>
        {
            for (var p = 0; p < 4; p++)
            {
                barrier.SignalAndWait();
            }
        })).ToList();
        for (var p = 0; p < 4; p++)
        {
            barrier.SignalAndWait();
        }

        workers.ForEach(w => w.JoinGuarded());
        Assert.Equal(4, actions);
        Assert.Equal(4, barrier.CurrentPhase);
        Assert.False(barrier.IsBroken);

        BrokenBarrierException? broken = null;
        var early = Worker.Start("early", () => broken = Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait()));
        Guard.SpinUntil(() => early.IsBlocked);
        Assert.False(barrier.SignalAndWait(s_short));
        early.JoinGuarded();
        Assert.Equal("batch", broken!.BarrierName);
        Assert.True(barrier.IsBroken);
        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait(s_short));
        Assert.Equal(4, actions);

        barrier.Reset();
        Assert.False(barrier.IsBroken);
    }

    [Fact]
    public void Counters_CountEveryUpdateExactly()
    {
        var requests = new AtomicCounter("requests");
        var hits = new StripedCounter("hits");
        var workers = Enumerable.Range(0, 3).Select(i => Worker.Start($"count-{i}", () =>
        {
            for (var n = 0; n < 1_000; n++)
            {
                requests.Increment();
                requests.Update(v => v + 1);
                hits.Add(2);
                hits.Decrement();
            }
        })).ToList();
        workers.ForEach(w => w.JoinGuarded());
        Assert.Equal(6_000, requests.Value);
        Assert.Equal(3_000, hits.Sum());

        Assert.Equal(6_000, requests.CompareExchange(1, 6_000));
        Assert.Equal(1, requests.CompareExchange(99, 6_000));
        Assert.Equal(1, requests.Value);
        Assert.Equal(1, requests.Exchange(10));
        Assert.Equal(15, requests.Add(5));
        Assert.Equal(14, requests.Decrement());
        Assert.Equal(3_000, hits.SumThenReset());
        Assert.Equal(0, hits.Sum());
        Assert.Equal(7, new AtomicCounter(7, "seeded").Value);
    }

    [Fact]
    public void OrderViolation_Throw_RefusesBeforeTaking_WithTheQuotedMessage()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var violations = CountOrderViolationMetrics("ov-throw-orders", out var listener);
        using (listener)
        {
            ExclusiveLock orders = new("ov-throw-orders", level: 1), stock = new("ov-throw-stock", level: 2);
            using (var s = stock.Acquire())
            {
                var ex = Assert.Throws<LockOrderViolationException>(() => { using var o = orders.Acquire(); });
                Assert.StartsWith($"Lock order violation on thread {Me}: acquiring 'ov-throw-orders' (level 1) while holding 'ov-throw-stock' (level 2).", ex.Message);
                Assert.Equal("ov-throw-stock", ex.Violation.HeldLockName);
                Assert.False(orders.IsHeld);

                // Not greater is a violation too: an equal level.
                var peer = new ExclusiveLock("ov-throw-peer", level: 2);
                Assert.Throws<LockOrderViolationException>(() => { using var p = peer.Acquire(); });
                Assert.False(peer.IsHeld);
            }

            Assert.Equal(1, violations.Value);
            AssertFree(orders);
        }

        var reentrant = new ReentrantLock("ov-reentrant", level: 5);
        using (var outer = reentrant.Acquire())
        {
            using var inner = reentrant.Acquire();
            Assert.Equal(2, reentrant.RecursionCount);
        }
    }

    [Theory]
    [InlineData(OrderViolationAction.Report)]
    [InlineData(OrderViolationAction.Ignore)]
    public void OrderViolation_ReportCallsTheHandlerAndContinues_IgnoreChecksNothing(OrderViolationAction action)
    {
        var reported = new ConcurrentQueue<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(action, reported.Enqueue);
        var name = $"ov-{action}-orders";
        var violations = CountOrderViolationMetrics(name, out var listener);
        using (listener)
        {
            ExclusiveLock orders = new(name, level: 1), stock = new($"ov-{action}-stock", level: 2);
            using (var s = stock.Acquire())
            {
                using var o = orders.Acquire();
                Assert.True(orders.IsHeldByCurrentThread);
            }

            if (action == OrderViolationAction.Report)
            {
                var violation = Assert.Single(reported);
                Assert.Equal(name, violation.RequestedLockName);
                Assert.Equal(1, violation.RequestedLevel);
                Assert.Equal(2, violation.HeldLevel);
                Assert.Equal(Environment.CurrentManagedThreadId, violation.ThreadId);
                Assert.Equal(1, violations.Value);
            }
            else
            {
                Assert.Empty(reported);
                Assert.Equal(0, violations.Value);
            }

            AssertFree(orders);
            AssertFree(stock);
        }
    }

    [Fact]
    public void DeadlockDetector_FindsTheTwoThreadCycle_WithNamesLevelsAndKinds()
    {
        ExclusiveLock accounts = new("dl-accounts", level: 10);
        ReentrantLock audit = new("dl-audit");
        using var cancelAlpha = new CancellationTokenSource();
        using var bothHold = new Barrier(2);
        var alphaCancelled = false;
        var alpha = Worker.Start("alpha", () =>
        {
            using var a = accounts.Acquire();
            bothHold.SignalAndWait(Guard.HangLimit);
            try
            {
                using var b = audit.Acquire(cancelAlpha.Token);
            }
            catch (OperationCanceledException)
            {
                alphaCancelled = true;
            }
        });
        var beta = Worker.Start("beta", () =>
        {
            using var b = audit.Acquire();
            bothHold.SignalAndWait(Guard.HangLimit);
            using var a = accounts.Acquire();
        });
        WaitUntilWaiting("dl-accounts");
        WaitUntilWaiting("dl-audit");

        var cycle = Assert.Single(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName is "dl-accounts" or "dl-audit"));
        Assert.Equal(2, cycle.Edges.Count);
        var alphaEdge = Assert.Single(cycle.Edges, e => e.ThreadName == "alpha");
        var betaEdge = Assert.Single(cycle.Edges, e => e.ThreadName == "beta");
        Assert.Equal("dl-audit", alphaEdge.LockName);
        Assert.Null(alphaEdge.LockLevel);
        Assert.Equal(LockKind.Reentrant, alphaEdge.LockKind);
        Assert.Equal(betaEdge.ThreadId, alphaEdge.OwnerThreadId);
        Assert.Equal("dl-accounts", betaEdge.LockName);
        Assert.Equal(10, betaEdge.LockLevel);
        Assert.Equal(LockKind.Exclusive, betaEdge.LockKind);
        Assert.Equal(alphaEdge.ThreadId, betaEdge.OwnerThreadId);

        cancelAlpha.Cancel();
        alpha.JoinGuarded();
        beta.JoinGuarded();
        Assert.True(alphaCancelled);
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName is "dl-accounts" or "dl-audit"));
        AssertFree(accounts);
        Assert.False(audit.IsHeld);
    }

    [Fact]
    public void LongWaitOccurred_FiresForAWaitPastTheThreshold()
    {
        using var policy = PolicyScope.Capture();
        var longWaits = new ConcurrentQueue<LongWaitEvent>();
        LocksmithPolicy.LongWaitThreshold = TimeSpan.FromMilliseconds(1);
        LocksmithPolicy.LongWaitOccurred = longWaits.Enqueue;
        var gate = new ExclusiveLock("long-wait-gate");
        int waiterId = 0;
        Worker waiter;
        using (HeldOnOtherThread.Hold("long-holder", r => { using var s = gate.Acquire(); r.Wait(); }))
        {
            waiter = Worker.Start("long-waiter", () =>
            {
                waiterId = Environment.CurrentManagedThreadId;
                using var s = gate.Acquire();
            });
            WaitUntilWaiting("long-wait-gate");
            Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Any(w => w.LockName == "long-wait-gate" && w.Waited > TimeSpan.FromMilliseconds(5)));
        }

        waiter.JoinGuarded();
        var evt = Assert.Single(longWaits, e => e.LockName == "long-wait-gate");
        Assert.Equal(waiterId, evt.ThreadId);
        Assert.Equal(LockMode.Exclusive, evt.Mode);
        AssertFree(gate);
    }

    [Fact]
    public void Metrics_CountAcquisitionsContentionsWaitsHoldsAndTimeouts_ForOneLock()
    {
        const string name = "metrics-ledger";
        var counts = new ConcurrentDictionary<string, int>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Locksmith")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value == name)
                {
                    counts.AddOrUpdate(instrument.Name, 1, (_, c) => c + 1);
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, _, tags, _) => Record(i, tags));
        listener.SetMeasurementEventCallback<double>((i, _, tags, _) => Record(i, tags));
        listener.Start();

        var ledger = new ExclusiveLock(name);
        Worker waiter;
        using (HeldOnOtherThread.Hold("metrics-holder", r => { using var s = ledger.Acquire(); r.Wait(); }))
        {
            waiter = Worker.Start("metrics-waiter", () => { using var s = ledger.Acquire(); });
            WaitUntilWaiting(name);
        }

        waiter.JoinGuarded();
        Assert.Equal(2, counts.GetValueOrDefault("locksmith.lock.acquisitions"));
        Assert.Equal(1, counts.GetValueOrDefault("locksmith.lock.contentions"));
        Assert.Equal(1, counts.GetValueOrDefault("locksmith.lock.wait.duration"));
        Assert.Equal(2, counts.GetValueOrDefault("locksmith.lock.hold.duration"));
        Assert.Equal(0, counts.GetValueOrDefault("locksmith.lock.timeouts"));

        using (HeldOnOtherThread.Hold("metrics-holder-2", r => { using var s = ledger.Acquire(); r.Wait(); }))
        {
            Assert.Throws<LockTimeoutException>(() => { using var s = ledger.Acquire(s_short); });
        }

        // A timed-out wait is a failed acquisition; its spin may end at the deadline on a loaded machine, but a
        // contention, if counted, is followed by exactly one wait measurement.
        Assert.Equal(3, counts.GetValueOrDefault("locksmith.lock.acquisitions"));
        Assert.Equal(1, counts.GetValueOrDefault("locksmith.lock.timeouts"));
        Assert.Equal(3, counts.GetValueOrDefault("locksmith.lock.hold.duration"));
        Assert.Equal(counts.GetValueOrDefault("locksmith.lock.contentions"), counts.GetValueOrDefault("locksmith.lock.wait.duration"));
        Assert.Equal(0, counts.GetValueOrDefault("locksmith.lock.order_violations"));
        AssertFree(ledger);
    }

    [Fact]
    public void ReenteringAReentrantLock_UnderAHigherLevel_IsNotAnOrderViolation()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var low = new ReentrantLock("reenter-low", level: 1);
        var high = new ExclusiveLock("reenter-high", level: 2);
        using (var outer = low.Acquire())
        {
            using var h = high.Acquire();
            using var again = low.Acquire();
            Assert.Equal(2, low.RecursionCount);
        }

        Assert.Equal(0, low.RecursionCount);
        AssertFree(high);
    }

    [Fact]
    public void LockSet_RefusesAHeldReadLockAndADuplicateSemaphore_BeforeTakingAnything()
    {
        var rw = new ReadWriteLock("set-rw", level: 2);
        var a = new ExclusiveLock("set-a", level: 1);
        var pool = new CountingSemaphore(2, 2, "set-pool", level: 3);
        using (var read = rw.AcquireRead())
        {
            var ex = Assert.Throws<LockRecursionException>(() => { using var s = LockSet.Acquire(a, rw); });
            Assert.Contains("'set-rw'", ex.Message);
            Assert.False(a.IsHeld);
        }

        var dup = Assert.Throws<ArgumentException>(() => { using var s = LockSet.Acquire([pool, a, pool]); });
        Assert.Equal("locks", dup.ParamName);
        Assert.Contains("locks[0]", dup.Message);
        Assert.Contains("locks[2]", dup.Message);
        Assert.Equal(2, pool.CurrentCount);
        AssertFree(a);
        AssertFree(rw);

        using (var held = a.Acquire())
        {
            Assert.Throws<LockRecursionException>(() => { using var s = LockSet.Acquire(a, a); });
            Assert.True(a.IsHeldByCurrentThread);
        }

        AssertFree(a);
    }

    [Fact]
    public void LockSet_Timeout_RaisesOneEvent_WithTheSetsWaited()
    {
        using var policy = PolicyScope.Capture();
        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = events.Enqueue;
        ExclusiveLock first = new("evt-first", level: 1), busy = new("evt-busy", level: 2);
        using (var holder = HeldOnOtherThread.Hold("evt-holder", r => { using var s = busy.Acquire(); r.Wait(); }))
        {
            var ex = Assert.Throws<LockTimeoutException>(() => { using var s = LockSet.Acquire(s_short, first, busy); });
            var evt = Assert.Single(events);
            Assert.Equal("evt-busy", evt.LockName);
            Assert.Equal(holder.ThreadId, evt.OwnerThreadId);
            Assert.Equal(ex.Waited, evt.Waited);
            Assert.False(first.IsHeld);
        }

        AssertFree(first);
        AssertFree(busy);
    }

    [Fact]
    public void BadTimeouts_AreArgumentOutOfRange_NamingTheLock()
    {
        var gate = new ExclusiveLock("bad-timeout-gate");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => { using var s = gate.Acquire(TimeSpan.FromMilliseconds(-2)); });
        Assert.Equal("timeout", ex.ParamName);
        Assert.Contains("'bad-timeout-gate'", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquire(TimeSpan.FromDays(30), out var s));

        // Under 1 ms tries once: a free lock is taken, a held one refused at once.
        Assert.True(gate.TryAcquire(TimeSpan.FromTicks(5_000), out var taken));
        taken.Dispose();
        var barrier = new PhaseBarrier(2, name: "bad-timeout-barrier");
        var bex = Assert.Throws<ArgumentOutOfRangeException>(() => barrier.SignalAndWait(TimeSpan.FromMilliseconds(-5)));
        Assert.Contains("bad-timeout-barrier", bex.Message);
        Assert.False(barrier.IsBroken);
        AssertFree(gate);
    }

    [Fact]
    public void PhaseBarrier_CancellationAndInterrupt_BreakIt_ForEveryone()
    {
        var barrier = new PhaseBarrier(3, name: "break-barrier");
        using var cts = new CancellationTokenSource();
        BrokenBarrierException? other = null;
        var waiting = Worker.Start("break-other", () => other = Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait()));
        var cancelled = Worker.Start("break-cancelled", () => Assert.ThrowsAny<OperationCanceledException>(() => barrier.SignalAndWait(cts.Token)));
        Guard.SpinUntil(() => waiting.IsBlocked && cancelled.IsBlocked);
        cts.Cancel();
        cancelled.JoinGuarded();
        waiting.JoinGuarded();
        Assert.Equal("break-barrier", other!.BarrierName);
        Assert.True(barrier.IsBroken);

        barrier.Reset();
        Assert.False(barrier.IsBroken);
        var interrupted = Worker.Start("break-interrupted", () => Assert.Throws<ThreadInterruptedException>(() => barrier.SignalAndWait()));
        Guard.SpinUntil(() => interrupted.IsBlocked);
        interrupted.Interrupt();
        interrupted.JoinGuarded();
        Assert.True(barrier.IsBroken);
        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
    }

    [Fact]
    public void StripedLock_AStripesTimeoutAndRecursion_NameTheStripeByIndex()
    {
        var accounts = new StripedLock<int>(4, "stripe-named", level: 10);
        var higher = new ExclusiveLock("stripe-named-higher", level: 20);
        int stripe = accounts.StripeOf(42);
        using (PolicyScope.OrderViolations(OrderViolationAction.Throw))
        using (higher.Acquire())
        {
            var violation = Assert.Throws<LockOrderViolationException>(() => { using var s = accounts.Acquire(42); });
            Assert.Contains($"'stripe-named[{stripe}]'", violation.Message);
        }

        using (HeldOnOtherThread.Hold("stripe-named-holder", r => { using var s = accounts.Acquire(42); r.Wait(); }))
        {
            var timeout = Assert.Throws<LockTimeoutException>(() => { using var s = accounts.Acquire(42, s_short); });
            Assert.Equal($"stripe-named[{stripe}]", timeout.LockName);
            Assert.Contains($"'stripe-named[{stripe}]'", timeout.Message);
        }

        using (accounts.Acquire(42))
        {
            var recursion = Assert.Throws<LockRecursionException>(() => { using var s = accounts.Acquire(42); });
            Assert.Contains($"'stripe-named[{stripe}]'", recursion.Message);
        }
    }

    [Fact]
    public void StripedLock_AcquireMany_OfAHeldStripe_ThrowsLockRecursion_AndTakesNothing()
    {
        var accounts = new StripedLock<int>(4, "held-stripes");
        var other = Enumerable.Range(1, 100).First(k => accounts.StripeOf(k) != accounts.StripeOf(1));
        using (var one = accounts.Acquire(1))
        {
            Assert.Throws<LockRecursionException>(() => { using var s = accounts.AcquireMany(other, 1); });
            Assert.False(accounts.IsHeldByCurrentThread(other));
            Assert.True(accounts.IsHeldByCurrentThread(1));
        }

        Assert.False(accounts.IsHeldByCurrentThread(1));
    }

    [Fact]
    public void CountingSemaphore_CountOverMax_IsRefused_AndTakesNothing()
    {
        var pool = new CountingSemaphore(2, 2, "over-max-pool");
        Assert.ThrowsAny<ArgumentException>(() => { using var s = pool.Acquire(3); });
        Assert.ThrowsAny<ArgumentException>(() => { using var s = pool.Acquire(0); });
        Assert.Equal(2, pool.CurrentCount);
        Assert.Equal(0, pool.WaitingCount);
    }

    [Fact]
    public void LockSet_GivesBackItsReentryOfAHeldReentrantLock_WhenItTimesOut()
    {
        var session = new ReentrantLock("giveback-session", level: 1);
        var busy = new ExclusiveLock("giveback-busy", level: 2);
        var rw = new ReadWriteLock("giveback-rw", level: 3);
        using (HeldOnOtherThread.Hold("giveback-holder", r => { using var s = busy.Acquire(); r.Wait(); }))
        using (var outer = session.Acquire())
        {
            Assert.Throws<LockTimeoutException>(() => { using var s = LockSet.Acquire(s_short, session, busy); });
            Assert.Equal(1, session.RecursionCount);
            Assert.False(LockSet.TryAcquire(s_short, out var none, session, busy));
            Assert.Equal(1, session.RecursionCount);
            using (var s = LockSet.AcquireLocksOf(session, rw, session))
            {
                Assert.Equal(2, session.RecursionCount);
                Assert.True(rw.IsWriteLockHeldByCurrentThread);
            }

            Assert.Equal(1, session.RecursionCount);
        }

        Assert.Equal(0, session.RecursionCount);
        AssertFree(busy);
        AssertFree(rw);
    }

    [Fact]
    public void LockSet_WriteMemberHeldByAReader_TimesOutHoldingNone()
    {
        var a = new ExclusiveLock("reader-busy-a", level: 1);
        var rw = new ReadWriteLock("reader-busy-rw", level: 2);
        using (HeldOnOtherThread.Hold("reader-busy-holder", r => { using var s = rw.AcquireRead(); r.Wait(); }))
        {
            var ex = Assert.Throws<LockTimeoutException>(() => { using var s = LockSet.Acquire(s_short, a, rw); });
            Assert.EndsWith("'reader-busy-rw' held up a LockSet of 2 lock(s), which takes all or none: none of them is held.", ex.Message);
            Assert.False(a.IsHeld);
            Assert.Equal(1, rw.CurrentReaderCount);
        }

        AssertFree(a);
        AssertFree(rw);
    }

    [Fact]
    public void DefaultTimeout_BoundsLockSetsStripesAndSpinGates()
    {
        using var policy = PolicyScope.DefaultTimeout(s_short);
        var a = new ExclusiveLock("dt-a", level: 1);
        var b = new ExclusiveLock("dt-b", level: 2);
        var stripes = new StripedLock<int>(4, "dt-stripes");
        var gate = new SpinGate("dt-spin");
        using (HeldOnOtherThread.Hold("dt-holder", r =>
               {
                   using var s = b.Acquire();
                   using var t = stripes.Acquire(1);
                   using var g = gate.Acquire();
                   r.Wait();
               }))
        {
            var ex = Assert.Throws<LockTimeoutException>(() => { using var s = LockSet.Acquire(a, b); });
            Assert.EndsWith("'dt-b' held up a LockSet of 2 lock(s), which takes all or none: none of them is held.", ex.Message);
            Assert.False(a.IsHeld);
            Assert.Throws<LockTimeoutException>(() => { using var s = stripes.Acquire(1); });
            Assert.Throws<LockTimeoutException>(() => { using var s = stripes.AcquireMany(1, 2); });
            Assert.False(stripes.IsHeldByCurrentThread(2));
            Assert.Equal("dt-spin", Assert.Throws<LockTimeoutException>(() => { using var s = gate.Acquire(); }).LockName);
        }

        AssertFree(a);
        AssertFree(b);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void StripedLock_CancelledAcquireMany_HoldsNoneOfItsKeys()
    {
        var stripes = new StripedLock<int>(4, "cancel-stripes");
        var other = Enumerable.Range(1, 100).First(k => stripes.StripeOf(k) != stripes.StripeOf(1));
        using var cts = new CancellationTokenSource();
        using (HeldOnOtherThread.Hold("cancel-stripes-holder", r => { using var s = stripes.Acquire(other); r.Wait(); }))
        {
            Exception? caught = null;
            var heldFirst = true;
            var waiter = Worker.Start("cancel-stripes-waiter", () =>
            {
                try
                {
                    stripes.TryAcquireMany(Timeout.InfiniteTimeSpan, cts.Token, out var s, 1, other);
                    s.Dispose();
                }
                catch (OperationCanceledException e)
                {
                    caught = e;
                    heldFirst = stripes.IsHeldByCurrentThread(1);
                }
            });
            WaitUntilWaiting("cancel-stripes");
            cts.Cancel();
            waiter.JoinGuarded();
            Assert.NotNull(caught);
            Assert.False(heldFirst);
        }

        Assert.Equal(0, WaitsOn("cancel-stripes"));
        Assert.True(stripes.TryAcquireMany(TimeSpan.Zero, out var both, 1, other));
        Assert.Equal(2, both.Count);
        both.Dispose();
    }

    [Fact]
    public void ConditionVariable_CancelledWait_ThrowsHoldingTheLock()
    {
        var gate = new ExclusiveLock("cv-cancel-gate");
        var ready = new ConditionVariable(gate, "cv-cancel");
        using var cts = new CancellationTokenSource();
        var refused = 0;
        var heldAfter = false;
        var waiter = Worker.Start("cv-cancel-waiter", () =>
        {
            using var s = gate.Acquire();
            try
            {
                ready.WaitUntil(() => refused++ < 0, Timeout.InfiniteTimeSpan, cts.Token);
            }
            catch (OperationCanceledException)
            {
                heldAfter = gate.IsHeldByCurrentThread;
            }
        });

        // The refusal is counted holding the lock; taking the lock after it proves the waiter is parked.
        Guard.SpinUntil(() => Volatile.Read(ref refused) == 1);
        using (var s = gate.Acquire())
        {
            cts.Cancel();
        }

        waiter.JoinGuarded();
        Assert.True(heldAfter);
        Assert.Equal(1, refused);
        AssertFree(gate);
    }

    [Fact]
    public void PhaseBarrier_AThrowingPostPhaseAction_BreaksItForEveryParticipant()
    {
        var barrier = new PhaseBarrier(2, _ => throw new InvalidOperationException("flush failed"), "flush-barrier");
        BrokenBarrierException? other = null;
        var peer = Worker.Start("flush-peer", () => other = Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait()));
        var mine = Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
        peer.JoinGuarded();
        Assert.Equal("flush-barrier", mine.BarrierName);
        Assert.Equal("flush-barrier", other!.BarrierName);
        Assert.Contains("flush failed", mine.Message + mine.InnerException?.Message);
        Assert.True(barrier.IsBroken);
        Assert.Equal(0, barrier.CurrentPhase);
    }

    [Fact]
    public void PolicyHandlersThatThrow_FailTheAcquisition_AndGiveBackWhatItTook()
    {
        using var policy = PolicyScope.Capture();
        LocksmithPolicy.TimeoutOccurred = _ => throw new InvalidOperationException("timeout handler");
        LocksmithPolicy.LongWaitThreshold = TimeSpan.FromMilliseconds(1);
        LocksmithPolicy.LongWaitOccurred = _ => throw new InvalidOperationException("long-wait handler");
        var gate = new ExclusiveLock("throwing-handler-gate");
        var rw = new ReadWriteLock("throwing-handler-rw");
        var pool = new CountingSemaphore(2, 2, "throwing-handler-pool");
        var failures = new ConcurrentQueue<string>();
        var waiters = new List<Worker>();
        using (HeldOnOtherThread.Hold("throwing-handler-holder", r =>
               {
                   using var s = gate.Acquire();
                   using var t = rw.AcquireWrite();
                   using var p = pool.Acquire(2);
                   r.Wait();
               }))
        {
            Assert.Equal("timeout handler", Assert.Throws<InvalidOperationException>(() => { using var s = gate.Acquire(s_short); }).Message);
            Assert.Equal("timeout handler", Assert.Throws<InvalidOperationException>(() => { using var s = pool.Acquire(s_short); }).Message);
            Assert.Equal(0, pool.WaitingCount);

            waiters.Add(Worker.Start("lw-gate", () => failures.Enqueue(Assert.Throws<InvalidOperationException>(() => { using var s = gate.Acquire(); }).Message)));
            waiters.Add(Worker.Start("lw-rw", () => failures.Enqueue(Assert.Throws<InvalidOperationException>(() => { using var s = rw.AcquireRead(); }).Message)));
            waiters.Add(Worker.Start("lw-pool", () => failures.Enqueue(Assert.Throws<InvalidOperationException>(() => { using var s = pool.Acquire(2); }).Message)));

            // The three waits pass the threshold while still blocked (a condition read off the detector, not a sleep).
            Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Count(w => w.LockName.StartsWith("throwing-handler-", StringComparison.Ordinal) && w.Waited > TimeSpan.FromMilliseconds(5)) == 3);
        }

        waiters.ForEach(w => w.JoinGuarded());
        Assert.Equal(["long-wait handler", "long-wait handler", "long-wait handler"], failures.ToArray());
        AssertFree(gate);
        AssertFree(rw);
        Assert.Equal(2, pool.CurrentCount);
        Assert.Equal(0, pool.WaitingCount);
    }

    [Fact]
    public void Metrics_HoldDurationIsOnePerExclusiveHold_TaggedAsREADMESays()
    {
        var seen = new ConcurrentQueue<(string Instrument, string? Name, string? Kind, string? Mode)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Locksmith" && instrument.Name == "locksmith.lock.hold.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            string? name = null, kind = null, mode = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "lock.name": name = tag.Value as string; break;
                    case "lock.kind": kind = tag.Value?.ToString(); break;
                    case "lock.mode": mode = tag.Value?.ToString(); break;
                }
            }

            if (name?.StartsWith("hold-", StringComparison.Ordinal) == true)
            {
                seen.Enqueue((instrument.Name, name, kind, mode));
            }
        });
        listener.Start();

        var session = new ReentrantLock("hold-session");
        using (var a = session.Acquire())
        {
            using var b = session.Acquire();
            using var c = session.Acquire();
        }

        var rw = new ReadWriteLock("hold-rw");
        using (var w = rw.AcquireWrite())
        {
        }

        using (var r = rw.AcquireRead())
        {
        }

        var stripes = new StripedLock<int>(4, "hold-stripes");
        var other = Enumerable.Range(1, 100).First(k => stripes.StripeOf(k) != stripes.StripeOf(1));
        using (var s = stripes.AcquireMany(1, other))
        {
        }

        var pool = new CountingSemaphore(3, 3, "hold-pool");
        using (var p = pool.Acquire(2))
        {
        }

        Assert.Equal(
            [
                ("locksmith.lock.hold.duration", "hold-session", "reentrant", "exclusive"),
                ("locksmith.lock.hold.duration", "hold-rw", "read_write", "write"),
                ("locksmith.lock.hold.duration", "hold-stripes", "striped", "exclusive"),
                ("locksmith.lock.hold.duration", "hold-stripes", "striped", "exclusive"),
            ],
            seen.ToArray());
    }

    private static StrongBox CountOrderViolationMetrics(string lockName, out MeterListener listener)
    {
        var box = new StrongBox();
        listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Locksmith" && instrument.Name == "locksmith.lock.order_violations")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value == lockName)
                {
                    Interlocked.Add(ref box.Value, value);
                }
            }
        });
        listener.Start();
        return box;
    }

    private sealed class StrongBox
    {
        public long Value;
    }
}
