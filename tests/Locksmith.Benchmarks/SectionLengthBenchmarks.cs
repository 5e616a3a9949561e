using System;
using System.Runtime.CompilerServices;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// <see cref="Threads"/> threads contend on one lock around a critical section of about 50 ns (Short), 1 µs
/// (Medium) or 10 µs (Long) of CPU work (<see cref="CriticalSection"/>). Time is per acquire+section+release
/// across all threads, so lower is more throughput; the Ratio column is relative to <see cref="Lock"/> within each
/// section length (category) and thread count. With 4 threads on a 2-core machine the lock is oversubscribed:
/// holders get preempted, which is where spinning and wake-up policy show.
/// </summary>
/// <remarks>
/// <para>The targets: <see cref="ExclusiveLock"/> ≤ 1.0× <see cref="Lock"/>, <see cref="ReentrantLock"/> ≤ 1.0×
/// <see cref="Monitor"/> (divide their two rows). <c>Section_Alone</c> runs the section on one thread with no lock,
/// so readers see the real section length on the machine of the run.</para>
/// <para>The section length is a category, not a <c>[Params]</c>, because <c>OperationsPerInvoke</c> is a
/// constant per method and the operations per invocation scale with the section so each invocation stays near
/// 50–200 ms. Every section increments a shared counter, and each invocation checks that the counter moved by
/// exactly the operations it ran, so a lock that lets two holders in fails the run rather than looking fast.</para>
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class SectionLengthBenchmarks
{
    private const string Short = "Short";
    private const string Medium = "Medium";
    private const string Long = "Long";

    // Operations per invocation (divisible by 4), so one invocation takes about 80–250 ms under contention on the
    // 2-core machine (measured: ~65 ns, ~1.5 µs and ~12–20 µs per operation); BenchmarkDotNet warns below 100 ms.
    private const int ShortOps = 1_200_000;
    private const int MediumOps = 96_000;
    private const int LongOps = 12_000;

    private readonly Lock _lock = new();
    private readonly object _monitor = new();
    private readonly ExclusiveLock _exclusive = new("section");
    private readonly ReentrantLock _reentrant = new("section-reentrant");
    private readonly SpinGate _gate = new("section-gate");
    private WorkerThreads _threads = null!;
    private Action<int> _lockShort = null!, _lockMedium = null!, _lockLong = null!;
    private Action<int> _exclusiveShort = null!, _exclusiveMedium = null!, _exclusiveLong = null!;
    private Action<int> _monitorShort = null!, _monitorMedium = null!, _monitorLong = null!;
    private Action<int> _reentrantShort = null!, _reentrantMedium = null!, _reentrantLong = null!;
    private Action<int> _gateShort = null!, _gateMedium = null!, _gateLong = null!;
    private long _counter;
    private long _sink;

    /// <summary>Threads contending for the lock, the benchmark thread included (the machine has 2 cores).</summary>
    [Params(2, 4)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _threads = new WorkerThreads(Threads);
        (_lockShort, _lockMedium, _lockLong) = ForEachLength(LockLoop);
        (_exclusiveShort, _exclusiveMedium, _exclusiveLong) = ForEachLength(ExclusiveLoop);
        (_monitorShort, _monitorMedium, _monitorLong) = ForEachLength(MonitorLoop);
        (_reentrantShort, _reentrantMedium, _reentrantLong) = ForEachLength(ReentrantLoop);
        (_gateShort, _gateMedium, _gateLong) = ForEachLength(GateLoop);
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    private static (Action<int>, Action<int>, Action<int>) ForEachLength(Func<int, int, Action<int>> loop) =>
        (loop(CriticalSection.ShortIterations, ShortOps),
         loop(CriticalSection.MediumIterations, MediumOps),
         loop(CriticalSection.LongIterations, LongOps));

    private Action<int> LockLoop(int iterations, int operations)
    {
        int perThread = operations / Threads;
        return _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                using (_lock.EnterScope())
                {
                    Section(iterations);
                }
            }
        };
    }

    private Action<int> ExclusiveLoop(int iterations, int operations)
    {
        int perThread = operations / Threads;
        return _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                using var scope = _exclusive.Acquire();
                Section(iterations);
            }
        };
    }

    private Action<int> MonitorLoop(int iterations, int operations)
    {
        int perThread = operations / Threads;
        return _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                lock (_monitor)
                {
                    Section(iterations);
                }
            }
        };
    }

    private Action<int> ReentrantLoop(int iterations, int operations)
    {
        int perThread = operations / Threads;
        return _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                using var scope = _reentrant.Acquire();
                Section(iterations);
            }
        };
    }

    private Action<int> GateLoop(int iterations, int operations)
    {
        int perThread = operations / Threads;
        return _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                using var scope = _gate.Acquire();
                Section(iterations);
            }
        };
    }

    // The shared state every holder touches: a plain increment (lost updates show a broken lock) and the section
    // seeded from, and written back to, a shared field.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Section(int iterations)
    {
        _counter++;
        _sink = CriticalSection.Run(iterations, _sink);
    }

    private void Alone(int iterations, int operations)
    {
        long before = _counter;
        for (int i = 0; i < operations; i++)
        {
            Section(iterations);
        }

        Check(before, operations);
    }

    private void Contended(Action<int> loop, int operations)
    {
        long before = _counter;
        _threads.Run(loop);
        Check(before, operations);
    }

    private void Check(long before, int operations)
    {
        long done = _counter - before;
        if (done != operations)
        {
            throw new InvalidOperationException($"The shared counter moved by {done}, not {operations}: the lock let two holders in.");
        }
    }

    [Benchmark(OperationsPerInvoke = ShortOps), BenchmarkCategory(Short)]
    public void Section_Alone_Short() => Alone(CriticalSection.ShortIterations, ShortOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = ShortOps), BenchmarkCategory(Short)]
    public void Lock_Short() => Contended(_lockShort, ShortOps);

    [Benchmark(OperationsPerInvoke = ShortOps), BenchmarkCategory(Short)]
    public void ExclusiveLock_Short() => Contended(_exclusiveShort, ShortOps);

    [Benchmark(OperationsPerInvoke = ShortOps), BenchmarkCategory(Short)]
    public void Monitor_Short() => Contended(_monitorShort, ShortOps);

    [Benchmark(OperationsPerInvoke = ShortOps), BenchmarkCategory(Short)]
    public void ReentrantLock_Short() => Contended(_reentrantShort, ShortOps);

    [Benchmark(OperationsPerInvoke = ShortOps), BenchmarkCategory(Short)]
    public void SpinGate_Short() => Contended(_gateShort, ShortOps);

    [Benchmark(OperationsPerInvoke = MediumOps), BenchmarkCategory(Medium)]
    public void Section_Alone_Medium() => Alone(CriticalSection.MediumIterations, MediumOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = MediumOps), BenchmarkCategory(Medium)]
    public void Lock_Medium() => Contended(_lockMedium, MediumOps);

    [Benchmark(OperationsPerInvoke = MediumOps), BenchmarkCategory(Medium)]
    public void ExclusiveLock_Medium() => Contended(_exclusiveMedium, MediumOps);

    [Benchmark(OperationsPerInvoke = MediumOps), BenchmarkCategory(Medium)]
    public void Monitor_Medium() => Contended(_monitorMedium, MediumOps);

    [Benchmark(OperationsPerInvoke = MediumOps), BenchmarkCategory(Medium)]
    public void ReentrantLock_Medium() => Contended(_reentrantMedium, MediumOps);

    [Benchmark(OperationsPerInvoke = MediumOps), BenchmarkCategory(Medium)]
    public void SpinGate_Medium() => Contended(_gateMedium, MediumOps);

    [Benchmark(OperationsPerInvoke = LongOps), BenchmarkCategory(Long)]
    public void Section_Alone_Long() => Alone(CriticalSection.LongIterations, LongOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = LongOps), BenchmarkCategory(Long)]
    public void Lock_Long() => Contended(_lockLong, LongOps);

    [Benchmark(OperationsPerInvoke = LongOps), BenchmarkCategory(Long)]
    public void ExclusiveLock_Long() => Contended(_exclusiveLong, LongOps);

    [Benchmark(OperationsPerInvoke = LongOps), BenchmarkCategory(Long)]
    public void Monitor_Long() => Contended(_monitorLong, LongOps);

    [Benchmark(OperationsPerInvoke = LongOps), BenchmarkCategory(Long)]
    public void ReentrantLock_Long() => Contended(_reentrantLong, LongOps);

    [Benchmark(OperationsPerInvoke = LongOps), BenchmarkCategory(Long)]
    public void SpinGate_Long() => Contended(_gateLong, LongOps);
}
