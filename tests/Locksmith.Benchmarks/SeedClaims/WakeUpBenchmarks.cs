using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks.SeedClaims;

/// <summary>
/// The seed: "Sleeping a thread and waking it up takes about 1 to 10 microseconds." Two threads hand a turn back and
/// forth: each one sleeps until the other wakes it. Time is per one-way hand-off (a round trip / 2), i.e. one
/// sleeping thread woken and running again.
/// </summary>
/// <remarks>
/// The baseline is the bare OS cost: a <see cref="ManualResetEventSlim"/> that never spins (each wait goes straight to
/// the kernel). The default-spinning event shows what a short spin saves when the other side answers at once;
/// <see cref="ConditionVariable"/> and <see cref="Monitor.Wait(object)"/> are the seed's condition variable (a
/// hand-off there also takes the lock back); the spin row never sleeps: it is the floor a hand-off between two cores
/// can reach (a cache line moving).
/// </remarks>
[MemoryDiagnoser]
public class WakeUpBenchmarks
{
    private const int RoundTrips = 2_000;

    private readonly ManualResetEventSlim _pingNoSpin = new(false, spinCount: 0);
    private readonly ManualResetEventSlim _pongNoSpin = new(false, spinCount: 0);
    private readonly ManualResetEventSlim _ping = new(false);
    private readonly ManualResetEventSlim _pong = new(false);
    private readonly ExclusiveLock _lock = new("wake-up");
    private readonly object _monitor = new();
    private ConditionVariable _turnChanged = null!;
    private TwoThreads _threads = null!;
    private Action<int> _eventNoSpinLoop = null!, _eventLoop = null!, _conditionLoop = null!, _conditionAfterReleaseLoop = null!, _monitorLoop = null!, _spinLoop = null!;
    private int _turn;

    [GlobalSetup]
    public void Setup()
    {
        _turnChanged = new ConditionVariable(_lock, "turn-changed");
        _threads = new TwoThreads();
        _eventNoSpinLoop = me => PingPong(me, _pingNoSpin, _pongNoSpin);
        _eventLoop = me => PingPong(me, _ping, _pong);
        _conditionLoop = me =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                using var scope = _lock.Acquire();
                while (_turn != me)
                {
                    _turnChanged.Wait();
                }

                _turn = 1 - me;
                _turnChanged.Notify();
            }
        };
        // The same hand-off, notifying after the lock is released: the woken thread then finds the lock free
        // instead of waking into a held lock and sleeping on it a second time.
        _conditionAfterReleaseLoop = me =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                using (_lock.Acquire())
                {
                    while (_turn != me)
                    {
                        _turnChanged.Wait();
                    }

                    _turn = 1 - me;
                }

                _turnChanged.Notify();
            }
        };
        _monitorLoop = me =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                lock (_monitor)
                {
                    while (_turn != me)
                    {
                        Monitor.Wait(_monitor);
                    }

                    _turn = 1 - me;
                    Monitor.Pulse(_monitor);
                }
            }
        };
        _spinLoop = me =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                SpinWait spinner = default;
                while (Volatile.Read(ref _turn) != me)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }

                Volatile.Write(ref _turn, 1 - me);
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    // Thread 0 serves, thread 1 returns; each resets its own event before answering, so no signal is lost or doubled.
    private static void PingPong(int me, ManualResetEventSlim ping, ManualResetEventSlim pong)
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            if (me == 0)
            {
                ping.Set();
                pong.Wait();
                pong.Reset();
            }
            else
            {
                ping.Wait();
                ping.Reset();
                pong.Set();
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * RoundTrips)]
    public void ManualResetEventSlim_NoSpin() => _threads.Run(_eventNoSpinLoop);

    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    public void ManualResetEventSlim_DefaultSpin() => _threads.Run(_eventLoop);

    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    public void ConditionVariable_WaitNotify()
    {
        _turn = 0;
        _threads.Run(_conditionLoop);
    }

    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    public void ConditionVariable_NotifyAfterRelease()
    {
        _turn = 0;
        _threads.Run(_conditionAfterReleaseLoop);
    }

    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    public void Monitor_WaitPulse()
    {
        _turn = 0;
        _threads.Run(_monitorLoop);
    }

    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    public void Spin_NoSleep()
    {
        _turn = 0;
        _threads.Run(_spinLoop);
    }
}
