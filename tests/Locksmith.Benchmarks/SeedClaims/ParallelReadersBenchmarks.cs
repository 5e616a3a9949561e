using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks.SeedClaims;

/// <summary>
/// The seed: "With a read-write lock, 100 readers can proceed in parallel." 100 reader threads each read
/// <see cref="ReadsPerReader"/> times under a <see cref="ReadWriteLock"/> read lock, against the same under an
/// <see cref="ExclusiveLock"/> (the baseline) and <see cref="ReaderWriterLockSlim"/>. Time is per read across all readers.
/// </summary>
/// <remarks>
/// Two read sections: CPU work of about 1 µs (here 100 readers share 2 cores, so a read-write lock can at most
/// double the throughput), and a read that waits about 1 ms like a cache miss going to a database
/// (<see cref="Thread.Sleep(int)"/>), where readers overlap their waiting and the parallelism is not bounded by cores.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ParallelReadersBenchmarks
{
    private const int Readers = 100;
    private const int ReadsPerReader = 100;
    private const int SleepingReadsPerReader = 3;
    private const int CpuReads = Readers * ReadsPerReader;
    private const int SleepingReads = Readers * SleepingReadsPerReader;

    private readonly ExclusiveLock _exclusive = new("readers-exclusive");
    private readonly ReadWriteLock _readWrite = new("readers-rw");
    private readonly ReaderWriterLockSlim _slim = new();
    private WorkerThreads _threads = null!;
    private Action<int> _exclusiveCpu = null!, _readWriteCpu = null!, _slimCpu = null!;
    private Action<int> _exclusiveSleep = null!, _readWriteSleep = null!, _slimSleep = null!;
    private readonly long _shared = 1;
    private long _sink;

    [GlobalSetup]
    public void Setup()
    {
        _threads = new WorkerThreads(Readers);
        _exclusiveCpu = _ => Loop(ReadsPerReader, static self => { using var s = self._exclusive.Acquire(); return self.ReadCpu(); });
        _readWriteCpu = _ => Loop(ReadsPerReader, static self => { using var s = self._readWrite.AcquireRead(); return self.ReadCpu(); });
        _slimCpu = _ => Loop(ReadsPerReader, static self =>
        {
            self._slim.EnterReadLock();
            try
            {
                return self.ReadCpu();
            }
            finally
            {
                self._slim.ExitReadLock();
            }
        });
        _exclusiveSleep = _ => Loop(SleepingReadsPerReader, static self => { using var s = self._exclusive.Acquire(); return ReadWaiting(); });
        _readWriteSleep = _ => Loop(SleepingReadsPerReader, static self => { using var s = self._readWrite.AcquireRead(); return ReadWaiting(); });
        _slimSleep = _ => Loop(SleepingReadsPerReader, static self =>
        {
            self._slim.EnterReadLock();
            try
            {
                return ReadWaiting();
            }
            finally
            {
                self._slim.ExitReadLock();
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _threads.Dispose();
        _slim.Dispose();
    }

    // Each reader keeps its results in a local and publishes once, so readers share no written cache line.
    private void Loop(int reads, Func<ParallelReadersBenchmarks, long> read)
    {
        long x = 0;
        for (int i = 0; i < reads; i++)
        {
            x ^= read(this);
        }

        if (x == 42)
        {
            _sink = x;
        }
    }

    // About 1 µs of CPU work seeded from the shared (read-only) state.
    private long ReadCpu() => CriticalSection.Run(CriticalSection.MediumIterations, _shared);

    // A read that waits instead of computing: about 1 ms, like a query the cache lock is held across.
    private static long ReadWaiting()
    {
        Thread.Sleep(1);
        return 1;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = CpuReads), BenchmarkCategory("Cpu-1us")]
    public void ExclusiveLock_100Readers_Cpu() => _threads.Run(_exclusiveCpu);

    [Benchmark(OperationsPerInvoke = CpuReads), BenchmarkCategory("Cpu-1us")]
    public void ReadWriteLock_100Readers_Cpu() => _threads.Run(_readWriteCpu);

    [Benchmark(OperationsPerInvoke = CpuReads), BenchmarkCategory("Cpu-1us")]
    public void ReaderWriterLockSlim_100Readers_Cpu() => _threads.Run(_slimCpu);

    [Benchmark(Baseline = true, OperationsPerInvoke = SleepingReads), BenchmarkCategory("Wait-1ms")]
    public void ExclusiveLock_100Readers_Wait() => _threads.Run(_exclusiveSleep);

    [Benchmark(OperationsPerInvoke = SleepingReads), BenchmarkCategory("Wait-1ms")]
    public void ReadWriteLock_100Readers_Wait() => _threads.Run(_readWriteSleep);

    [Benchmark(OperationsPerInvoke = SleepingReads), BenchmarkCategory("Wait-1ms")]
    public void ReaderWriterLockSlim_100Readers_Wait() => _threads.Run(_slimSleep);
}
