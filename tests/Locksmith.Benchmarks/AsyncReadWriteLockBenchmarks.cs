using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DotNextRwLock = DotNext.Threading.AsyncReaderWriterLock;
using VsRwLock = Microsoft.VisualStudio.Threading.AsyncReaderWriterLock;

namespace Locksmith.Benchmarks;

/// <summary>
/// <see cref="AsyncReadWriteLock"/> against DotNext.Threading's and Microsoft.VisualStudio.Threading's
/// <c>AsyncReaderWriterLock</c>: an uncontended read (acquire, read a field, release) in one flow.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class AsyncReadWriteLockBenchmarks
{
    private readonly AsyncReadWriteLock _locksmith = new("bench");
    private readonly DotNextRwLock _dotNext = new();
    private readonly VsRwLock _vs = new();
    private long _value = 42;

    [Benchmark(Baseline = true), BenchmarkCategory("UncontendedRead")]
    public async ValueTask<long> DotNext_Read()
    {
        await _dotNext.EnterReadLockAsync();
        long value = _value;
        _dotNext.Release();
        return value;
    }

    [Benchmark, BenchmarkCategory("UncontendedRead")]
    public async ValueTask<long> VsThreading_Read()
    {
        using (await _vs.ReadLockAsync())
        {
            return _value;
        }
    }

    [Benchmark, BenchmarkCategory("UncontendedRead")]
    public async ValueTask<long> AsyncReadWriteLock_Read()
    {
        using var scope = await _locksmith.AcquireReadAsync();
        return _value;
    }
}

/// <summary>
/// Read throughput of the same three locks: <see cref="Operations"/> reads split across <see cref="Readers"/> concurrent
/// flows on the thread pool, reported per read. Readers share the lock, so two flows should not take longer than one.
/// Each flow's share is long (tens of milliseconds), so the second pool thread's start-up is not what is measured.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class AsyncReadWriteLockThroughputBenchmarks
{
    private const int Operations = 2_000_000;

    private readonly AsyncReadWriteLock _locksmith = new("bench");
    private readonly DotNextRwLock _dotNext = new();
    private readonly VsRwLock _vs = new();
    private long _value = 42;

    /// <summary>Concurrent reading flows.</summary>
    [Params(1, 2)]
    public int Readers { get; set; }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations), BenchmarkCategory("ReadThroughput")]
    public Task DotNext_ReadThroughput() => Split(async count =>
    {
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            await _dotNext.EnterReadLockAsync();
            sum += _value;
            _dotNext.Release();
        }

        return sum;
    });

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("ReadThroughput")]
    public Task VsThreading_ReadThroughput() => Split(async count =>
    {
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            using (await _vs.ReadLockAsync())
            {
                sum += _value;
            }
        }

        return sum;
    });

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("ReadThroughput")]
    public Task AsyncReadWriteLock_ReadThroughput() => Split(async count =>
    {
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            using var scope = await _locksmith.AcquireReadAsync();
            sum += _value;
        }

        return sum;
    });

    /// <summary>
    /// The same reads, but each flow reads a lock of its own: nothing of the lock is shared between the flows, so the
    /// gap between this row and <see cref="AsyncReadWriteLock_ReadThroughput"/> at 2 readers is what sharing one lock
    /// costs, and the gap between its 1- and 2-reader rows is what the machine (and the flows' own records) allow.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("ReadThroughput")]
    public Task AsyncReadWriteLock_ReadThroughput_LockPerReader() => Split(async count =>
    {
        var own = new AsyncReadWriteLock("bench-own");
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            using var scope = await own.AcquireReadAsync();
            sum += _value;
        }

        return sum;
    });

    /// <summary>
    /// The control: the same flows doing a few dozen cycles of arithmetic per round and no lock at all, so its 2-flow
    /// row shows how much of a second core the machine gave this run (a shared or busy host gives less than 2×).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("ReadThroughput")]
    public Task NoLock_ComputeThroughput() => Split(count =>
    {
        long sum = _value;
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < 16; j++)
            {
                sum = (sum * 6364136223846793005L) + 1442695040888963407L;
            }
        }

        return Task.FromResult(sum);
    });

    /// <summary>
    /// The second control: per round, the two interlocked operations a read makes (in and out of its slot), on a padded
    /// counter of the flow's own, and a few loads and stores of its own array; no lock, nothing shared. Its 2-flow row
    /// shows what the machine gives a second core for memory and interlocked work rather than for one multiply chain.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("ReadThroughput")]
    public Task NoLock_InterlockedThroughput() => Split(count =>
    {
        // The counter at [8], the working longs at [16..31]: 64 bytes between the counter and the header or the rest.
        var own = new long[16 + 16];
        long sum = _value;
        for (int i = 0; i < count; i++)
        {
            Interlocked.Increment(ref own[8]);
            int k = 16 + (i & 15);
            own[k] += sum;
            sum += own[16 + ((k * 7) & 15)];
            Interlocked.Decrement(ref own[8]);
        }

        return Task.FromResult(sum);
    });

    /// <summary>Runs <see cref="Operations"/> split evenly across <see cref="Readers"/> flows on the thread pool.</summary>
    private Task Split(System.Func<int, Task<long>> reads)
    {
        if (Readers == 1)
        {
            return Task.Run(() => reads(Operations));
        }

        var flows = new Task[Readers];
        for (int i = 0; i < flows.Length; i++)
        {
            flows[i] = Task.Run(() => reads(Operations / Readers));
        }

        return Task.WhenAll(flows);
    }
}
