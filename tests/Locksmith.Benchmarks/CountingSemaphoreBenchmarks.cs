using System.Threading;
using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>Uncontended acquire+release of one permit: <see cref="CountingSemaphore"/> against <see cref="SemaphoreSlim"/>.</summary>
[MemoryDiagnoser]
public class CountingSemaphoreBenchmarks
{
    private readonly SemaphoreSlim _slim = new(4, 4);
    private readonly CountingSemaphore _semaphore = new(4, 4, "bench");
    private long _counter;

    [Benchmark(Baseline = true)]
    public void SemaphoreSlim_WaitRelease()
    {
        _slim.Wait();
        _counter++;
        _slim.Release();
    }

    [Benchmark]
    public void CountingSemaphore_AcquireRelease()
    {
        using var scope = _semaphore.Acquire();
        _counter++;
    }
}
