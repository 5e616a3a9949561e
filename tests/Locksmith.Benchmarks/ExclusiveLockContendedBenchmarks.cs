using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// Two threads hammer one lock; each invocation is <see cref="Operations"/> acquire+release pairs in all, so the
/// reported time is per operation and lower means more throughput.
/// </summary>
[MemoryDiagnoser]
public class ExclusiveLockContendedBenchmarks
{
    private const int Operations = 200_000;

    private readonly Lock _bclLock = new();
    private readonly ExclusiveLock _exclusive = new("contended");
    private TwoThreads _threads = null!;
    private Action<int> _bclLoop = null!;
    private Action<int> _exclusiveLoop = null!;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _threads = new TwoThreads();
        _bclLoop = _ =>
        {
            for (int i = 0; i < Operations / 2; i++)
            {
                using (_bclLock.EnterScope())
                {
                    _counter++;
                }
            }
        };
        _exclusiveLoop = _ =>
        {
            for (int i = 0; i < Operations / 2; i++)
            {
                using var scope = _exclusive.Acquire();
                _counter++;
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void SystemThreadingLock_2Threads() => _threads.Run(_bclLoop);

    [Benchmark(OperationsPerInvoke = Operations)]
    public void ExclusiveLock_2Threads() => _threads.Run(_exclusiveLoop);
}
