using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

public sealed class CountingSemaphoreTests
{
    [Fact]
    public void LostUpdate_IsExact_WithOnePermit()
    {
        var semaphore = new CountingSemaphore(1, 1, "counter");
        long total = LostUpdate.Run(increment =>
        {
            using var scope = semaphore.Acquire();
            increment();
        });

        Assert.Equal(LostUpdate.Tasks * LostUpdate.IncrementsPerTask, total);
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact]
    public void ExceptionInsideCriticalSection_GivesThePermitBack()
    {
        var semaphore = new CountingSemaphore(1, 1, "throwing");
        void Body()
        {
            using var scope = semaphore.Acquire();
            throw new InvalidOperationException("boom");
        }

        Assert.Throws<InvalidOperationException>(Body);

        Assert.Equal(1, semaphore.CurrentCount);
        Assert.True(semaphore.TryAcquire(out var again));
        again.Dispose();
    }

    [Fact]
    public void NeverMoreThanMaxHolders_UnderStress()
    {
        const int permits = 3;
        var semaphore = new CountingSemaphore(permits, permits, "pool");
        int inside = 0;
        int maxInside = 0;
        long entries = 0;
        Concurrently.Run(4, _ =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                using var scope = semaphore.Acquire();
                int now = Interlocked.Increment(ref inside);
                int seen = Volatile.Read(ref maxInside);
                while (now > seen && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
                {
                    seen = Volatile.Read(ref maxInside);
                }

                Interlocked.Increment(ref entries);
                Interlocked.Decrement(ref inside);
            }
        });

        Assert.Equal(80_000, entries);
        Assert.InRange(maxInside, 1, permits);
        Assert.Equal(permits, semaphore.CurrentCount);
    }

    [Fact]
    public void MixedPermitCounts_UnderStress_NeverExceedMax_AndNeverStrandAWaiter()
    {
        const int permits = 3;
        var semaphore = new CountingSemaphore(permits, permits, "mixed");
        int inUse = 0;
        int maxInUse = 0;
        Concurrently.Run(4, index =>
        {
            int want = index % 2 == 0 ? 1 : 2;
            for (int i = 0; i < 5_000; i++)
            {
                using var scope = semaphore.Acquire(want, TimeSpan.FromSeconds(30));
                int now = Interlocked.Add(ref inUse, want);
                int seen = Volatile.Read(ref maxInUse);
                while (now > seen && Interlocked.CompareExchange(ref maxInUse, now, seen) != seen)
                {
                    seen = Volatile.Read(ref maxInUse);
                }

                Interlocked.Add(ref inUse, -want);
            }
        });

        Assert.InRange(maxInUse, 1, permits);
        Assert.Equal(permits, semaphore.CurrentCount);
    }

    [Fact]
    public void ReleasePastMax_ThrowsSemaphoreFull_NamingIt_AndChangesNothing()
    {
        var semaphore = new CountingSemaphore(1, 2, "slots");
        var ex = Assert.Throws<SemaphoreFullException>(() => semaphore.Release(2));
        Assert.Contains("'slots'", ex.Message);
        Assert.Contains("2 permit(s)", ex.Message);
        // The arithmetic, as the timeouts give the counts ("1 of its maximum 2 free"); it read "which already has 1 of its
        // maximum 2", and "already has 0" of a release of more than the maximum from 0.
        Assert.Contains("which has 1 of its maximum 2 free: that would make 3.", ex.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Equal(1, semaphore.CurrentCount);

        semaphore.Release();
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());

        var empty = new CountingSemaphore(0, 8, "empty-slots");
        var tooMany = Assert.Throws<SemaphoreFullException>(() => empty.Release(9));
        Assert.Contains("released 9 permit(s) of semaphore 'empty-slots', which has 0 of its maximum 8 free: that would make 9.", tooMany.Message);
        Assert.Equal(0, empty.CurrentCount);
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact]
    public void PermitReleasedByAnotherThread_WakesAWaiter()
    {
        var semaphore = new CountingSemaphore(0, 1, "signal");
        bool acquired = false;
        var waiter = Concurrently.Start("waiter", () =>
        {
            using var scope = semaphore.Acquire(TimeSpan.FromSeconds(30));
            acquired = true;
        });
        Blocked.OnLock(semaphore);

        semaphore.Release();
        waiter.JoinGuarded();

        Assert.True(acquired);
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact]
    public void PingPong_BetweenThreads_LosesNoSignal()
    {
        var ping = new CountingSemaphore(0, 1, "ping");
        var pong = new CountingSemaphore(0, 1, "pong");
        const int rounds = 10_000;
        var partner = Concurrently.Start("partner", () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                // The permit is consumed, not given back: it is the signal.
                ping.Acquire(TimeSpan.FromSeconds(30));
                pong.Release();
            }
        });

        for (int i = 0; i < rounds; i++)
        {
            ping.Release();
            Assert.True(pong.TryAcquire(TimeSpan.FromSeconds(30), out _));
        }

        partner.JoinGuarded();
        Assert.Equal(0, ping.CurrentCount);
        Assert.Equal(0, pong.CurrentCount);
    }

    [Fact]
    public void AcquireCount_TakesSeveralPermits_AndTheScopeGivesThemAllBack()
    {
        var semaphore = new CountingSemaphore(5, 5, "bulk");
        using (var scope = semaphore.Acquire(3))
        {
            Assert.Equal(3, scope.Count);
            Assert.Equal(2, semaphore.CurrentCount);
            Assert.False(semaphore.TryAcquire(3, out var tooMany));
            Assert.False(tooMany.IsAcquired);
            Assert.True(semaphore.TryAcquire(2, out var rest));
            Assert.Equal(0, semaphore.CurrentCount);
            rest.Dispose();
        }

        Assert.Equal(5, semaphore.CurrentCount);
    }

    [Fact]
    public void WaiterForSeveralPermits_IsWokenWhenEnoughAreReleased()
    {
        var semaphore = new CountingSemaphore(0, 3, "several");
        bool acquired = false;
        var waiter = Concurrently.Start("bulk-waiter", () =>
        {
            using var scope = semaphore.Acquire(2, TimeSpan.FromSeconds(30));
            acquired = true;
        });
        Blocked.OnLock(semaphore);

        semaphore.Release();
        semaphore.Release();
        waiter.JoinGuarded();

        Assert.True(acquired);
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact]
    public void NoPermits_TimedTryAcquireReturnsFalse_AndTimedAcquireThrowsNamingTheSemaphore()
    {
        var semaphore = new CountingSemaphore(0, 2, "empty");

        Assert.False(semaphore.TryAcquire(TimeSpan.FromMilliseconds(50), out var none));
        Assert.False(none.IsAcquired);

        var ex = Assert.Throws<LockTimeoutException>(() => semaphore.Acquire(TimeSpan.FromMilliseconds(50)));
        Assert.Equal("empty", ex.LockName);
        Assert.Equal(0, ex.OwnerThreadId);
        Assert.Contains("'empty'", ex.Message);
        Assert.Contains("0 of its maximum 2", ex.Message);
        Assert.Equal(0, semaphore.CurrentCount);
    }

    [Fact]
    public void ATimeout_DescribesTheCountItSawWhenItGaveUp_NotPermitsGivenBackAfter()
    {
        // Before, the message read the count when it was built, after the timeout event: permits given back in between
        // made it say "which had 5 of its maximum 8 free" of a wait for one permit that had just timed out.
        using var policy = PolicyScope.Capture();
        var tryOnce = new CountingSemaphore(0, 8, "gave-up-try-once");
        var blocked = new CountingSemaphore(0, 8, "gave-up-blocked");
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            // Another thread's permits come back just as the timeout is reported.
            (e.LockName == tryOnce.Name ? tryOnce : e.LockName == blocked.Name ? blocked : null)?.Release(5);
        };

        var once = Assert.Throws<LockTimeoutException>(() => tryOnce.Acquire(TimeSpan.Zero));
        var waited = Assert.Throws<LockTimeoutException>(() => blocked.Acquire(TimeSpan.FromMilliseconds(20)));

        Assert.Contains("waiting for 1 permit(s) of semaphore 'gave-up-try-once'; when it gave up, 0 of its maximum 8 were free.", once.Message, StringComparison.Ordinal);
        Assert.Contains("waiting for 1 permit(s) of semaphore 'gave-up-blocked'; when it gave up, 0 of its maximum 8 were free.", waited.Message, StringComparison.Ordinal);
        Assert.Equal(5, tryOnce.CurrentCount);
        Assert.Equal(5, blocked.CurrentCount);
    }

    [Fact]
    public void CancelledWait_ThrowsOperationCanceled_AndLeavesTheCountAsItWas()
    {
        var semaphore = new CountingSemaphore(1, 3, "cancelled");
        using var cts = new CancellationTokenSource();
        Exception? caught = null;
        var waiter = Concurrently.Start("waiter", () =>
        {
            try
            {
                semaphore.Acquire(2, Timeout.InfiniteTimeSpan, cts.Token).Dispose();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        Blocked.OnLock(semaphore);
        cts.Cancel();
        waiter.JoinGuarded();

        Assert.IsType<OperationCanceledException>(caught);
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Throws<OperationCanceledException>(() => semaphore.Acquire(2, new CancellationToken(canceled: true)));
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact]
    public void InvalidArguments_ThrowArgumentOutOfRange()
    {
        Assert.Equal("maxCount", Assert.Throws<ArgumentOutOfRangeException>(() => new CountingSemaphore(0, 0)).ParamName);
        Assert.Equal("initialCount", Assert.Throws<ArgumentOutOfRangeException>(() => new CountingSemaphore(-1, 2)).ParamName);

        // Named, as every message of the semaphore is (a trial saw only "initialCount ('3') must be less than or equal to '2'").
        var overFull = Assert.Throws<ArgumentOutOfRangeException>(() => new CountingSemaphore(3, 2, "pool", level: 4));
        Assert.Equal("initialCount", overFull.ParamName);
        Assert.StartsWith("Semaphore 'pool' (level 4): initialCount must be from 0 to maxCount (2).", overFull.Message, StringComparison.Ordinal);

        var semaphore = new CountingSemaphore(2, 2, "args");
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Acquire(3));
        Assert.Contains("'args'", tooMany.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Acquire(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.TryAcquire(-1, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Release(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Acquire(TimeSpan.FromMilliseconds(-5)));
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact]
    public void OrderedSemaphore_ChecksOrderBeforeWaiting_ButIsNotRecordedAsHeld()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var semaphore = new CountingSemaphore(2, 2, "ordered", level: 1);
        var high = new ExclusiveLock("high", level: 2);

        using (var held = high.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => semaphore.Acquire());
        }

        // Not on the held stack: a lower lock after it is allowed, and a release on another thread is fine.
        semaphore.Acquire();
        using (var low = new ExclusiveLock("low", level: 0).Acquire())
        {
            Assert.Equal(1, semaphore.CurrentCount);
        }

        Concurrently.Start("releaser", () => semaphore.Release()).JoinGuarded();
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact]
    public void NoPermits_ThrowingAcquireWithZeroTimeout_Throws_AndTakesNothing()
    {
        var semaphore = new CountingSemaphore(0, 2, "empty");
        Assert.Throws<LockTimeoutException>(() => semaphore.Acquire(TimeSpan.Zero));
        Assert.Throws<LockTimeoutException>(() => semaphore.Acquire(2, TimeSpan.Zero));
        Assert.Equal(0, semaphore.CurrentCount);
        semaphore.Release(2);
        Assert.Equal(2, semaphore.CurrentCount);
    }
}
