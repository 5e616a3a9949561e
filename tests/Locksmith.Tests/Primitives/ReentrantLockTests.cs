using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

public sealed class ReentrantLockTests
{
    [Fact]
    public void LostUpdate_IsExact_WithNestedReentry()
    {
        var gate = new ReentrantLock("counter");
        long total = LostUpdate.Run(increment =>
        {
            using var outer = gate.Acquire();
            using var inner = gate.Acquire();
            Assert.Equal(2, gate.RecursionCount);
            increment();
        });

        Assert.Equal(LostUpdate.Tasks * LostUpdate.IncrementsPerTask, total);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void ExceptionInsideCriticalSection_LeavesLockReleased()
    {
        var gate = new ReentrantLock("throwing");
        void Body()
        {
            using var outer = gate.Acquire();
            using var inner = gate.Acquire();
            throw new InvalidOperationException("boom");
        }

        Assert.Throws<InvalidOperationException>(Body);

        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.RecursionCount);
        bool acquiredElsewhere = false;
        Concurrently.Start("next", () =>
        {
            acquiredElsewhere = gate.TryAcquire(out var scope);
            scope.Dispose();
        }).Join();
        Assert.True(acquiredElsewhere);
    }

    [Fact]
    public void Reentry_CountsDepth_AndFreesOnlyAfterAsManyReleases()
    {
        var gate = new ReentrantLock("depth");
        Assert.Equal(0, gate.RecursionCount);
        Assert.False(gate.IsHeldByCurrentThread);

        var first = gate.Acquire();
        Assert.True(gate.TryAcquire(out var second));
        Assert.True(gate.TryAcquire(TimeSpan.FromMilliseconds(10), out var third));
        Assert.Equal(3, gate.RecursionCount);
        Assert.True(gate.IsHeldByCurrentThread);
        Assert.Equal(Environment.CurrentManagedThreadId, gate.OwnerThreadId);

        third.Dispose();
        Assert.Equal(2, gate.RecursionCount);
        second.Dispose();
        Assert.Equal(1, gate.RecursionCount);
        Assert.True(gate.IsHeld);
        Assert.True(IsHeldAsSeenFromAnotherThread(gate));

        first.Dispose();
        first.Dispose();
        Assert.Equal(0, gate.RecursionCount);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.OwnerThreadId);
        Assert.False(IsHeldAsSeenFromAnotherThread(gate));
    }

    [Fact]
    public void RecursionCount_IsZero_OnAThreadThatDoesNotHoldIt()
    {
        var gate = new ReentrantLock("other");
        using var scope = gate.Acquire();
        int seen = -1;
        Concurrently.Start("observer", () => seen = gate.RecursionCount).Join();
        Assert.Equal(0, seen);
    }

    [Fact]
    public void Release_FromNonOwningThread_Throws_NamingLockAndOwner()
    {
        var gate = new ReentrantLock("ledger");
        using var scope = gate.Acquire();
        Exception? caught = null;
        Concurrently.Start("intruder", () =>
        {
            try
            {
                gate.Release();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        }).Join();

        var sle = Assert.IsType<SynchronizationLockException>(caught);
        Assert.Contains("'ledger'", sle.Message);
        Assert.Contains("'intruder'", sle.Message);
        Assert.Contains($"held by thread {Environment.CurrentManagedThreadId}", sle.Message);
        Assert.Equal(1, gate.RecursionCount);
    }

    [Fact]
    public void Release_WhenNotHeld_Throws()
    {
        var gate = new ReentrantLock("idle");
        var ex = Assert.Throws<SynchronizationLockException>(gate.Release);
        Assert.Contains("'idle'", ex.Message);
        Assert.Contains("not held", ex.Message);
    }

    [Fact]
    public void HeldLock_TryAcquireWithTimeout_ReturnsFalse_AcquireWithTimeout_ThrowsWithNames()
    {
        var gate = new ReentrantLock("inventory");
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var outer = gate.Acquire();
            using var inner = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        Assert.False(gate.TryAcquire(TimeSpan.FromMilliseconds(50), out var none));
        Assert.False(none.IsAcquired);

        var ex = Assert.Throws<LockTimeoutException>(() => gate.Acquire(TimeSpan.FromMilliseconds(50)));
        Assert.Equal("inventory", ex.LockName);
        Assert.Equal(holder.ThreadId, ex.OwnerThreadId);
        Assert.Contains("'inventory'", ex.Message);
        Assert.Contains($"held by thread {holder.ThreadId}", ex.Message);

        holder.Release();
        using var mine = gate.Acquire(TimeSpan.FromSeconds(30));
        Assert.Equal(1, gate.RecursionCount);
    }

    [Fact]
    public void CancelledWait_ThrowsOperationCanceled_AndLeavesLockAsItWas()
    {
        var gate = new ReentrantLock("cancelled");
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
    public void OrderedReentry_IsNotAnOrderViolation_AndKeepsTheHeldStackBalanced()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var low = new ReentrantLock("low", level: 1);
        var high = new ReentrantLock("high", level: 2);

        using (var a = low.Acquire())
        {
            using var b = high.Acquire();
            using var again = low.Acquire();
            Assert.Equal(2, low.RecursionCount);
        }

        // Balanced: with both released, taking them in either order is legal again.
        using (var b = high.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => low.Acquire());
        }

        using var first = low.Acquire();
        using var second = high.Acquire();
    }

    [Fact]
    public void ManyThreads_WithNesting_HandOffWithoutLosingWakeups()
    {
        var gate = new ReentrantLock("handoff");
        int inside = 0;
        long entries = 0;
        Concurrently.Run(4, _ =>
        {
            for (int i = 0; i < 40_000; i++)
            {
                using var outer = gate.Acquire();
                Assert.Equal(1, Interlocked.Increment(ref inside));
                using (var inner = gate.Acquire())
                {
                    entries++;
                }

                Interlocked.Decrement(ref inside);
            }
        });
        Assert.Equal(160_000, entries);
        Assert.False(gate.IsHeld);
    }

    private static bool IsHeldAsSeenFromAnotherThread(ReentrantLock gate)
    {
        bool acquired = true;
        Concurrently.Start("probe", () =>
        {
            acquired = gate.TryAcquire(out var scope);
            scope.Dispose();
        }).Join();
        return !acquired;
    }
}
