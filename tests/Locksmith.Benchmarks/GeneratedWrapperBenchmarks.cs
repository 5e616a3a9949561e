using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>
/// A generated wrapper against the same call written by hand with a <c>using</c> scope on the same primitive:
/// the wrapper's extra work is one <c>EnsureDeclared</c> field read, so it should cost ≤ 1.05× and allocate nothing.
/// </summary>
[MemoryDiagnoser]
public partial class GeneratedWrapperBenchmarks
{
    [LockOrder(10)]
    private readonly ExclusiveLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private long _counter;

    /// <summary>
    /// One wrapper call applies the [LockOrder] declaration, so both benchmarks (each in its own process) run on the
    /// same ordered, named lock.
    /// </summary>
    [GlobalSetup]
    public void Setup() => Increment();

    [Benchmark(Baseline = true)]
    public void HandWrittenScope()
    {
        using var scope = _lock.Acquire();
        _counter++;
    }

    [Benchmark]
    public void GeneratedWrapper() => Increment();

    [Guarded(Lock = nameof(_lock))]
    private void IncrementCore() => _counter++;
}
