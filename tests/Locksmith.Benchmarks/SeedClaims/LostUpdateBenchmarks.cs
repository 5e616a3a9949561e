using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks.SeedClaims;

/// <summary>
/// The seed: "At 10,000 requests per second, you're losing hundreds of updates per second." Two threads increment one
/// counter: unguarded (a read, an add and a write, as <c>count++</c> compiles), with <see cref="AtomicCounter"/>, and
/// under an <see cref="ExclusiveLock"/>. Every invocation counts the updates lost (expected minus final), and the
/// totals are printed when the case ends, as lines starting <c>// SeedClaims LostUpdates</c> in the run's log.
/// </summary>
/// <remarks>
/// <para>Three shapes, from worst case to the seed's: <b>Tight</b>, both threads incrementing back to back (the highest
/// loss a counter can see); <b>Spaced</b>, about 1 µs of other work between increments, like a request doing
/// something besides counting; <b>Paced</b>, 10,000 increments per second in all, arriving at random (Poisson) times on
/// the two threads, the seed's load. Paced rows take a second of wall-clock time per 10,000 increments by design:
/// their time column only shows that the pace was kept.</para>
/// <para>The unguarded read and write are <see cref="Volatile"/> so the JIT cannot fold the loop into one add; the race
/// between them is the one <c>count++</c> has.</para>
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class LostUpdateBenchmarks
{
    private const int TightOps = 2_000_000;
    private const int SpacedOps = 200_000;
    private const int PacedOps = 10_000;
    private const double PacedPerSecond = 10_000;

    private readonly AtomicCounter _atomic = new("lost-updates");
    private readonly ExclusiveLock _lock = new("lost-updates");
    private TwoThreads _threads = null!;
    private long _unguarded;
    private long _guarded;
    private long _sink;
    private readonly long[] _lost = new long[Enum.GetValues<Shape>().Length * 3];
    private readonly long[] _done = new long[Enum.GetValues<Shape>().Length * 3];
    private long _pacedTicks;

    private enum Shape
    {
        Tight,
        Spaced,
        Paced,
    }

    private enum Guard
    {
        None,
        Atomic,
        Lock,
    }

    [GlobalSetup]
    public void Setup() => _threads = new TwoThreads();

    [GlobalCleanup]
    public void Cleanup()
    {
        _threads.Dispose();
        foreach (Shape shape in Enum.GetValues<Shape>())
        {
            foreach (Guard guard in Enum.GetValues<Guard>())
            {
                int slot = Slot(shape, guard);
                if (_done[slot] == 0)
                {
                    continue;
                }

                double fraction = (double)_lost[slot] / _done[slot];
                string paced = shape == Shape.Paced
                    ? string.Format(CultureInfo.InvariantCulture, ", achieved rate {0:N0}/s", _done[slot] / (_pacedTicks / (double)Stopwatch.Frequency))
                    : "";
                Console.WriteLine(string.Format(
                    CultureInfo.InvariantCulture,
                    "// SeedClaims LostUpdates {0}/{1}: lost {2:N0} of {3:N0} increments ({4:P4}); at 10,000 increments/s that is {5:N1} lost/s{6}",
                    shape, guard, _lost[slot], _done[slot], fraction, fraction * 10_000, paced));
            }
        }
    }

    private static int Slot(Shape shape, Guard guard) => ((int)shape * 3) + (int)guard;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Increment(Guard guard)
    {
        switch (guard)
        {
            case Guard.None:
                Volatile.Write(ref _unguarded, Volatile.Read(ref _unguarded) + 1);
                break;
            case Guard.Atomic:
                _atomic.Increment();
                break;
            default:
                using (_lock.Acquire())
                {
                    _guarded++;
                }

                break;
        }
    }

    private long Read(Guard guard) => guard switch
    {
        Guard.None => Volatile.Read(ref _unguarded),
        Guard.Atomic => _atomic.Value,
        _ => Volatile.Read(ref _guarded),
    };

    private void Run(Shape shape, Guard guard, int operations)
    {
        long before = Read(guard);
        long started = Stopwatch.GetTimestamp();
        _threads.Run(me =>
        {
            switch (shape)
            {
                case Shape.Tight:
                    for (int i = 0; i < operations / 2; i++)
                    {
                        Increment(guard);
                    }

                    break;
                case Shape.Spaced:
                    long x = me;
                    for (int i = 0; i < operations / 2; i++)
                    {
                        x = CriticalSection.Run(CriticalSection.MediumIterations, x);
                        Increment(guard);
                    }

                    if (x == 42)
                    {
                        _sink = x;
                    }

                    break;
                default:
                    Paced(me, guard, operations / 2);
                    break;
            }
        });
        if (shape == Shape.Paced)
        {
            _pacedTicks += Stopwatch.GetTimestamp() - started;
        }

        long lost = before + operations - Read(guard);
        if (guard != Guard.None && lost != 0)
        {
            throw new InvalidOperationException($"{guard} lost {lost} updates: it must lose none.");
        }

        int slot = Slot(shape, guard);
        _lost[slot] += lost;
        _done[slot] += operations;
    }

    // Each thread carries half the rate; the gaps are exponential, so arrivals are random and independent (Poisson).
    private void Paced(int me, Guard guard, int operations)
    {
        var random = new Random(17 + me);
        double meanGapTicks = Stopwatch.Frequency * 2 / PacedPerSecond;
        double next = Stopwatch.GetTimestamp();
        for (int i = 0; i < operations; i++)
        {
            next += -Math.Log(1 - random.NextDouble()) * meanGapTicks;
            while (Stopwatch.GetTimestamp() < next)
            {
                Thread.SpinWait(20);
            }

            Increment(guard);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = TightOps), BenchmarkCategory("Tight")]
    public void Unguarded_Tight() => Run(Shape.Tight, Guard.None, TightOps);

    [Benchmark(OperationsPerInvoke = TightOps), BenchmarkCategory("Tight")]
    public void AtomicCounter_Tight() => Run(Shape.Tight, Guard.Atomic, TightOps);

    [Benchmark(OperationsPerInvoke = TightOps), BenchmarkCategory("Tight")]
    public void ExclusiveLock_Tight() => Run(Shape.Tight, Guard.Lock, TightOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = SpacedOps), BenchmarkCategory("Spaced-1us")]
    public void Unguarded_Spaced() => Run(Shape.Spaced, Guard.None, SpacedOps);

    [Benchmark(OperationsPerInvoke = SpacedOps), BenchmarkCategory("Spaced-1us")]
    public void AtomicCounter_Spaced() => Run(Shape.Spaced, Guard.Atomic, SpacedOps);

    [Benchmark(OperationsPerInvoke = SpacedOps), BenchmarkCategory("Spaced-1us")]
    public void ExclusiveLock_Spaced() => Run(Shape.Spaced, Guard.Lock, SpacedOps);

    [Benchmark(Baseline = true, OperationsPerInvoke = PacedOps), BenchmarkCategory("Paced-10k-per-s")]
    public void Unguarded_Paced() => Run(Shape.Paced, Guard.None, PacedOps);

    [Benchmark(OperationsPerInvoke = PacedOps), BenchmarkCategory("Paced-10k-per-s")]
    public void ExclusiveLock_Paced() => Run(Shape.Paced, Guard.Lock, PacedOps);
}
