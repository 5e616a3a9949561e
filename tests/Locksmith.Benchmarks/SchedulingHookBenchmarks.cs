using System.Threading;
using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>
/// What the controlled scheduler's hooks (Locksmith.Testing) cost outside a controlled run: uncontended acquire+release
/// of the primitives whose fast paths test the hook flag, and an <see cref="AtomicCounter"/> update. Run this class on
/// main and on a branch that changes the hooks, and compare each row's ratio to <see cref="SystemThreadingLock"/> (the
/// baseline, the same code in both builds, so the ratio cancels most of the machine's drift between the two runs).
/// </summary>
[MemoryDiagnoser]
public class SchedulingHookBenchmarks
{
    private readonly Lock _bclLock = new();
    private readonly ExclusiveLock _exclusive = new("bench");
    private readonly ExclusiveLock _ordered = new("bench-ordered", level: 10);
    private readonly AsyncExclusiveLock _asyncExclusive = new("bench-async");
    private readonly CountingSemaphore _semaphore = new(4, 4, "bench-semaphore");
    private readonly AtomicCounter _atomic = new("bench-counter");
    private readonly ReentrantLock _reentrant = new("bench-reentrant");
    private readonly ReadWriteLock _readWrite = new("bench-rw");
    private readonly SpinGate _spinGate = new("bench-spin");
    private long _counter;

    [Benchmark(Baseline = true)]
    public void SystemThreadingLock()
    {
        using (_bclLock.EnterScope())
        {
            _counter++;
        }
    }

    [Benchmark]
    public void ExclusiveLock()
    {
        using var scope = _exclusive.Acquire();
        _counter++;
    }

    [Benchmark]
    public void ExclusiveLock_Ordered()
    {
        using var scope = _ordered.Acquire();
        _counter++;
    }

    [Benchmark]
    public void AsyncExclusiveLock()
    {
        // Uncontended, the acquisition completes synchronously: no await machinery in the measurement.
#pragma warning disable LSM0063 // uncontended and single-threaded: the acquisition completes synchronously
        using var scope = _asyncExclusive.AcquireAsync().GetAwaiter().GetResult();
#pragma warning restore LSM0063
        _counter++;
    }

    [Benchmark]
    public void CountingSemaphore()
    {
        using var scope = _semaphore.Acquire();
        _counter++;
    }

    [Benchmark]
    public void CountingSemaphore_Async()
    {
#pragma warning disable LSM0063 // uncontended and single-threaded: the acquisition completes synchronously
        using var scope = _semaphore.AcquireAsync().GetAwaiter().GetResult();
#pragma warning restore LSM0063
        _counter++;
    }

    [Benchmark]
    public long AtomicCounter_Increment() => _atomic.Increment();

    // Main's AtomicCounter.Increment was exactly this: the same process measures the hook's null check against it.
    [Benchmark]
    public long Interlocked_Increment_MainAtomicCounter() => Interlocked.Increment(ref _counter);

    [Benchmark]
    public void ReentrantLock()
    {
        using var scope = _reentrant.Acquire();
        _counter++;
    }

    [Benchmark]
    public void ReadWriteLock_Read()
    {
        using var scope = _readWrite.AcquireRead();
        _counter++;
    }

    [Benchmark]
    public void ReadWriteLock_Write()
    {
        using var scope = _readWrite.AcquireWrite();
        _counter++;
    }

    [Benchmark]
    public void SpinGate()
    {
        using var scope = _spinGate.Acquire();
        _counter++;
    }
}
