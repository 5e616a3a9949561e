using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Composite;

public sealed class LockSetTests
{
    private sealed class Account(int id)
    {
        public ExclusiveLock Lock { get; } = new($"account-{id}", level: 10);

        public decimal Balance { get; set; } = 1_000m;
    }

    [Fact]
    public void ASetWhoseMembersFailToRelease_StillReleasesTheRest_AndThrowsTheFirstFailure()
    {
        // Two semaphores filled by other releases meanwhile refuse their permits (SemaphoreFullException). Before, the
        // first failure left the loop with the count already 0: the lock released after them stayed held for good.
        var gate = new ExclusiveLock("sync-set-release-gate");
        var first = new CountingSemaphore(1, 1, "sync-set-release-first", level: 1);
        var second = new CountingSemaphore(1, 1, "sync-set-release-second", level: 2);
        var scope = LockSet.Acquire(gate, first, second);
        first.Release();
        second.Release();

        SemaphoreFullException? failure = null;
        try
        {
            scope.Dispose();
        }
        catch (SemaphoreFullException ex)
        {
            failure = ex;
        }

        Assert.NotNull(failure);
        Assert.Contains("sync-set-release-second", failure.Message, StringComparison.Ordinal);
        Assert.False(gate.IsHeld);
        Assert.Equal(1, first.CurrentCount);
        Assert.Equal(1, second.CurrentCount);
    }

    [Fact]
    public void RandomTransfers_AmongTenAccounts_FromFourThreads_KeepTheTotalExact()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var accounts = new Account[10];
        for (int i = 0; i < accounts.Length; i++)
        {
            accounts[i] = new Account(i);
        }

        Concurrently.Run(4, thread =>
        {
            var random = new Random(thread);
            for (int i = 0; i < 1_000; i++)
            {
                var from = accounts[random.Next(accounts.Length)];
                var to = accounts[random.Next(accounts.Length)];
                decimal amount = random.Next(1, 50);

                // Argument order differs between threads; the set takes both in the global order.
                using var scope = LockSet.Acquire(from.Lock, to.Lock);
                decimal read = from.Balance;
                Thread.Yield();
                from.Balance = read - amount;
                to.Balance += amount;
            }
        });

        decimal total = 0;
        foreach (var account in accounts)
        {
            total += account.Balance;
            Assert.False(account.Lock.IsHeld);
        }

        Assert.Equal(10_000m, total);
    }

    [Fact]
    public void OppositeArgumentOrder_FromTwoThreads_NeverDeadlocks()
    {
        var a = new ExclusiveLock("a", level: 10);
        var b = new ExclusiveLock("b", level: 10);
        long entries = 0;
        Concurrently.Run(2, thread =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                using var scope = thread == 0 ? LockSet.Acquire(a, b) : LockSet.Acquire(b, a);
                entries++;
            }
        });
        Assert.Equal(100_000, entries);
    }

    [Fact]
    public void SameLockTwice_IsTakenOnce()
    {
        var a = new ExclusiveLock("a", level: 1);
        using var scope = LockSet.Acquire(a, a);
        Assert.Equal(1, scope.Count);
        Assert.True(a.IsHeldByCurrentThread);
    }

    /// <summary>
    /// A list that names a lock twice was taken once, silently: a slip, or a semaphore that gave one permit where two were
    /// meant. It is an ArgumentException now, naming the lock and both places, before anything is taken.
    /// </summary>
    [Fact]
    public void ALockListedTwice_IsAnArgumentException_NamingItAndBothPlaces_AndNothingIsTaken()
    {
        var a = new ExclusiveLock("a", level: 1);
        var b = new ExclusiveLock("b", level: 2);

        var ex = Assert.Throws<ArgumentException>(() => LockSet.Acquire(a, b, a));
        Assert.Equal("locks", ex.ParamName);
        Assert.Contains("listed 'a' (level 1) twice in a lock set, as locks[0] and locks[2]; nothing was taken. List each lock once.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("LockSet.AcquireLocksOf", ex.Message, StringComparison.Ordinal);
        Assert.Contains("as locks[1] and locks[2]", Assert.Throws<ArgumentException>(() => LockSet.Acquire(TimeSpan.FromSeconds(5), a, b, b)).Message, StringComparison.Ordinal);
        Assert.Contains("as locks[0] and locks[1]", Assert.Throws<ArgumentException>(() => LockSet.TryAcquire(TimeSpan.Zero, out _, b, b)).Message, StringComparison.Ordinal);
        Assert.False(a.IsHeld);
        Assert.False(b.IsHeld);
    }

    [Fact]
    public void ASemaphoreListedTwice_IsAnArgumentException_SayingHowToTakeSeveralPermits()
    {
        var pool = new CountingSemaphore(3, 3, "pool");

        var ex = Assert.Throws<ArgumentException>(() => LockSet.Acquire(TimeSpan.FromSeconds(5), pool, pool));
        Assert.Contains("listed 'pool' twice in a lock set, as locks[0] and locks[1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("A set takes one permit of a CountingSemaphore: for several, call the semaphore's Acquire(count) instead.", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, pool.CurrentCount);
    }

    /// <summary>The locks of objects that may be one object (a transfer to itself): the two-lock form and AcquireLocksOf take a lock given twice once.</summary>
    [Fact]
    public void AcquireLocksOf_TakesALockGivenTwiceOnce_InEachForm()
    {
        var a = new ExclusiveLock("a", level: 1);
        var pool = new CountingSemaphore(3, 3, "pool");

        using (var scope = LockSet.AcquireLocksOf(a, pool, a, pool))
        {
            Assert.Equal(2, scope.Count);
            Assert.True(a.IsHeldByCurrentThread);
            Assert.Equal(2, pool.CurrentCount);
        }

        using (var scope = LockSet.AcquireLocksOf(TimeSpan.FromSeconds(5), a, a))
        {
            Assert.Equal(1, scope.Count);
        }

        Assert.True(LockSet.TryAcquireLocksOf(TimeSpan.Zero, out var tried, pool, pool));
        using (tried)
        {
            Assert.Equal(1, tried.Count);
            Assert.Equal(2, pool.CurrentCount);
        }

        Assert.False(a.IsHeld);
        Assert.Equal(3, pool.CurrentCount);
    }

    [Fact]
    public void Timeout_IsAllOrNothing_AndNamesTheBusyLock()
    {
        var free = new ExclusiveLock("free", level: 1);
        var busy = new ExclusiveLock("busy", level: 2);
        using var holder = new HeldOnOtherThread("holder", release =>
        {
            using var scope = busy.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => busy.IsHeld);

        Assert.False(LockSet.TryAcquire(TimeSpan.FromMilliseconds(50), out var none, free, busy));
        Assert.False(none.IsAcquired);
        Assert.False(free.IsHeld);

        var ex = Assert.Throws<LockTimeoutException>(() => LockSet.Acquire(TimeSpan.FromMilliseconds(50), busy, free));
        Assert.Equal("busy", ex.LockName);
        Assert.Equal(holder.ThreadId, ex.OwnerThreadId);
        Assert.False(free.IsHeld);

        holder.Release();
        using var both = LockSet.Acquire(TimeSpan.FromSeconds(30), busy, free);
        Assert.True(free.IsHeldByCurrentThread);
        Assert.True(busy.IsHeldByCurrentThread);
    }

    [Fact]
    public void Set_IsCheckedAgainstLocksAlreadyHeld()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var high = new ExclusiveLock("high", level: 20);
        var a = new ExclusiveLock("a", level: 10);
        var b = new ExclusiveLock("b", level: 30);
        using var held = high.Acquire();
        var error = Assert.Throws<LockOrderViolationException>(() => LockSet.Acquire(a, b));
        Assert.False(a.IsHeld);
        Assert.False(b.IsHeld);

        // The advice fits a set (a trial saw "or use LockSet to take both" given to a LockSet call).
        Assert.EndsWith(
            "release 'high' before taking the set, or take it in the same set, which takes its locks in the global order.",
            error.Message,
            StringComparison.Ordinal);
        var many = Assert.Throws<LockOrderViolationException>(() => LockSet.Acquire(a, b, new ExclusiveLock("c", level: 40)));
        Assert.DoesNotContain("use LockSet", many.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StripedAcquireMany_NamesTheStripedLock_WhenTheThreadHoldsOneOfItsKeys()
    {
        var stripes = new StripedLock<string>(4, "many-stripes");
        using var one = stripes.Acquire("k");

        var error = Assert.Throws<LockRecursionException>(() => stripes.AcquireMany("k", "j"));

        Assert.Contains("asked 'many-stripes' for several keys at once, ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LockSet", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Release the key it holds on that stripe first, or take every key it needs in one call.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StripedAcquireMany_OutOfOrder_AdvisesTakingTheKeysFirst_NotASet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var high = new ExclusiveLock("keys-high", level: 50);
        var stripes = new StripedLock<string>(4, "keys-stripes", level: 10);
        using var held = high.Acquire();

        var error = Assert.Throws<LockOrderViolationException>(() => stripes.AcquireMany("a", "b"));

        Assert.EndsWith("release 'keys-high' before taking several keys of 'keys-stripes', or take those keys before 'keys-high'.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LargeSet_UsesPooledStorage_AndReleasesAll()
    {
        var locks = new ILockSetMember[9];
        for (int i = 0; i < locks.Length; i++)
        {
            locks[i] = new ExclusiveLock($"l{i}", level: 9 - i);
        }

        using (var scope = LockSet.Acquire(locks))
        {
            Assert.Equal(9, scope.Count);
        }

        foreach (ExclusiveLock l in locks)
        {
            Assert.False(l.IsHeld);
        }
    }

    [Fact]
    public void EmptyOrNullSet_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => LockSet.Acquire(ReadOnlySpan<ILockSetMember>.Empty));
        Assert.Throws<ArgumentNullException>(() => LockSet.Acquire(new ExclusiveLock(), null!));
        Assert.Throws<ArgumentException>(() => LockSet.Acquire(TimeSpan.FromSeconds(1), new ExclusiveLock(), null!));
    }

    [Fact]
    public async System.Threading.Tasks.Task AnOutOfRangeTimeout_IsRefusedAtOnce_NamingTheSetsMembers_AndTakesNothing()
    {
        // Before, the message named only the parameter ('timeout'), while every single lock's names the lock.
        var ledger = new ExclusiveLock("set-timeout-ledger");
        var audit = new ReadWriteLock("set-timeout-audit");
        var prices = new AsyncExclusiveLock("set-timeout-prices");
        var quotes = new AsyncReadWriteLock("set-timeout-quotes");
        var negative = TimeSpan.FromMilliseconds(-5);
        var errors = new[]
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => { LockSet.Acquire(negative, ledger, audit).Dispose(); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { _ = LockSet.TryAcquire(TimeSpan.FromDays(30), out _, ledger, audit); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { _ = LockSet.AcquireAsync(negative, [prices, quotes]); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { _ = LockSet.TryAcquireAsync(negative, [prices, quotes]); }),
        };

        Assert.All(errors, e => Assert.Equal("timeout", e.ParamName));
        Assert.All(errors[..2], e => Assert.StartsWith(
            "The timeout for the lock set of 'set-timeout-ledger', 'set-timeout-audit' must be", e.Message, StringComparison.Ordinal));
        Assert.All(errors[2..], e => Assert.StartsWith(
            "The timeout for the lock set of 'set-timeout-prices', 'set-timeout-quotes' must be", e.Message, StringComparison.Ordinal));
        Assert.False(ledger.IsHeld);
        Assert.Equal(0, audit.CurrentReaderCount);
        Assert.False(prices.IsHeld);
        Assert.Equal(0, quotes.CurrentReaderCount);
        Assert.False(quotes.IsWriteHeld);

        // Nothing was reserved or left behind: the same set is taken at once afterwards.
        using (LockSet.Acquire(TimeSpan.Zero, ledger, audit))
        {
            Assert.True(ledger.IsHeld);
        }

        using (await LockSet.AcquireAsync(TimeSpan.Zero, [prices, quotes]))
        {
            Assert.True(prices.IsHeld);
        }
    }

    [Fact]
    public void ASetsThrowingTryOnce_ReportsItsTimeout_AsEachLocksOwnDoes()
    {
        // The set's wait on its first member, busy, had no time left: a member's try-once, which reports nothing, so the
        // set threw LockTimeoutException with no timeout metric and no TimeoutOccurred event (a host logs timeouts from it).
        using var policy = PolicyScope.Capture();
        var busy = new ExclusiveLock("set-try-once-busy");
        var free = new ExclusiveLock("set-try-once-free");
        var events = new List<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            lock (events)
            {
                events.Add(e);
            }
        };

        long recorded = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == "locksmith.lock.timeouts")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value == busy.Name)
                {
                    Interlocked.Add(ref recorded, value);
                }
            }
        });
        listener.Start();

        using (HeldOnOtherThread.Hold("set-try-once-holder", release =>
        {
            using (busy.Acquire())
            {
                release.Wait();
            }
        }))
        {
            // Made first, so the busy lock is the set's first in the global order: the one its wait starts on.
            var thrown = Assert.Throws<LockTimeoutException>(() => LockSet.Acquire(TimeSpan.Zero, free, busy));
            Assert.Equal(busy.Name, thrown.LockName);

            // A try-once that returns false records nothing, as each lock's own.
            Assert.False(LockSet.TryAcquire(TimeSpan.Zero, out var scope, free, busy));
            Assert.False(scope.IsAcquired);
        }

        Assert.Single(events, e => e.LockName == busy.Name);
        Assert.Equal(1, Interlocked.Read(ref recorded));
        Assert.False(free.IsHeld);
    }

    [Theory]
    [InlineData(16, 3, 3)]      // 3 ms left: the pause ends at the deadline, not 13 ms after it
    [InlineData(16, 1, 1)]
    [InlineData(9, 8, 8)]
    [InlineData(5, 40, 5)]      // time enough: the drawn pause
    [InlineData(16, -1, 16)]    // no deadline (TimeoutMath.Remaining's -1)
    [InlineData(0, 7, 0)]
    public void TheSyncSetsBackoffPause_NeverRunsPastTheTimeLeft(int drawn, int remaining, int expected)
    {
        // Before, the sync set slept the drawn pause (up to 16 ms) whatever time was left, so a timed
        // LockSet.Acquire could return up to 16 ms after its timeout; the async set already stopped at the deadline.
        // The sleep itself is not timed here (no wall-clock assertions): the pause the set computes is.
        Assert.Equal(expected, LockSet.BackoffPause(drawn, remaining));
    }

    [Fact]
    public void ASemaphoreMembersOwnTimeout_DescribesTheCountItsWaitSawWhenItGaveUp_NotPermitsGivenBackAfterItsEvent()
    {
        // Before, the set threw after its member's wait had timed out and reported it, reading the semaphore's count
        // then: permits given back from the member's TimeoutOccurred handler made the set's message say 5 were free.
        using var policy = PolicyScope.Capture();
        var permits = new CountingSemaphore(0, 8, "set-member-gave-up");   // made first: the set blocks on it first
        var other = new ExclusiveLock("set-member-gave-up-other");
        int reports = 0;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName == permits.Name)
            {
                reports++;
                permits.Release(5);   // another thread's permits come back just as the timeout is reported
            }
        };

        var ex = Assert.Throws<LockTimeoutException>(() => { using var scope = LockSet.Acquire(TimeSpan.FromMilliseconds(20), permits, other); });

        Assert.Equal(1, reports);   // the member's own wait reported it; the set added no report of its own
        Assert.Contains("waiting for 1 permit(s) of semaphore 'set-member-gave-up'; when it gave up, 0 of its maximum 8 were free.", ex.Message, StringComparison.Ordinal);
        Assert.Equal(5, permits.CurrentCount);
        Assert.False(other.IsHeld);
    }

    [Fact]
    public void ASetsTimeout_IsReportedInTheModeItWaitedFor_ASemaphoresPermitOrAReadWriteLocksWrite()
    {
        // Before, the set reported and described every member's timeout as 'exclusive': a semaphore's timeouts split into
        // a second series (lock.mode exclusive beside its own waits' permit) and its message named no counts.
        using var policy = PolicyScope.Capture();
        var permits = new CountingSemaphore(0, 1, "set-mode-permits");
        var table = new ReadWriteLock("set-mode-table");
        var free = new ExclusiveLock("set-mode-free");
        var events = new List<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            lock (events)
            {
                events.Add(e);
            }
        };

        var modes = new List<(string Lock, string? Mode)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == "locksmith.lock.timeouts")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? name = null, mode = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name")
                {
                    name = tag.Value as string;
                }
                else if (tag.Key == "lock.mode")
                {
                    mode = tag.Value as string;
                }
            }

            if (name is not null && name.StartsWith("set-mode-", StringComparison.Ordinal))
            {
                lock (modes)
                {
                    modes.Add((name, mode));
                }
            }
        });
        listener.Start();

        // The semaphore has no permit: the set's try-once finds it busy.
        var noPermit = Assert.Throws<LockTimeoutException>(() => LockSet.Acquire(TimeSpan.Zero, permits, free));
        Assert.Equal(permits.Name, noPermit.LockName);
        Assert.Contains("1 permit(s) of semaphore 'set-mode-permits'; when it gave up, 0 of its maximum 1 were free.", noPermit.Message, StringComparison.Ordinal);

        // A reader on another thread keeps the write lock from the set.
        using (HeldOnOtherThread.Hold("set-mode-reader", release =>
        {
            using (table.AcquireRead())
            {
                release.Wait();
            }
        }))
        {
            var noWrite = Assert.Throws<LockTimeoutException>(() => LockSet.Acquire(TimeSpan.Zero, table, free));
            Assert.Equal(table.Name, noWrite.LockName);
            Assert.Contains("waiting for write access to 'set-mode-table'", noWrite.Message, StringComparison.Ordinal);
        }

        Assert.Equal([LockMode.Permit, LockMode.Write], events.Where(e => e.LockName.StartsWith("set-mode-", StringComparison.Ordinal)).Select(e => e.Mode));
        Assert.Equal([(permits.Name, "permit"), (table.Name, "write")], modes);
        Assert.False(free.IsHeld);
    }
}
