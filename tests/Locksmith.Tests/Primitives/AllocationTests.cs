using System;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

/// <summary>
/// Steady-state acquire/release allocates nothing, for every primitive and composite (the benchmarks' MemoryDiagnoser
/// shows the same; this keeps it true on every test run). Warm-up runs first, so one-time allocations (owner records,
/// JIT) are excluded.
/// </summary>
public sealed class AllocationTests
{
    private static long AllocatedBy(Action body) => Allocations.FewestOfThreeWindows(body);

    [Fact]
    public void OwnedLocks_Unordered_AndOrdered_AllocateNothing()
    {
        var exclusive = new ExclusiveLock("x");
        var ordered = new ExclusiveLock("xo", level: 1);
        var reentrant = new ReentrantLock("r", level: 2);
        var gate = new SpinGate("g", level: 3);

        Assert.Equal(0, AllocatedBy(() =>
        {
            using (exclusive.Acquire())
            using (ordered.Acquire())
            using (reentrant.Acquire())
            using (reentrant.Acquire())
            using (gate.Acquire())
            {
            }
        }));
    }

    [Fact]
    public void TimedAndTryForms_AllocateNothing()
    {
        var exclusive = new ExclusiveLock("x");
        var semaphore = new CountingSemaphore(2, 2, "s");
        Assert.Equal(0, AllocatedBy(() =>
        {
            if (exclusive.TryAcquire(TimeSpan.FromSeconds(1), out var scope))
            {
                scope.Dispose();
            }

            using (exclusive.Acquire(TimeSpan.FromSeconds(1)))
            using (semaphore.Acquire(2, TimeSpan.FromSeconds(1)))
            {
            }
        }));
    }

    [Fact]
    public void Composites_AllocateNothing()
    {
        var a = new ExclusiveLock("a", level: 10);
        var b = new ExclusiveLock("b", level: 10);
        var c = new ExclusiveLock("c", level: 11);
        var striped = new StripedLock<int>(64, "striped");
        var stripedRw = new StripedReadWriteLock<string>(16, "striped-rw");
        var counter = new StripedCounter("counter");
        var atomic = new AtomicCounter("atomic");
        // Keys from locals: a Debug build turns a span of constants into an array at the call site, which is the
        // caller's allocation, not the lock's.
        int k1 = 1, k2 = 2, k3 = 3;

        Assert.Equal(0, AllocatedBy(() =>
        {
            using (LockSet.Acquire(b, a))
            {
            }

            using (LockSet.Acquire(TimeSpan.FromSeconds(1), c, b, a))
            {
            }

            using (striped.Acquire(42))
            {
            }

            using (striped.AcquireMany(k1, k2, k3))
            {
            }

            using (stripedRw.AcquireRead("k"))
            {
            }

            counter.Increment();
            atomic.Update(static x => x + 1);
        }));
    }
}
