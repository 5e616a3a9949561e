using System;
using System.Threading;

namespace Locksmith.Tests.Support;

/// <summary>Runs work on dedicated threads that start together; bounded by iteration counts, never by time.</summary>
internal static class Concurrently
{
    /// <summary>Runs <paramref name="body"/> on <paramref name="threads"/> threads (index passed in) and joins them, rethrowing the first failure.</summary>
    public static void Run(int threads, Action<int> body)
    {
        var start = new ManualResetEventSlim(false);
        Exception? failure = null;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                start.Wait();
                try
                {
                    body(index);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                }
            })
            { IsBackground = true, Name = $"worker-{index}" };
            workers[t].Start();
        }

        start.Set();
        foreach (var worker in workers)
        {
            worker.JoinGuarded();
        }

        if (failure is not null)
        {
            throw new AggregateException("A worker thread failed.", failure);
        }
    }

    /// <summary>Starts a background thread and returns it (for tests that hold a lock on another thread).</summary>
    public static Thread Start(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}
