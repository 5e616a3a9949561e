using System;
using System.Collections.Generic;
using System.Threading;

namespace Locksmith.Hosting;

/// <summary>
/// Remembers the recent long waits and timeouts the policy reported, for the health check. Events are rare (slow
/// paths only), so a private lock is enough. The counts over the sliding window are kept in two fixed rings of
/// <see cref="WindowCounter.Slots"/> slots made with the tracker (<see cref="WindowCounter"/>), so a storm of timeouts or
/// long waits within <see cref="LocksmithOptions.HealthWindow"/> neither keeps nor allocates anything per event (a queue
/// of each event's time did: 8 bytes a timeout, 16 a long wait, and its growth); the long waits' descriptions, which the
/// health check lists only the newest <see cref="LocksmithHealthCheck.ListedLongWaits"/> of, are kept for those only.
/// </summary>
internal sealed class LockEventTracker(RunningOptions options, TimeProvider time)
{
    /// <summary>How many long waits the tracker keeps described: the health check lists no more.</summary>
    internal const int DescribedLongWaits = LocksmithHealthCheck.ListedLongWaits;

    private readonly Lock _gate = new();
    private readonly WindowCounter _timeouts = new();
    private readonly WindowCounter _longWaits = new();
    private readonly Queue<(long At, RecentLongWait Wait)> _described = new(DescribedLongWaits + 1);

    /// <summary>How many long waits the tracker holds a description of (at most <see cref="DescribedLongWaits"/>).</summary>
    internal int RetainedLongWaits
    {
        get
        {
            lock (_gate)
            {
                return _described.Count;
            }
        }
    }

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
            _timeouts.Add(now, marked: false, time, options.Current.HealthWindow);
            if (longWait)
            {
                AddLongWait(now, new RecentLongWait(e.LockName, e.Mode, e.Waited, LocksmithLog.WaiterText(e.ThreadId), TimedOut: true));
            }

            Prune(now);
        }
    }

    public void LongWaitOccurred(LongWaitEvent e)
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            AddLongWait(now, new RecentLongWait(e.LockName, e.Mode, e.Waited, LocksmithLog.WaiterText(e.ThreadId), TimedOut: false));
            Prune(now);
        }
    }

    /// <summary>Whether a wait of <paramref name="waited"/> reaches the long-wait threshold (never while it is off).</summary>
    public bool IsLong(TimeSpan waited)
    {
        var threshold = options.Current.LongWaitThreshold;
        return threshold != Timeout.InfiniteTimeSpan && waited >= threshold;
    }

    /// <summary>
    /// The timeouts and long waits (granted or timed out) within the health window: their counts, and the newest
    /// <see cref="DescribedLongWaits"/> long waits, newest last.
    /// </summary>
    public RecentLockEvents Recent()
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            Prune(now);
            var newest = new List<RecentLongWait>(_described.Count);
            foreach (var (_, wait) in _described)
            {
                newest.Add(wait);
            }

            return new RecentLockEvents(_timeouts.Count, _longWaits.Count, _longWaits.Marked, newest);
        }
    }

    private void AddLongWait(long now, RecentLongWait wait)
    {
        _longWaits.Add(now, wait.TimedOut, time, options.Current.HealthWindow);
        _described.Enqueue((now, wait));
        if (_described.Count > DescribedLongWaits)
        {
            _described.Dequeue();
        }
    }

    private void Prune(long now)
    {
        var window = options.Current.HealthWindow;
        _timeouts.Prune(now, time, window);
        _longWaits.Prune(now, time, window);

        // The described ones are the newest of the counted ones: they leave with their own time, or with the slot that
        // counted them, which may leave up to a slot earlier.
        while (_described.TryPeek(out var entry) && (time.GetElapsedTime(entry.At, now) > window || _described.Count > _longWaits.Count))
        {
            _described.Dequeue();
        }
    }
}

/// <summary>
/// What the tracker holds for the health window: <paramref name="Timeouts"/>, <paramref name="LongWaits"/> (granted or
/// timed out), <paramref name="TimedOutLongWaits"/> of them timed out, and the <paramref name="Newest"/> long waits
/// described, newest last.
/// </summary>
internal readonly record struct RecentLockEvents(int Timeouts, int LongWaits, int TimedOutLongWaits, IReadOnlyList<RecentLongWait> Newest);

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
