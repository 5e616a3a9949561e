using System.Collections.Generic;
using System.Threading;
using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>
/// What one watchdog scan costs when nothing waits (the hosting watchdog runs one per interval), next to one
/// uncontended acquire and release of a sync lock for scale.
/// </summary>
[MemoryDiagnoser]
public class DeadlockScanBenchmarks
{
    private readonly List<object> _locks = new();
    private readonly ExclusiveLock _gate = new("scan-scale");

    [GlobalSetup]
    public void Setup()
    {
        // A service's worth of idle locks of both kinds, so the scan walks something.
        for (int i = 0; i < 50; i++)
        {
            _locks.Add(new ExclusiveLock($"scan-sync-{i}"));
            _locks.Add(new AsyncExclusiveLock($"scan-async-{i}"));
        }

        using var warm = _gate.Acquire();
    }

    [Benchmark(Baseline = true)]
    public void AcquireRelease()
    {
        using var scope = _gate.Acquire();
    }

    [Benchmark]
    public int FindCycles_NothingWaiting() => DeadlockDetector.FindCycles().Count;
}
