using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Locksmith.Worker;

/// <summary>
/// Runs a body on dedicated threads (the work blocks on locks, conditions and barriers, which should not hold
/// thread-pool threads), joins them and rethrows their failures on the caller.
/// </summary>
internal static class Participants
{
    /// <summary>
    /// Runs <paramref name="body"/> on <paramref name="count"/> threads named <c>{name}-{index}</c>. The first failure
    /// cancels the token every body is given, so threads waiting on the others give up instead of hanging.
    /// </summary>
    /// <exception cref="AggregateException">A body threw (cancellations caused by another's failure are left out).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static void Run(string name, int count, CancellationToken cancellationToken, Action<int, CancellationToken> body)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var failures = new ConcurrentQueue<Exception>();
        var threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            threads[i] = new Thread(() =>
            {
                try
                {
                    body(index, failed.Token);
                }
                catch (Exception error) when (!(failed.IsCancellationRequested && error is OperationCanceledException or BrokenBarrierException))
                {
                    failures.Enqueue(error);

                    failed.Cancel();
                }
                catch (Exception)
                {
                    // Released because another thread failed or the caller cancelled: that cause is reported instead.
                }
            })
            { IsBackground = true, Name = $"{name}-{index}" };
            threads[i].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (!failures.IsEmpty)
        {
            throw new AggregateException($"{failures.Count} of {count} '{name}' threads failed.", failures);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }
}
