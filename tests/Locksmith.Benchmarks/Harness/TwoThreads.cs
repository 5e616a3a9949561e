using System;
using System.Threading;

namespace Locksmith.Benchmarks.Harness;

/// <summary>
/// Runs one loop on the benchmark thread and the same loop on a persistent second thread at the same time, so
/// contended benchmarks measure the primitive, not thread start-up. Allocation-free per invocation.
/// </summary>
public sealed class TwoThreads : IDisposable
{
    private readonly Thread _worker;
    private readonly SemaphoreSlim _go = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private Action<int>? _loop;
    private volatile bool _stop;

    public TwoThreads()
    {
        _worker = new Thread(WorkerLoop) { IsBackground = true, Name = "bench-worker" };
        _worker.Start();
    }

    /// <summary>Runs <paramref name="loop"/> (given the thread index 0 or 1) on both threads and waits for both.</summary>
    public void Run(Action<int> loop)
    {
        _loop = loop;
        _go.Release();
        loop(0);
        _done.Wait();
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _go.Wait();
            if (_stop)
            {
                return;
            }

            _loop!(1);
            _done.Release();
        }
    }

    public void Dispose()
    {
        _stop = true;
        _go.Release();
        _worker.Join();
    }
}
