using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// <see cref="Threads"/> threads on one read-write lock around the short (~50 ns) <see cref="CriticalSection"/>:
/// a 95 % read / 5 % write mix (category Mix95) and writes only (category Write), <see cref="ReadWriteLock"/>
/// (default policy) against <see cref="ReaderWriterLockSlim"/>. Time is per acquire+section+release across all
/// threads; the Ratio column is relative to <see cref="ReaderWriterLockSlim"/> within each category and thread count.
/// </summary>
/// <remarks>
/// The mix is deterministic: on each thread every 20th operation is a write, the threads offset from one another so
/// their writes do not line up. A writer bumps two shared fields on either side of its section; a reader that sees
/// them differ (a writer ran beside it) or a write count that is not exact fails the run.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class ReadWriteMixBenchmarks
{
    private const string Mix = "Mix95";
    private const string Write = "Write";

    // Divisible by 4 threads × 20 (the write period), so every thread does a whole number of write periods; about
    // 100 ms an invocation on the 2-core machine (measured: ~50–100 ns per operation).
    private const int MixOps = 1_600_000;
    private const int WriteOps = 1_200_000;
    private const int WritePeriod = 20;

    private readonly ReaderWriterLockSlim _slim = new();
    private readonly ReadWriteLock _rw = new("mix");
    private WorkerThreads _threads = null!;
    private Action<int> _slimMix = null!, _rwMix = null!, _slimWrite = null!, _rwWrite = null!;
    private long _before;
    private long _after;
    private long _sink;
    private int _torn;

    /// <summary>Threads on the lock, the benchmark thread included (the machine has 2 cores).</summary>
    [Params(2, 4)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _threads = new WorkerThreads(Threads);
        int mixPerThread = MixOps / Threads;
        int writePerThread = WriteOps / Threads;
        _slimMix = index =>
        {
            long sum = 0;
            for (int i = 0; i < mixPerThread; i++)
            {
                if ((i + (index * 7)) % WritePeriod == 0)
                {
                    _slim.EnterWriteLock();
                    WriteSection();
                    _slim.ExitWriteLock();
                }
                else
                {
                    _slim.EnterReadLock();
                    sum += ReadSection();
                    _slim.ExitReadLock();
                }
            }

            Interlocked.Add(ref _sink, sum);
        };
        _rwMix = index =>
        {
            long sum = 0;
            for (int i = 0; i < mixPerThread; i++)
            {
                if ((i + (index * 7)) % WritePeriod == 0)
                {
                    using var scope = _rw.AcquireWrite();
                    WriteSection();
                }
                else
                {
                    using var scope = _rw.AcquireRead();
                    sum += ReadSection();
                }
            }

            Interlocked.Add(ref _sink, sum);
        };
        _slimWrite = _ =>
        {
            for (int i = 0; i < writePerThread; i++)
            {
                _slim.EnterWriteLock();
                WriteSection();
                _slim.ExitWriteLock();
            }
        };
        _rwWrite = _ =>
        {
            for (int i = 0; i < writePerThread; i++)
            {
                using var scope = _rw.AcquireWrite();
                WriteSection();
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _threads.Dispose();
        _slim.Dispose();
    }

    private void WriteSection()
    {
        _before++;
        _sink = CriticalSection.Run(CriticalSection.ShortIterations, _sink);
        _after++;
    }

    private long ReadSection()
    {
        long seen = _before;
        long value = CriticalSection.Run(CriticalSection.ShortIterations, seen);
        if (Volatile.Read(ref _after) != seen)
        {
            _torn = 1;
        }

        return value;
    }

    private void Measure(Action<int> loop, int writes)
    {
        long start = _after;
        _threads.Run(loop);
        long done = _after - start;
        if (done != writes || _before != _after || _torn != 0)
        {
            throw new InvalidOperationException($"{done} writes instead of {writes} (torn read: {_torn != 0}): the lock let a writer in beside another holder.");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = MixOps), BenchmarkCategory(Mix)]
    public void ReaderWriterLockSlim_Mix95() => Measure(_slimMix, MixOps / WritePeriod);

    [Benchmark(OperationsPerInvoke = MixOps), BenchmarkCategory(Mix)]
    public void ReadWriteLock_Mix95() => Measure(_rwMix, MixOps / WritePeriod);

    [Benchmark(Baseline = true, OperationsPerInvoke = WriteOps), BenchmarkCategory(Write)]
    public void ReaderWriterLockSlim_Write() => Measure(_slimWrite, WriteOps);

    [Benchmark(OperationsPerInvoke = WriteOps), BenchmarkCategory(Write)]
    public void ReadWriteLock_Write() => Measure(_rwWrite, WriteOps);
}
