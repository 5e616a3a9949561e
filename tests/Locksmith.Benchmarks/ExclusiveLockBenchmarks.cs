using System.Threading;
using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>Uncontended acquire+release of <see cref="ExclusiveLock"/> against <see cref="Lock"/> and <see cref="Monitor"/>.</summary>
[MemoryDiagnoser]
public class ExclusiveLockBenchmarks
{
    private readonly Lock _bclLock = new();
    private readonly object _monitor = new();
    private readonly ExclusiveLock _exclusive = new("bench");
    private readonly ExclusiveLock _ordered = new("bench-ordered", level: 10);
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
    public void Monitor_()
    {
        lock (_monitor)
        {
            _counter++;
        }
    }

    [Benchmark]
    public void InterlockedIncrement() => Interlocked.Increment(ref _counter);

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
}
