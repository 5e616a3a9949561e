using System;
using System.Runtime.CompilerServices;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks.SeedClaims;

/// <summary>
/// The seed: "For very short critical sections, under about 1 microsecond, spinlocks win … For longer critical
/// sections, mutexes win because sleeping frees the CPU for other work." <see cref="SectionLengthBenchmarks"/> already
/// measures 2 and 4 threads at ~50 ns, ~1 µs and ~10 µs; this class adds what it lacks: a longer section (~100 µs),
/// and the "other work" the claim's second half is about — a bystander thread with a fixed amount of unlocked CPU work
/// beside the two contenders, so a waiter that spins takes a core the bystander could use.
/// </summary>
/// <remarks>
/// <para>Plain rows: 2 threads contend (one per core); time per acquire+section+release across both.</para>
/// <para>Bystander rows: 2 contending threads plus 1 thread that runs, unlocked, as much CPU work as the contenders'
/// sections add up to. The time is the whole job's (everyone done) divided by the contenders' operations. Ideally the
/// holder runs on one core and the bystander on the other while the waiter sleeps, so the job takes about as long as
/// the sections alone; a waiter that spins competes with the bystander for a core. Ratios are against
/// <see cref="Lock"/> in each category.</para>
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class SpinBreakEvenBenchmarks
{
    /// <summary>About 100 µs of work (10 × <see cref="CriticalSection.LongIterations"/>).</summary>
    private const int VeryLongIterations = 10 * CriticalSection.LongIterations;

    // Operations per invocation (even), so an invocation lasts roughly 60–250 ms on the 2-core machine.
    private const int ShortOps = 1_000_000;
    private const int MediumOps = 80_000;
    private const int LongOps = 10_000;
    private const int VeryLongOps = 1_000;

    private readonly Lock _lock = new();
    private readonly ExclusiveLock _exclusive = new("break-even");
    private readonly SpinGate _gate = new("break-even-gate");
    private WorkerThreads _two = null!;
    private WorkerThreads _three = null!;
    private long _counter;
    private long _sink;
    private long _bystanderSink;

    [GlobalSetup]
    public void Setup()
    {
        _two = new WorkerThreads(2);
        _three = new WorkerThreads(3);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _two.Dispose();
        _three.Dispose();
    }

    private enum Kind
    {
        Lock,
        Exclusive,
        Gate,
    }

    // Contender loop; the section increments a shared counter, checked after the run, so a broken lock fails the run.
    private void Contend(Kind kind, int iterations, int operations)
    {
        int perThread = operations / 2;
        for (int i = 0; i < perThread; i++)
        {
            switch (kind)
            {
                case Kind.Lock:
                    using (_lock.EnterScope())
                    {
                        Section(iterations);
                    }

                    break;
                case Kind.Exclusive:
                    using (_exclusive.Acquire())
                    {
                        Section(iterations);
                    }

                    break;
                default:
                    using (_gate.Acquire())
                    {
                        Section(iterations);
                    }

                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Section(int iterations)
    {
        _counter++;
        _sink = CriticalSection.Run(iterations, _sink);
    }

    private void Plain(Kind kind, int iterations, int operations)
    {
        long before = _counter;
        _two.Run(_ => Contend(kind, iterations, operations));
        Check(before, operations);
    }

    // Thread 2 is the bystander: the same total CPU work as all the sections, in section-sized chunks, unlocked.
    private void WithBystander(Kind kind, int iterations, int operations)
    {
        long before = _counter;
        _three.Run(me =>
        {
            if (me == 2)
            {
                long x = 0;
                for (int i = 0; i < operations; i++)
                {
                    x = CriticalSection.Run(iterations, x);
                }

                Volatile.Write(ref _bystanderSink, x);
            }
            else
            {
                Contend(kind, iterations, operations);
            }
        });
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

    [Benchmark(Baseline = true, OperationsPerInvoke = VeryLongOps), BenchmarkCategory("100us")]
    public void Lock_VeryLong() => Plain(Kind.Lock, VeryLongIterations, VeryLongOps);

    [Benchmark(OperationsPerInvoke = VeryLongOps), BenchmarkCategory("100us")]
    public void ExclusiveLock_VeryLong() => Plain(Kind.Exclusive, VeryLongIterations, VeryLongOps);

    [Benchmark(OperationsPerInvoke = VeryLongOps), BenchmarkCategory("100us")]
    public void SpinGate_VeryLong() => Plain(Kind.Gate, VeryLongIterations, VeryLongOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = ShortOps), BenchmarkCategory("Bystander-50ns")]
    public void Lock_Bystander_Short() => WithBystander(Kind.Lock, CriticalSection.ShortIterations, ShortOps);

    [Benchmark(OperationsPerInvoke = ShortOps), BenchmarkCategory("Bystander-50ns")]
    public void ExclusiveLock_Bystander_Short() => WithBystander(Kind.Exclusive, CriticalSection.ShortIterations, ShortOps);

    [Benchmark(OperationsPerInvoke = ShortOps), BenchmarkCategory("Bystander-50ns")]
    public void SpinGate_Bystander_Short() => WithBystander(Kind.Gate, CriticalSection.ShortIterations, ShortOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = MediumOps), BenchmarkCategory("Bystander-1us")]
    public void Lock_Bystander_Medium() => WithBystander(Kind.Lock, CriticalSection.MediumIterations, MediumOps);

    [Benchmark(OperationsPerInvoke = MediumOps), BenchmarkCategory("Bystander-1us")]
    public void ExclusiveLock_Bystander_Medium() => WithBystander(Kind.Exclusive, CriticalSection.MediumIterations, MediumOps);

    [Benchmark(OperationsPerInvoke = MediumOps), BenchmarkCategory("Bystander-1us")]
    public void SpinGate_Bystander_Medium() => WithBystander(Kind.Gate, CriticalSection.MediumIterations, MediumOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = LongOps), BenchmarkCategory("Bystander-10us")]
    public void Lock_Bystander_Long() => WithBystander(Kind.Lock, CriticalSection.LongIterations, LongOps);

    [Benchmark(OperationsPerInvoke = LongOps), BenchmarkCategory("Bystander-10us")]
    public void ExclusiveLock_Bystander_Long() => WithBystander(Kind.Exclusive, CriticalSection.LongIterations, LongOps);

    [Benchmark(OperationsPerInvoke = LongOps), BenchmarkCategory("Bystander-10us")]
    public void SpinGate_Bystander_Long() => WithBystander(Kind.Gate, CriticalSection.LongIterations, LongOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = VeryLongOps), BenchmarkCategory("Bystander-100us")]
    public void Lock_Bystander_VeryLong() => WithBystander(Kind.Lock, VeryLongIterations, VeryLongOps);

    [Benchmark(OperationsPerInvoke = VeryLongOps), BenchmarkCategory("Bystander-100us")]
    public void ExclusiveLock_Bystander_VeryLong() => WithBystander(Kind.Exclusive, VeryLongIterations, VeryLongOps);

    [Benchmark(OperationsPerInvoke = VeryLongOps), BenchmarkCategory("Bystander-100us")]
    public void SpinGate_Bystander_VeryLong() => WithBystander(Kind.Gate, VeryLongIterations, VeryLongOps);
}
