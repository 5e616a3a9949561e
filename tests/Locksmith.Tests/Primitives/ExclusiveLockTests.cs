using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

public sealed class ExclusiveLockTests
{
    [Fact]
    public void LostUpdate_IsExact()
    {
        var gate = new ExclusiveLock("counter");
        long total = LostUpdate.Run(increment =>
        {
            using var scope = gate.Acquire();
            increment();
        });

        Assert.Equal(LostUpdate.Tasks * LostUpdate.IncrementsPerTask, total);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void ExceptionInsideCriticalSection_LeavesLockReleased()
    {
        var gate = new ExclusiveLock("throwing");
        void Body()
        {
            using var scope = gate.Acquire();
            throw new InvalidOperationException("boom");
        }

        Assert.Throws<InvalidOperationException>(Body);

        Assert.False(gate.IsHeld);
        Assert.True(gate.TryAcquire(out var again));
        again.Dispose();
    }

    [Fact]
    public void Reacquire_OnOwningThread_ThrowsRecursionAtOnce_NamingLockAndThread()
    {
        var gate = new ExclusiveLock("orders");
        using var scope = gate.Acquire();

        var ex = Assert.Throws<LockRecursionException>(() => gate.Acquire());
        Assert.Contains("'orders'", ex.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Throws<LockRecursionException>(() => gate.TryAcquire(out _));
        Assert.True(gate.IsHeldByCurrentThread);
    }

    [Fact]
    public void Release_FromNonOwningThread_Throws_NamingLockAndOwner()
    {
        var gate = new ExclusiveLock("ledger");
        using var scope = gate.Acquire();
        Exception? caught = null;
        var other = Concurrently.Start("intruder", () =>
        {
            try
            {
                gate.Release();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        other.Join();

        var sle = Assert.IsType<SynchronizationLockException>(caught);
        Assert.Contains("'ledger'", sle.Message);
        Assert.Contains("'intruder'", sle.Message);
        Assert.Contains($"held by thread {Environment.CurrentManagedThreadId}", sle.Message);
        Assert.True(gate.IsHeldByCurrentThread);
    }

    [Fact]
    public void Release_WhenNotHeld_Throws()
    {
        var gate = new ExclusiveLock("idle");
        var ex = Assert.Throws<SynchronizationLockException>(gate.Release);
        Assert.Contains("'idle'", ex.Message);
        Assert.Contains("not held", ex.Message);
    }

    [Fact]
    public void DisposingScopeTwice_ReleasesOnce()
    {
        var gate = new ExclusiveLock("twice");
        var scope = gate.Acquire();
        scope.Dispose();
        scope.Dispose();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void HeldLock_TryAcquireWithTimeout_ReturnsFalse_AcquireWithTimeout_ThrowsWithNames()
    {
        var gate = new ExclusiveLock("inventory");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        Assert.False(gate.TryAcquire(TimeSpan.FromMilliseconds(50), out var none));
        Assert.False(none.IsAcquired);

        var ex = Assert.Throws<LockTimeoutException>(() => gate.Acquire(TimeSpan.FromMilliseconds(50)));
        Assert.IsAssignableFrom<TimeoutException>(ex);
        Assert.Equal("inventory", ex.LockName);
        Assert.Equal(holder.ThreadId, ex.OwnerThreadId);
        Assert.True(ex.Waited >= TimeSpan.FromMilliseconds(40));
        Assert.Contains("'inventory'", ex.Message);
        Assert.Contains($"held by thread {holder.ThreadId}", ex.Message);
        Assert.Contains(" ms ", ex.Message);

        holder.Release();
        using var mine = gate.Acquire(TimeSpan.FromSeconds(30));
        Assert.True(gate.IsHeldByCurrentThread);
    }

    [Fact]
    public void CancelledWait_ThrowsOperationCanceled_AndLeavesLockAsItWas()
    {
        var gate = new ExclusiveLock("cancelled");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        using var cts = new CancellationTokenSource();
        Exception? caught = null;
        var waiter = Concurrently.Start("waiter", () =>
        {
            try
            {
                gate.Acquire(Timeout.InfiniteTimeSpan, cts.Token).Dispose();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        SpinWait.SpinUntil(() => waiter.ThreadState.HasFlag(ThreadState.WaitSleepJoin));
        cts.Cancel();
        waiter.Join();

        Assert.IsType<OperationCanceledException>(caught);
        Assert.Equal(holder.ThreadId, gate.OwnerThreadId);
        holder.Release();
        Assert.True(gate.TryAcquire(TimeSpan.FromSeconds(30), out var scope));
        scope.Dispose();
    }

    [Fact]
    public void AlreadyCancelledToken_Throws_EvenWhenFree()
    {
        var gate = new ExclusiveLock("free");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);
        Assert.Throws<OperationCanceledException>(() => gate.Acquire(new CancellationToken(canceled: true)));
    }

    [Fact]
    public void DefaultTimeoutPolicy_AppliesToAcquireWithoutTimeout()
    {
        var gate = new ExclusiveLock("defaulted");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        using var policy = PolicyScope.DefaultTimeout(TimeSpan.FromMilliseconds(30));
        Assert.Throws<LockTimeoutException>(() => gate.Acquire());
    }

    [Fact]
    public void InvalidTimeout_ThrowsArgumentOutOfRange()
    {
        var gate = new ExclusiveLock("args");
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.Acquire(TimeSpan.FromMilliseconds(-5)));
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void TwoThreads_HandOff_ManyTimes_WithoutLosingWakeups()
    {
        var gate = new ExclusiveLock("handoff");
        int inside = 0;
        long entries = 0;
        Concurrently.Run(4, _ =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                using var scope = gate.Acquire();
                Assert.Equal(1, Interlocked.Increment(ref inside));
                entries++;
                Interlocked.Decrement(ref inside);
            }
        });
        Assert.Equal(200_000, entries);
    }
}
