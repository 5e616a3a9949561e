using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks.SeedClaims;

/// <summary>
/// The seed's GIL lesson, restated for .NET: threads help I/O-bound work at any count, CPU-bound work only up to the
/// number of cores. <see cref="Items"/> work items are shared by <see cref="Threads"/> threads (each takes the next
/// item from an interlocked counter); an item is either about 1 ms of CPU work or about 1 ms of waiting
/// (<see cref="Thread.Sleep(int)"/>, as a blocking call to a database or a file would). Time is per item, so
/// throughput is 1 / time; compare rows down a column.
/// </summary>
/// <remarks>.NET has no GIL: CPU-bound threads do run in parallel, but only on as many cores as the machine has (2 here).</remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class IoVersusCpuBenchmarks
{
    private const int Items = 64;

    /// <summary>About 1 ms of CPU work (1,000 × <see cref="CriticalSection.MediumIterations"/>, each about 1 µs).</summary>
    private const int CpuIterations = 1_000 * CriticalSection.MediumIterations;

    // Null for one thread: the harness needs at least one worker besides the benchmark thread.
    private WorkerThreads? _threads;
    private Action<int> _cpu = null!, _io = null!;
    private int _next;
    private long _sink;

    /// <summary>Threads sharing the items, the benchmark thread included.</summary>
    [Params(1, 2, 4, 8, 16)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _threads = Threads > 1 ? new WorkerThreads(Threads) : null;
        _cpu = _ =>
        {
            long x = 0;
            while (Interlocked.Increment(ref _next) <= Items)
            {
                x = CriticalSection.Run(CpuIterations, x);
            }

            if (x == 42)
            {
                _sink = x;
            }
        };
        _io = _ =>
        {
            while (Interlocked.Increment(ref _next) <= Items)
            {
                Thread.Sleep(1);
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads?.Dispose();

    private void RunAll(Action<int> loop)
    {
        if (_threads is null)
        {
            loop(0);
        }
        else
        {
            _threads.Run(loop);
        }
    }

    [Benchmark(OperationsPerInvoke = Items), BenchmarkCategory("Cpu-1ms")]
    public void CpuBound()
    {
        _next = 0;
        RunAll(_cpu);
    }

    [Benchmark(OperationsPerInvoke = Items), BenchmarkCategory("Io-1ms")]
    public void IoBound()
    {
        _next = 0;
        RunAll(_io);
    }
}
