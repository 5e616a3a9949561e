using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// <see cref="PhaseBarrier"/> against <see cref="Barrier"/>: one participant (the uncontended cost of a phase) and two
/// threads meeting at every phase. Time is per phase.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class PhaseBarrierBenchmarks
{
    private const int Phases = 20_000;

    private readonly Barrier _single = new(1);
    private readonly PhaseBarrier _singlePhase = new(1, name: "single");
    private Barrier _pair = null!;
    private PhaseBarrier _pairPhase = null!;
    private TwoThreads _threads = null!;
    private Action<int> _pairLoop = null!;
    private Action<int> _pairPhaseLoop = null!;

    [GlobalSetup]
    public void Setup()
    {
        _threads = new TwoThreads();
        _pair = new Barrier(2);
        _pairPhase = new PhaseBarrier(2, name: "pair");
        _pairLoop = _ =>
        {
            for (int i = 0; i < Phases; i++)
            {
                _pair.SignalAndWait();
            }
        };
        _pairPhaseLoop = _ =>
        {
            for (int i = 0; i < Phases; i++)
            {
                _pairPhase.SignalAndWait();
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _threads.Dispose();
        _pair.Dispose();
        _single.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("OneParticipant")]
    public void Barrier_OneParticipant() => _single.SignalAndWait();

    [Benchmark, BenchmarkCategory("OneParticipant")]
    public void PhaseBarrier_OneParticipant() => _singlePhase.SignalAndWait();

    [Benchmark(Baseline = true, OperationsPerInvoke = Phases), BenchmarkCategory("TwoThreads")]
    public void Barrier_2Threads() => _threads.Run(_pairLoop);

    [Benchmark(OperationsPerInvoke = Phases), BenchmarkCategory("TwoThreads")]
    public void PhaseBarrier_2Threads() => _threads.Run(_pairPhaseLoop);
}
