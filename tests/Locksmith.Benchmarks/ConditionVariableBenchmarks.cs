using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// <see cref="ConditionVariable"/> on an <see cref="ExclusiveLock"/> against <see cref="Monitor.Wait(object)"/> /
/// <see cref="Monitor.PulseAll(object)"/>: a notify with no waiter (uncontended), and two threads handing a turn back
/// and forth (each hand-off is a wait and a notify). Time is per notify or per hand-off.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ConditionVariableBenchmarks
{
    private const int HandOffs = 20_000;

    private readonly object _monitor = new();
    private readonly ExclusiveLock _lock = new("cv-lock");
    private ConditionVariable _condition = null!;
    private TwoThreads _threads = null!;
    private Action<int> _monitorLoop = null!;
    private Action<int> _conditionLoop = null!;
    private int _turn;

    [GlobalSetup]
    public void Setup()
    {
        _condition = new ConditionVariable(_lock, "turn");
        _threads = new TwoThreads();
        _monitorLoop = me =>
        {
            for (int i = 0; i < HandOffs / 2; i++)
            {
                lock (_monitor)
                {
                    while (_turn != me)
                    {
                        Monitor.Wait(_monitor);
                    }

                    _turn = 1 - me;
                    Monitor.PulseAll(_monitor);
                }
            }
        };
        _conditionLoop = me =>
        {
            for (int i = 0; i < HandOffs / 2; i++)
            {
                using var scope = _lock.Acquire();
                while (_turn != me)
                {
                    _condition.Wait();
                }

                _turn = 1 - me;
                _condition.NotifyAll();
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    [Benchmark(Baseline = true), BenchmarkCategory("NotifyNoWaiter")]
    public void Monitor_PulseAll_NoWaiter()
    {
        lock (_monitor)
        {
            Monitor.PulseAll(_monitor);
        }
    }

    [Benchmark, BenchmarkCategory("NotifyNoWaiter")]
    public void ConditionVariable_NotifyAll_NoWaiter()
    {
        using var scope = _lock.Acquire();
        _condition.NotifyAll();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = HandOffs), BenchmarkCategory("HandOff2Threads")]
    public void Monitor_WaitPulse_2Threads()
    {
        _turn = 0;
        _threads.Run(_monitorLoop);
    }

    [Benchmark(OperationsPerInvoke = HandOffs), BenchmarkCategory("HandOff2Threads")]
    public void ConditionVariable_WaitNotify_2Threads()
    {
        _turn = 0;
        _threads.Run(_conditionLoop);
    }
}
