using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Locksmith.Benchmarks;

/// <summary>Uncontended read and write of <see cref="ReadWriteLock"/> against <see cref="ReaderWriterLockSlim"/>.</summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ReadWriteLockBenchmarks
{
    private readonly ReaderWriterLockSlim _slim = new();
    private readonly ReadWriteLock _rw = new("bench");
    private long _value;

    [Benchmark(Baseline = true), BenchmarkCategory("Read")]
    public long ReaderWriterLockSlim_Read()
    {
        _slim.EnterReadLock();
        long value = _value;
        _slim.ExitReadLock();
        return value;
    }

    [Benchmark, BenchmarkCategory("Read")]
    public long ReadWriteLock_Read()
    {
        using var scope = _rw.AcquireRead();
        return _value;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Write")]
    public void ReaderWriterLockSlim_Write()
    {
        _slim.EnterWriteLock();
        _value++;
        _slim.ExitWriteLock();
    }

    [Benchmark, BenchmarkCategory("Write")]
    public void ReadWriteLock_Write()
    {
        using var scope = _rw.AcquireWrite();
        _value++;
    }
}
