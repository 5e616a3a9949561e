using System;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Benchmarks;

/// <summary>
/// A lock resolved from a container (declared through <c>AddLocksmith</c>, resolved as a keyed service, recording into
/// the container's <c>IMeterFactory</c> meter) against one created with <c>new</c> (recording into the process-wide
/// meter): an uncontended acquire and release. Target: at most 1.05× the baseline, 0 B.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class HostedLockBenchmarks
{
    private ServiceProvider _services = null!;
    private ExclusiveLock _newExclusive = null!;
    private ExclusiveLock _hostedExclusive = null!;
    private AsyncExclusiveLock _newAsync = null!;
    private AsyncExclusiveLock _hostedAsync = null!;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLocksmith()
            .AddExclusiveLock("hosted-exclusive")
            .AddAsyncExclusiveLock("hosted-async");
        _services = services.BuildServiceProvider();
        _hostedExclusive = _services.GetRequiredKeyedService<ExclusiveLock>("hosted-exclusive");
        _hostedAsync = _services.GetRequiredKeyedService<AsyncExclusiveLock>("hosted-async");
        // Measure the per-container path, not a lock left on the process-wide meter.
        if (_hostedExclusive.Instruments is null || _hostedAsync.Instruments is null)
        {
            throw new InvalidOperationException("The hosted locks are not bound to the container's meter.");
        }

        _newExclusive = new ExclusiveLock("new-exclusive");
        _newAsync = new AsyncExclusiveLock("new-async");
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true), BenchmarkCategory("Exclusive")]
    public void New_ExclusiveLock()
    {
        using var scope = _newExclusive.Acquire();
        _counter++;
    }

    [Benchmark, BenchmarkCategory("Exclusive")]
    public void Hosted_ExclusiveLock()
    {
        using var scope = _hostedExclusive.Acquire();
        _counter++;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("AsyncExclusive")]
    public async ValueTask New_AsyncExclusiveLock()
    {
        using var scope = await _newAsync.AcquireAsync();
        _counter++;
    }

    [Benchmark, BenchmarkCategory("AsyncExclusive")]
    public async ValueTask Hosted_AsyncExclusiveLock()
    {
        using var scope = await _hostedAsync.AcquireAsync();
        _counter++;
    }
}
