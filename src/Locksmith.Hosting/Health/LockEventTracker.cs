using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Remembers the recent long waits and timeouts the policy reported, for the health check. Events are rare (slow
/// paths only), so a private lock and two small queues pruned to the health window are enough.
/// </summary>
internal sealed class LockEventTracker(IOptions<LocksmithOptions> options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Queue<long> _timeouts = new();
    private readonly Queue<(long At, LongWaitEvent Event)> _longWaits = new();

    public void TimeoutOccurred()
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            _timeouts.Enqueue(now);
            Prune(now);
        }
    }

    public void LongWaitOccurred(LongWaitEvent e)
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            _longWaits.Enqueue((now, e));
            Prune(now);
        }
    }

    /// <summary>The timeouts and long waits within the health window, newest long wait last.</summary>
    public (int Timeouts, IReadOnlyList<LongWaitEvent> LongWaits) Recent()
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            Prune(now);
            var longWaits = new List<LongWaitEvent>(_longWaits.Count);
            foreach (var (_, e) in _longWaits)
            {
                longWaits.Add(e);
            }

            return (_timeouts.Count, longWaits);
        }
    }

    private void Prune(long now)
    {
        var window = options.Value.HealthWindow;
        while (_timeouts.TryPeek(out long at) && time.GetElapsedTime(at, now) > window)
        {
            _timeouts.Dequeue();
        }

        while (_longWaits.TryPeek(out var entry) && time.GetElapsedTime(entry.At, now) > window)
        {
            _longWaits.Dequeue();
        }
    }
}
