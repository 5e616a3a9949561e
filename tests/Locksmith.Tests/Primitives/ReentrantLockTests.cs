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
        Concurrently.Start("observer", () => seen = gate.RecursionCount).JoinGuarded();
        Assert.Equal(0, seen);
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
        }).JoinGuarded();
        return !acquired;
    }
}
