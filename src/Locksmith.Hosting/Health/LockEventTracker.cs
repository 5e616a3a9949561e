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
    private readonly Queue<(long At, RecentLongWait Wait)> _longWaits = new();

    /// <summary>
    /// Counts a timeout; one that waited at least <see cref="LocksmithOptions.LongWaitThreshold"/> is also a long wait,
    /// or a holder stuck past the threshold would count only as one timeout among <c>DegradedTimeoutCount</c>.
    /// </summary>
    public void TimeoutOccurred(LockTimeoutEvent e)
    {
        long now = time.GetTimestamp();
        bool longWait = IsLong(e.Waited);
        lock (_gate)
        {
            _timeouts.Enqueue(now);
            if (longWait)
            {
                _longWaits.Enqueue((now, new RecentLongWait(e.LockName, e.Mode, e.Waited, LocksmithLog.WaiterText(e.ThreadId), TimedOut: true)));
            }

            Prune(now);
        }
    }

    public void LongWaitOccurred(LongWaitEvent e)
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            _longWaits.Enqueue((now, new RecentLongWait(e.LockName, e.Mode, e.Waited, LocksmithLog.WaiterText(e.ThreadId), TimedOut: false)));
            Prune(now);
        }
    }

    /// <summary>Whether a wait of <paramref name="waited"/> reaches the long-wait threshold (never while it is off).</summary>
    public bool IsLong(TimeSpan waited)
    {
        var threshold = options.Value.LongWaitThreshold;
        return threshold != Timeout.InfiniteTimeSpan && waited >= threshold;
    }

    /// <summary>The timeouts and long waits (granted or timed out) within the health window, newest long wait last.</summary>
    public (int Timeouts, IReadOnlyList<RecentLongWait> LongWaits) Recent()
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            Prune(now);
            var longWaits = new List<RecentLongWait>(_longWaits.Count);
            foreach (var (_, wait) in _longWaits)
            {
                longWaits.Add(wait);
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

/// <summary>
/// A finished wait that lasted at least the long-wait threshold: granted (logged 14003) or timed out (14001).
/// <paramref name="Waiter"/> names it as the log's <c>Waiter</c> does (<c>thread 7 ('worker')</c>, <c>flow #2</c>), read
/// when the event ran on the waiter, since the thread's name cannot be read later.
/// </summary>
internal sealed record RecentLongWait(string LockName, LockMode Mode, TimeSpan Waited, string Waiter, bool TimedOut)
{
    public override string ToString() =>
        $"'{LockName}' ({Mode}) {(TimedOut ? "timed out after waiting" : "waited")} {Waited.TotalMilliseconds:0.###} ms, waiter {Waiter}";
}
