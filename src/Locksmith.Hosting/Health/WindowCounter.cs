using System;

namespace Locksmith.Hosting;

/// <summary>
/// Counts events within a sliding window in a fixed ring of <see cref="Slots"/> slots made once: an event within a
/// 1/<see cref="Slots"/> of the window of the newest slot's first event adds to that slot, so a storm of events costs
/// no memory per event and nothing is allocated after construction. A slot leaves the window with its first event, so a
/// count may drop events up to 1/<see cref="Slots"/> of the window (0.23 s of the default minute) before they are as old
/// as the window. Not thread-safe: the tracker calls it under its gate.
/// </summary>
internal sealed class WindowCounter
{
    /// <summary>How many slots the ring has.</summary>
    internal const int Slots = 256;

    private readonly long[] _at = new long[Slots];
    private readonly int[] _counts = new int[Slots];
    private readonly int[] _marked = new int[Slots];
    private int _oldest;
    private int _used;

    /// <summary>The events within the window, as of the last <see cref="Prune"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Of <see cref="Count"/>, those added as marked (long waits that timed out).</summary>
    public int Marked { get; private set; }

    /// <summary>Adds an event at <paramref name="now"/> (timestamps from <paramref name="time"/>), after pruning.</summary>
    public void Add(long now, bool marked, TimeProvider time, TimeSpan window)
    {
        Prune(now, time, window);
        int newest = (_oldest + _used - 1) & (Slots - 1);
        if (_used == 0 || (time.GetElapsedTime(_at[newest], now) >= window / Slots && _used < Slots))
        {
            newest = (_oldest + _used) & (Slots - 1);
            _at[newest] = now;
            _counts[newest] = 0;
            _marked[newest] = 0;
            _used++;
        }

        // A full ring (its slots closer together than the resolution, after a clock step) adds to the newest slot.
        _counts[newest]++;
        _marked[newest] += marked ? 1 : 0;
        Count++;
        Marked += marked ? 1 : 0;
    }

    /// <summary>Drops the slots whose first event is older than <paramref name="window"/>.</summary>
    public void Prune(long now, TimeProvider time, TimeSpan window)
    {
        while (_used > 0 && time.GetElapsedTime(_at[_oldest], now) > window)
        {
            Count -= _counts[_oldest];
            Marked -= _marked[_oldest];
            _oldest = (_oldest + 1) & (Slots - 1);
            _used--;
        }
    }
}
