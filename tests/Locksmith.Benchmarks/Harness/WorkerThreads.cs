using System;
using System.Threading;

namespace Locksmith.Benchmarks.Harness;

/// <summary>
/// Runs one loop on <see cref="Count"/> threads at once: the benchmark thread (index 0) and
/// <c>Count - 1</c> persistent workers, so contended benchmarks measure the primitive, not thread start-up.
/// </summary>
/// <remarks>
/// All threads pass a start line before entering the loop, so none of them runs alone while the others are
/// still waking up (with more threads than cores, waking takes a scheduler quantum or more). Allocation-free
/// per invocation: the signals are created once and the loop delegate is supplied by the caller.
/// </remarks>
public sealed class WorkerThreads : IDisposable
{
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _go = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private Action<int>? _loop;
    private int _arrived;
    private volatile bool _stop;

    /// <summary>Starts <paramref name="count"/> − 1 worker threads; the caller of <see cref="Run"/> is the last one.</summary>
    public WorkerThreads(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Count = count;
        _workers = new Thread[count - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"bench-worker-{index}" };
            _workers[i].Start();
        }
    }

    /// <summary>How many threads run the loop, the benchmark thread included.</summary>
    public int Count { get; }

    /// <summary>Runs <paramref name="loop"/> (given the thread index, 0 to <see cref="Count"/> − 1) on every thread and waits for all.</summary>
    public void Run(Action<int> loop)
    {
        _loop = loop;
        Volatile.Write(ref _arrived, 0);
        _go.Release(_workers.Length);
        StartLine();
        loop(0);
        for (int i = 0; i < _workers.Length; i++)
        {
            _done.Wait();
        }
    }

    // Everyone arrives, then everyone goes. The counter is reset by Run before the workers are released and not
    // touched again until all of them have reported done, so one counter serves every invocation.
    private void StartLine()
    {
        Interlocked.Increment(ref _arrived);
        SpinWait spinner = default;
        while (Volatile.Read(ref _arrived) < Count)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _go.Wait();
            if (_stop)
            {
                return;
            }

            StartLine();
            _loop!(index);
            _done.Release();
        }
    }

    /// <summary>Stops and joins the workers.</summary>
    public void Dispose()
    {
        _stop = true;
        _go.Release(_workers.Length);
        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        _go.Dispose();
        _done.Dispose();
    }
}
