using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Locksmith.Benchmarks;

/// <summary>Uncontended <see cref="ReentrantLock"/> against <see cref="System.Threading.Monitor"/>, once and re-entered.</summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ReentrantLockBenchmarks
{
    private readonly object _monitor = new();
    private readonly ReentrantLock _reentrant = new("bench");
    private long _counter;

    [Benchmark(Baseline = true), BenchmarkCategory("Once")]
    public void Monitor_Once()
    {
        lock (_monitor)
        {
            _counter++;
        }
    }

    [Benchmark, BenchmarkCategory("Once")]
    public void ReentrantLock_Once()
    {
        using var scope = _reentrant.Acquire();
        _counter++;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Reentered")]
    public void Monitor_Reentered()
    {
        lock (_monitor)
        {
            lock (_monitor)
            {
                _counter++;
            }
        }
    }

    [Benchmark, BenchmarkCategory("Reentered")]
    public void ReentrantLock_Reentered()
    {
        using var outer = _reentrant.Acquire();
        using var inner = _reentrant.Acquire();
        _counter++;
    }
}
