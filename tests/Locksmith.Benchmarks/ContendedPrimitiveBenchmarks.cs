using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// Two threads contending on one primitive, each Locksmith primitive against its BCL counterpart (one category
/// each, with its own baseline). Time is per acquire+release across both threads; lower is more throughput.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ContendedPrimitiveBenchmarks
{
    private const int Operations = 200_000;

    private readonly object _monitor = new();
    private readonly ReentrantLock _reentrant = new("reentrant");
    private readonly SemaphoreSlim _slim = new(1, 1);
    private readonly CountingSemaphore _semaphore = new(1, 1, "semaphore");
    private readonly ReadWriteLock _rw = new("rw");
    private readonly ReaderWriterLockSlim _rwSlim = new();
    private SpinLock _spinLock = new(enableThreadOwnerTracking: false);
    private readonly SpinGate _gate = new("gate");
    private TwoThreads _threads = null!;
    private Action<int> _monitorLoop = null!, _reentrantLoop = null!, _slimLoop = null!, _semaphoreLoop = null!;
    private Action<int> _spinLockLoop = null!, _gateLoop = null!, _rwSlimWriteLoop = null!, _rwWriteLoop = null!;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _threads = new TwoThreads();
        _monitorLoop = _ => Repeat(() => { lock (_monitor) { _counter++; } });
        _reentrantLoop = _ => Repeat(() => { using var scope = _reentrant.Acquire(); _counter++; });
        _slimLoop = _ => Repeat(() => { _slim.Wait(); _counter++; _slim.Release(); });
        _semaphoreLoop = _ => Repeat(() => { using var scope = _semaphore.Acquire(); _counter++; });
        _spinLockLoop = _ => Repeat(() => { bool taken = false; _spinLock.Enter(ref taken); _counter++; _spinLock.Exit(useMemoryBarrier: false); });
        _gateLoop = _ => Repeat(() => { using var scope = _gate.Acquire(); _counter++; });
        _rwSlimWriteLoop = _ => Repeat(() => { _rwSlim.EnterWriteLock(); _counter++; _rwSlim.ExitWriteLock(); });
        _rwWriteLoop = _ => Repeat(() => { using var scope = _rw.AcquireWrite(); _counter++; });
    }

    // The delegate call per operation is the same on both sides of every ratio.
    private static void Repeat(Action body)
    {
        for (int i = 0; i < Operations / 2; i++)
        {
            body();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations), BenchmarkCategory("Reentrant")]
    public void Monitor_2Threads() => _threads.Run(_monitorLoop);

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("Reentrant")]
    public void ReentrantLock_2Threads() => _threads.Run(_reentrantLoop);

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations), BenchmarkCategory("Semaphore")]
    public void SemaphoreSlim_2Threads() => _threads.Run(_slimLoop);

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("Semaphore")]
    public void CountingSemaphore_2Threads() => _threads.Run(_semaphoreLoop);

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations), BenchmarkCategory("Spin")]
    public void SpinLock_2Threads() => _threads.Run(_spinLockLoop);

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("Spin")]
    public void SpinGate_2Threads() => _threads.Run(_gateLoop);

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations), BenchmarkCategory("Write")]
    public void ReaderWriterLockSlim_Write_2Threads() => _threads.Run(_rwSlimWriteLoop);

    [Benchmark(OperationsPerInvoke = Operations), BenchmarkCategory("Write")]
    public void ReadWriteLock_Write_2Threads() => _threads.Run(_rwWriteLoop);
}
