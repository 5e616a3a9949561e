using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Locksmith.Generators.Tests.Support;

/// <summary>Runs a body on several threads released together, and rethrows the first failure.</summary>
internal static class Threads
{
    public static void Run(int threadCount, Action<int> body)
    {
        using var start = new Barrier(threadCount);
        var errors = new ConcurrentQueue<Exception>();
        var threads = new Thread[threadCount];
        for (int t = 0; t < threadCount; t++)
        {
            int index = t;
            threads[t] = new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    body(index);
                }
                catch (Exception exception)
                {
                    errors.Enqueue(exception);
                }
            })
            { IsBackground = true };
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (errors.TryDequeue(out var first))
        {
            throw new AggregateException(first);
        }
    }
}
