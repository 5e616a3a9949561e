using System;
using System.Collections.Generic;
using System.Threading;

namespace Locksmith.Testing.Support;

/// <summary>Runs work on dedicated threads that start together; bounded by iteration counts, never by time.</summary>
public static class Concurrently
{
    /// <summary>
    /// Runs <paramref name="body"/> on <paramref name="threads"/> threads (index passed in) released together once all
    /// have started, joins them, and rethrows every failure on the calling thread.
    /// </summary>
    /// <exception cref="AggregateException">A worker threw, or never ended within the hang limit.</exception>
    public static void Run(int threads, Action<int> body)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        using var ready = new CountdownEvent(threads);
        using var go = new ManualResetEventSlim(false);
        var workers = new Worker[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = Worker.Start($"worker-{index}", () =>
            {
                ready.Signal();
                go.Wait();
                body(index);
            });
        }

        var failures = new List<Exception>();
        if (ready.Wait(Guard.HangLimit))
        {
            go.Set();
            foreach (var worker in workers)
            {
                if (worker.JoinAndTakeFailure() is { } failure)
                {
                    failures.Add(new AggregateException($"Thread '{worker.Name}' failed.", failure));
                }
            }
        }
        else
        {
            failures.Add(new TimeoutException("Hang guard: the worker threads never all started."));
        }

        if (failures.Count > 0)
        {
            throw new AggregateException($"{failures.Count} of {threads} worker threads failed.", failures);
        }
    }

    /// <summary>Starts <paramref name="body"/> on a named background thread (for tests that act on another thread).</summary>
    public static Worker Start(string name, Action body) => Worker.Start(name, body);
}
