using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

public sealed class SpinGateTests
{
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
    public void DisposingScopeTwice_ReleasesOnce()
    {
        var gate = new SpinGate("twice");
        var scope = gate.Acquire();
        scope.Dispose();
        scope.Dispose();
        Assert.False(gate.IsHeld);
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
