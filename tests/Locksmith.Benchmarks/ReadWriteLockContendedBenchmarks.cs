using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// Two threads only reading: <see cref="ReaderWriterLockSlim"/> keeps its reader count on one cache line;
/// <see cref="ReadWriteLock"/> spreads readers over padded slots. Time is per read; lower is more throughput.
/// </summary>
[MemoryDiagnoser]
public class ReadWriteLockContendedBenchmarks
{
    private const int Operations = 400_000;

    private readonly ReaderWriterLockSlim _slim = new();
    private readonly ReadWriteLock _rw = new("bench");
    private TwoThreads _threads = null!;
    private Action<int> _slimLoop = null!;
    private Action<int> _rwLoop = null!;
    private long _value = 1;
    private long _sink;

    [GlobalSetup]
    public void Setup()
    {
        _threads = new TwoThreads();
        _slimLoop = _ =>
        {
            long sum = 0;
            for (int i = 0; i < Operations / 2; i++)
            {
                _slim.EnterReadLock();
                sum += _value;
                _slim.ExitReadLock();
            }

            Interlocked.Add(ref _sink, sum);
        };
        _rwLoop = _ =>
        {
            long sum = 0;
            for (int i = 0; i < Operations / 2; i++)
            {
                using var scope = _rw.AcquireRead();
                sum += _value;
            }

            Interlocked.Add(ref _sink, sum);
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void ReaderWriterLockSlim_2ThreadsReading() => _threads.Run(_slimLoop);

    [Benchmark(OperationsPerInvoke = Operations)]
    public void ReadWriteLock_2ThreadsReading() => _threads.Run(_rwLoop);
}
