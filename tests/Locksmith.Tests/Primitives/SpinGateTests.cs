using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

public sealed class SpinGateTests
{
    [Fact]
    public void LostUpdate_IsExact()
    {
        var gate = new SpinGate("counter");
        long total = LostUpdate.Run(increment =>
        {
            using var scope = gate.Acquire();
            increment();
        });

        Assert.Equal(LostUpdate.Tasks * LostUpdate.IncrementsPerTask, total);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void ManyThreads_NeverInsideTogether()
    {
        var gate = new SpinGate("mutual");
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
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void ExceptionInsideCriticalSection_LeavesGateReleased()
    {
        var gate = new SpinGate("throwing");
        void Body()
        {
            using var scope = gate.Acquire();
            throw new InvalidOperationException("boom");
        }

        Assert.Throws<InvalidOperationException>(Body);

        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.OwnerThreadId);
        Assert.True(gate.TryAcquire(out var again));
        again.Dispose();
    }

    [Fact]
    public void Acquire_RecordsOwner_AndKind()
    {
        var gate = new SpinGate("owned");
        Assert.Equal(LockKind.Spin, gate.Kind);
        using (var scope = gate.Acquire())
        {
            Assert.True(scope.IsAcquired);
            Assert.True(gate.IsHeld);
            Assert.True(gate.IsHeldByCurrentThread);
            Assert.Equal(Environment.CurrentManagedThreadId, gate.OwnerThreadId);
            Assert.Equal(Environment.CurrentManagedThreadId, gate.ExclusiveOwnerId);
        }

        Assert.False(gate.IsHeldByCurrentThread);
        Assert.Equal(0, gate.ExclusiveOwnerId);
    }

    [Fact]
    public void Reacquire_OnOwningThread_ThrowsRecursionAtOnce_NamingGateAndThread()
    {
        var gate = new SpinGate("hot-path");
        using var scope = gate.Acquire();

        var ex = Assert.Throws<LockRecursionException>(() => gate.Acquire());
        Assert.Contains("'hot-path'", ex.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Throws<LockRecursionException>(() => gate.TryAcquire(out _));
        Assert.Throws<LockRecursionException>(() => gate.Acquire(Timeout.InfiniteTimeSpan));
        Assert.True(gate.IsHeldByCurrentThread);
    }

    [Fact]
    public void Release_FromNonOwningThread_Throws_NamingGateAndBothThreads()
    {
        var gate = new SpinGate("ledger");
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
        var gate = new SpinGate("idle");
        var ex = Assert.Throws<SynchronizationLockException>(gate.Release);
        Assert.Contains("'idle'", ex.Message);
        Assert.Contains("not held", ex.Message);
    }

    [Fact]
    public void DisposingScopeTwice_ReleasesOnce()
    {
        var gate = new SpinGate("twice");
        var scope = gate.Acquire();
        scope.Dispose();
        scope.Dispose();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void HeldOnOtherThread_TryAcquireWithTimeout_ReturnsFalse_AcquireWithTimeout_ThrowsWithNames()
    {
        var gate = new SpinGate("inventory");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        Assert.False(gate.TryAcquire(out var immediate));
        Assert.False(immediate.IsAcquired);
        Assert.False(gate.TryAcquire(TimeSpan.FromMilliseconds(50), out var none));
        Assert.False(none.IsAcquired);

        var ex = Assert.Throws<LockTimeoutException>(() => gate.Acquire(TimeSpan.FromMilliseconds(50)));
        Assert.Equal("inventory", ex.LockName);
        Assert.Equal(holder.ThreadId, ex.OwnerThreadId);
        Assert.Contains("'inventory'", ex.Message);
        Assert.Contains($"held by thread {holder.ThreadId}", ex.Message);
        Assert.Equal(holder.ThreadId, gate.OwnerThreadId);

        holder.Release();
        using var mine = gate.Acquire(TimeSpan.FromSeconds(30));
        Assert.True(gate.IsHeldByCurrentThread);
    }

    [Fact]
    public void CancelledWhileSpinning_ThrowsOperationCanceled_AndLeavesGateAsItWas()
    {
        var gate = new SpinGate("cancelled");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        using var cts = new CancellationTokenSource();
        int waiterId = 0;
        Exception? caught = null;
        var waiter = Concurrently.Start("waiter", () =>
        {
            Volatile.Write(ref waiterId, Environment.CurrentManagedThreadId);
            try
            {
                gate.Acquire(Timeout.InfiniteTimeSpan, cts.Token).Dispose();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        // A long spin registers as a wait for the deadlock detector: cancel once the waiter is in it.
        Assert.True(SpinWait.SpinUntil(
            () => Volatile.Read(ref waiterId) != 0 && LockOwner.Find(waiterId)?.WaitingFor == gate, TimeSpan.FromSeconds(30)));
        cts.Cancel();
        Assert.True(waiter.Join(TimeSpan.FromSeconds(30)), "The spinning waiter did not observe the cancellation.");

        Assert.IsType<OperationCanceledException>(caught);
        Assert.Equal(holder.ThreadId, gate.OwnerThreadId);
        holder.Release();
        Assert.False(gate.IsHeld);
        Assert.True(gate.TryAcquire(TimeSpan.FromSeconds(30), out var scope));
        scope.Dispose();
    }

    [Fact]
    public void AlreadyCancelledToken_Throws_AndDoesNotAcquire()
    {
        var gate = new SpinGate("precancelled");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        Assert.Throws<OperationCanceledException>(() => gate.Acquire(new CancellationToken(canceled: true)));
        Assert.Throws<OperationCanceledException>(() => gate.TryAcquire(TimeSpan.FromSeconds(30), new CancellationToken(canceled: true), out _));
        Assert.Equal(holder.ThreadId, gate.OwnerThreadId);
    }

    [Fact]
    public void DefaultTimeoutPolicy_AppliesToAcquireWithoutTimeout()
    {
        var gate = new SpinGate("defaulted");
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
        var gate = new SpinGate("args");
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.Acquire(TimeSpan.FromMilliseconds(-5)));
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void OrderedGates_AcquiredOutOfOrder_Throw_BeforeSpinning()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var low = new SpinGate("low", level: 1);
        var high = new SpinGate("high", level: 2);

        using (var outer = low.Acquire())
        using (var inner = high.Acquire())
        {
            Assert.True(high.IsHeldByCurrentThread);
        }

        using var h = high.Acquire();
        var ex = Assert.Throws<LockOrderViolationException>(() => low.Acquire());
        Assert.Contains("low", ex.Message);
        Assert.False(low.IsHeld);
    }

    [Fact]
    public void EnterForSet_AndExitForSet_TakeAndReleaseTheGate()
    {
        var gate = new SpinGate("set-member", level: 5);
        Assert.True(gate.EnterForSet(0, default));
        Assert.True(gate.IsHeldByCurrentThread);
        gate.ExitForSet();
        Assert.False(gate.IsHeld);
    }
}
