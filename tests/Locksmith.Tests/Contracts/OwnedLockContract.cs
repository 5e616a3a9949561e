using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Contracts;

/// <summary>
/// What every lock with an owner promises (<see cref="ExclusiveLock"/>, <see cref="ReentrantLock"/>,
/// <see cref="SpinGate"/>, the write mode of <see cref="ReadWriteLock"/>), written once and run for each through a
/// small adapter: exclusion, release on exceptions, owner-only release, timeouts and cancellation with names.
/// </summary>
/// <typeparam name="TLock">The lock type.</typeparam>
public abstract class OwnedLockContract<TLock>
    where TLock : LockPrimitive
{
    protected abstract TLock Create(string name);

    /// <summary>Acquires with the default timeout, runs <paramref name="body"/>, releases through the scope.</summary>
    protected abstract void Locked(TLock lockPrimitive, Action body);

    /// <summary>Acquires with the throwing timed form, runs <paramref name="body"/>, releases.</summary>
    protected abstract void LockedWithin(TLock lockPrimitive, TimeSpan timeout, CancellationToken cancellationToken, Action body);

    /// <summary>The Try form: acquires within <paramref name="timeout"/> and releases at once; returns whether it got it.</summary>
    protected abstract bool TryLockBriefly(TLock lockPrimitive, TimeSpan timeout);

    protected abstract void Release(TLock lockPrimitive);

    protected abstract int OwnerThreadId(TLock lockPrimitive);

    /// <summary>Acquires with the default timeout and returns without releasing.</summary>
    protected abstract void AcquireAndKeep(TLock lockPrimitive);

    private bool IsHeld(TLock lockPrimitive) => OwnerThreadId(lockPrimitive) != 0;

    private HeldOnOtherThread HoldElsewhere(TLock lockPrimitive, string threadName = "holder")
    {
        var holder = new HeldOnOtherThread(threadName, release => Locked(lockPrimitive, release.Wait));
        holder.WaitUntilHeld(() => IsHeld(lockPrimitive));
        return holder;
    }

    [Fact]
    public void LostUpdate_IsExact()
    {
        var lockPrimitive = Create("counter");
        long total = LostUpdate.Run(increment => Locked(lockPrimitive, increment));

        Assert.Equal(LostUpdate.Tasks * LostUpdate.IncrementsPerTask, total);
        Assert.False(IsHeld(lockPrimitive));
    }

    [Fact]
    public void ManyThreads_NeverInsideTogether_AndNoWakeUpIsLost()
    {
        var lockPrimitive = Create("handoff");
        int inside = 0;
        long entries = 0;
        Concurrently.Run(4, _ =>
        {
            for (int i = 0; i < 25_000; i++)
            {
                Locked(lockPrimitive, () =>
                {
                    Assert.Equal(1, Interlocked.Increment(ref inside));
                    entries++;
                    Interlocked.Decrement(ref inside);
                });
            }
        });
        Assert.Equal(100_000, entries);
    }

    [Fact]
    public void ExceptionInsideCriticalSection_LeavesLockReleased()
    {
        var lockPrimitive = Create("throwing");
        Assert.Throws<InvalidOperationException>(() => Locked(lockPrimitive, () => throw new InvalidOperationException("boom")));

        Assert.False(IsHeld(lockPrimitive));
        Assert.True(TryLockBriefly(lockPrimitive, TimeSpan.Zero));
    }

    [Fact]
    public void Release_FromNonOwningThread_Throws_NamingLockAndBothThreads()
    {
        var lockPrimitive = Create("ledger");
        AcquireAndKeep(lockPrimitive);
        Exception? caught = null;
        Concurrently.Start("intruder", () =>
        {
            try
            {
                Release(lockPrimitive);
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        }).JoinGuarded();

        var sle = Assert.IsType<SynchronizationLockException>(caught);
        Assert.Contains("'ledger'", sle.Message);
        Assert.Contains("'intruder'", sle.Message);
        Assert.Contains($"held by thread {Environment.CurrentManagedThreadId}", sle.Message);
        Assert.Equal(Environment.CurrentManagedThreadId, OwnerThreadId(lockPrimitive));
        Release(lockPrimitive);
        Assert.False(IsHeld(lockPrimitive));
    }

    [Fact]
    public void Release_WhenNotHeld_Throws_NamingTheLock()
    {
        var lockPrimitive = Create("idle");
        var ex = Assert.ThrowsAny<SynchronizationLockException>(() => Release(lockPrimitive));
        Assert.Contains("'idle'", ex.Message);
    }

    [Fact]
    public void HeldElsewhere_TimedTryReturnsFalse_TimedAcquireThrowsNamingLockOwnerAndWait()
    {
        var lockPrimitive = Create("inventory");
        using var holder = HoldElsewhere(lockPrimitive);

        Assert.False(TryLockBriefly(lockPrimitive, TimeSpan.FromMilliseconds(50)));

        var ex = Assert.Throws<LockTimeoutException>(() => LockedWithin(lockPrimitive, TimeSpan.FromMilliseconds(50), default, () => { }));
        Assert.IsAssignableFrom<TimeoutException>(ex);
        Assert.Equal("inventory", ex.LockName);
        Assert.Equal(holder.ThreadId, ex.OwnerThreadId);
        Assert.Contains("'inventory'", ex.Message);
        Assert.Contains($"held by thread {holder.ThreadId}", ex.Message);

        holder.Release();
        Assert.True(TryLockBriefly(lockPrimitive, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void HeldElsewhere_ThrowingAcquireWithZeroTimeout_Throws_AndNeverRunsTheBody()
    {
        var lockPrimitive = Create("zero");
        using var holder = HoldElsewhere(lockPrimitive);
        bool ran = false;

        var ex = Assert.Throws<LockTimeoutException>(() => LockedWithin(lockPrimitive, TimeSpan.Zero, default, () => ran = true));
        Assert.Equal("zero", ex.LockName);
        using (PolicyScope.DefaultTimeout(TimeSpan.Zero))
        {
            Assert.Throws<LockTimeoutException>(() => Locked(lockPrimitive, () => ran = true));
        }

        Assert.False(ran);
        Assert.Equal(holder.ThreadId, OwnerThreadId(lockPrimitive));
    }

    [Fact]
    public void CancelledWait_ThrowsOperationCanceled_AndLeavesTheLockAsItWas()
    {
        var lockPrimitive = Create("cancelled-wait-lock");
        using var holder = HoldElsewhere(lockPrimitive);
        using var cts = new CancellationTokenSource();
        Exception? caught = null;
        var waiter = Concurrently.Start("waiter", () =>
        {
            try
            {
                LockedWithin(lockPrimitive, Timeout.InfiniteTimeSpan, cts.Token, () => { });
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        Blocked.OnLock(lockPrimitive);
        cts.Cancel();
        waiter.JoinGuarded();

        var canceled = Assert.IsAssignableFrom<OperationCanceledException>(caught);
        Assert.Contains("'cancelled-wait-lock'", canceled.Message, StringComparison.Ordinal);
        Assert.Equal(cts.Token, canceled.CancellationToken);
        Assert.Equal(holder.ThreadId, OwnerThreadId(lockPrimitive));
        holder.Release();
        Assert.True(TryLockBriefly(lockPrimitive, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void AlreadyCancelledToken_Throws_AndDoesNotAcquire()
    {
        var lockPrimitive = Create("precancelled");
        using var holder = HoldElsewhere(lockPrimitive);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            LockedWithin(lockPrimitive, TimeSpan.FromSeconds(30), new CancellationToken(canceled: true), () => { }));
        Assert.Equal(holder.ThreadId, OwnerThreadId(lockPrimitive));
    }

    [Fact]
    public void AlreadyCancelledToken_RefusesEvenAFreeLock_NamingIt()
    {
        var lockPrimitive = Create("precancelled-free-lock");
        bool ran = false;
        var canceled = Assert.ThrowsAny<OperationCanceledException>(() =>
            LockedWithin(lockPrimitive, TimeSpan.FromSeconds(30), new CancellationToken(canceled: true), () => ran = true));

        Assert.False(ran);
        Assert.Contains("'precancelled-free-lock'", canceled.Message, StringComparison.Ordinal);
        Assert.True(canceled.CancellationToken.IsCancellationRequested);
        Assert.Equal(0, OwnerThreadId(lockPrimitive));
        Assert.True(TryLockBriefly(lockPrimitive, TimeSpan.Zero));
    }

    [Fact]
    public void DefaultTimeoutPolicy_AppliesToAcquireWithoutTimeout()
    {
        var lockPrimitive = Create("defaulted");
        using var holder = HoldElsewhere(lockPrimitive);
        using var policy = PolicyScope.DefaultTimeout(TimeSpan.FromMilliseconds(30));
        var ex = Assert.Throws<LockTimeoutException>(() => Locked(lockPrimitive, () => { }));
        Assert.Equal("defaulted", ex.LockName);
    }

    [Fact]
    public void InvalidTimeout_ThrowsArgumentOutOfRange_AndAcquiresNothing()
    {
        var lockPrimitive = Create("args");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LockedWithin(lockPrimitive, TimeSpan.FromMilliseconds(-5), default, () => { }));
        Assert.Equal("timeout", ex.ParamName);
        Assert.Contains("The timeout for 'args' must be", ex.Message, StringComparison.Ordinal);
        Assert.False(IsHeld(lockPrimitive));
    }
}
