using System.Threading;
using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>Uncontended <see cref="SpinGate"/> against <see cref="SpinLock"/> (with and without owner tracking).</summary>
[MemoryDiagnoser]
public class SpinGateBenchmarks
{
    private readonly SpinGate _gate = new("bench");
    private SpinLock _tracking = new(enableThreadOwnerTracking: true);
    private SpinLock _untracked = new(enableThreadOwnerTracking: false);
    private long _counter;

    [Benchmark(Baseline = true)]
    public void SpinLock_OwnerTracking()
    {
        bool taken = false;
        _tracking.Enter(ref taken);
        _counter++;
        _tracking.Exit();
    }

    [Benchmark]
    public void SpinLock_NoOwnerTracking()
    {
        bool taken = false;
        _untracked.Enter(ref taken);
        _counter++;
        _untracked.Exit(useMemoryBarrier: false);
    }

    [Benchmark]
    public void SpinGate_AcquireRelease()
    {
        using var scope = _gate.Acquire();
        _counter++;
    }
}
