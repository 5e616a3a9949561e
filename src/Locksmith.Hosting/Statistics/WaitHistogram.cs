using System;
using System.Numerics;
using System.Threading;

namespace Locksmith.Hosting;

/// <summary>
/// A lock-free log-linear histogram of wait times in microseconds: four buckets per power of two (each within 25 %),
/// from 1 µs to far beyond any wait. Recording is one increment; reading walks 256 counters.
/// </summary>
internal sealed class WaitHistogram
{
    // Values below 4 µs have a bucket each (0..3); from 4 µs, bucket = 4 * log2(v) + the next two bits.
    private const int BucketCount = 4 * 64;

    private readonly long[] _buckets = new long[BucketCount];

    public void Record(double seconds)
    {
        long micros = seconds <= 0 ? 0 : seconds >= 1e12 ? long.MaxValue : (long)(seconds * 1_000_000);
        Interlocked.Increment(ref _buckets[IndexOf(micros)]);
    }

    public void AddTo(long[] totals)
    {
        for (int i = 0; i < BucketCount; i++)
        {
            totals[i] += Interlocked.Read(ref _buckets[i]);
        }
    }

    public static long[] NewTotals() => new long[BucketCount];

    /// <summary>The count, and the upper bounds in milliseconds of the bucket holding the 99th percentile and the maximum.</summary>
    public static (long Count, double P99Milliseconds, double MaxMilliseconds) Summarize(long[] totals)
    {
        long count = 0;
        foreach (long c in totals)
        {
            count += c;
        }

        if (count == 0)
        {
            return (0, 0, 0);
        }

        // The smallest bucket at or below which 99 % of the waits fall (nearest-rank).
        long rank = (long)Math.Ceiling(count * 0.99);
        long seen = 0;
        int p99 = 0;
        int max = 0;
        for (int i = 0; i < totals.Length; i++)
        {
            if (totals[i] == 0)
            {
                continue;
            }

            max = i;
            if (seen < rank)
            {
                seen += totals[i];
                p99 = i;
            }
        }

        return (count, UpperBoundMicros(p99) / 1000.0, UpperBoundMicros(max) / 1000.0);
    }

    internal static int IndexOf(long micros)
    {
        if (micros < 4)
        {
            return (int)Math.Max(micros, 0);
        }

        int log = BitOperations.Log2((ulong)micros);
        return Math.Min((log * 4) + (int)((micros >> (log - 2)) & 3), BucketCount - 1);
    }

    internal static double UpperBoundMicros(int index)
    {
        if (index < 4)
        {
            return index;
        }

        int log = index / 4;
        int sub = index % 4;
        return Math.Pow(2, log - 2) * (5 + sub);
    }
}
