using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Locksmith.Benchmarks;

/// <summary>
/// What lock-order checking costs an async flow: uncontended acquire+release of an <see cref="AsyncExclusiveLock"/>
/// with a level against the same lock without one, alone and nested in an outer lock of a lower level (where the
/// check really compares levels). Per pair (or nested pair) of acquire+release.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class AsyncOrderBenchmarks
{
    private const int Operations = 1_000;

    private readonly AsyncExclusiveLock _plain = new("bench-async-plain");
    private readonly AsyncExclusiveLock _plainInner = new("bench-async-plain-inner");
    private readonly AsyncExclusiveLock _ordered = new("bench-async-ordered", level: 10);
    private readonly AsyncExclusiveLock _orderedInner = new("bench-async-ordered-inner", level: 20);
    private long _counter;

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations), BenchmarkCategory("One")]
    public async Task Unordered()
    {
        for (int i = 0; i < Operations; i++)
        {
            using (await _plain.AcquireAsync())
            {
                _counter++;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("One")]
    public async Task Ordered()
    {
        for (int i = 0; i < Operations; i++)
        {
            using (await _ordered.AcquireAsync())
            {
                _counter++;
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations), BenchmarkCategory("Nested")]
    public async Task Unordered_Nested()
    {
        for (int i = 0; i < Operations; i++)
        {
            using (await _plain.AcquireAsync())
            using (await _plainInner.AcquireAsync())
            {
                _counter++;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("Nested")]
    public async Task Ordered_Nested()
    {
        for (int i = 0; i < Operations; i++)
        {
            using (await _ordered.AcquireAsync())
            using (await _orderedInner.AcquireAsync())
            {
                _counter++;
            }
        }
    }
}
