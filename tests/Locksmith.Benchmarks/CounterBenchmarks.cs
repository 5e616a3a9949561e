using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// Two threads incrementing one counter: <see cref="Interlocked.Increment(ref long)"/> on one shared field against
/// <see cref="StripedCounter"/> and <see cref="AtomicCounter"/>. Time is per increment; lower is more throughput.
/// </summary>
[MemoryDiagnoser]
public class CounterBenchmarks
{
    private const int Operations = 1_000_000;

    private readonly StripedCounter _striped = new("bench");
    private readonly AtomicCounter _atomic = new("bench");
    private TwoThreads _threads = null!;
    private Action<int> _interlockedLoop = null!;
    private Action<int> _stripedLoop = null!;
    private Action<int> _atomicLoop = null!;
    private long _shared;

    [GlobalSetup]
    public void Setup()
    {
        _threads = new TwoThreads();
        _interlockedLoop = _ =>
        {
            for (int i = 0; i < Operations / 2; i++)
            {
                Interlocked.Increment(ref _shared);
            }
        };
        _stripedLoop = _ =>
        {
            for (int i = 0; i < Operations / 2; i++)
            {
                _striped.Increment();
            }
        };
        _atomicLoop = _ =>
        {
            for (int i = 0; i < Operations / 2; i++)
            {
                _atomic.Increment();
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void InterlockedSharedField_2Threads() => _threads.Run(_interlockedLoop);

    [Benchmark(OperationsPerInvoke = Operations)]
    public void StripedCounter_2Threads() => _threads.Run(_stripedLoop);

    [Benchmark(OperationsPerInvoke = Operations)]
    public void AtomicCounter_2Threads() => _threads.Run(_atomicLoop);
}
