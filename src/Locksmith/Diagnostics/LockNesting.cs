using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Records which ordered lock was held when another ordered lock was taken (outer → inner, with a count), while at
/// least one recorder is open: the edges a lock-order graph draws from what the program really did. Off by default.
/// </summary>
/// <remarks>
/// <para>Only nested acquisitions pay: an acquisition with no ordered lock held tests one count it already has in a
/// register, and with no recorder open a nested one reads one static field more. While recording, a nested acquisition
/// finds its edge in the inner lock's short copy-on-write list and increments its count (no allocation, no global lock);
/// only the first sighting of an edge allocates. The outer lock is the one most recently taken among those held; a
/// thread that takes a lock while the async flow it runs holds one (and the thread holds none) records the flow's.</para>
/// <para>Read the edges with <see cref="LockPrimitive.GetObservedNesting"/> on the inner lock.</para>
/// </remarks>
public static class LockNesting
{
    // Each lock keeps at most this many distinct outer locks; later ones are not recorded, so a lock nested under an
    // unbounded number of transient locks cannot grow without limit.
    internal const int MaxEdgesPerLock = 64;

    private static int s_recorders;

    /// <summary>Whether any recorder is open.</summary>
    public static bool IsRecording => Volatile.Read(ref s_recorders) != 0;

    /// <summary>
    /// Starts recording nestings, process-wide, until the returned handle is disposed. Recorders nest: recording stops
    /// when the last one is disposed. Edges already recorded are kept.
    /// </summary>
    /// <returns>The handle that ends this recorder; disposing it twice is harmless.</returns>
    public static IDisposable BeginRecording()
    {
        Interlocked.Increment(ref s_recorders);
        return new Recorder();
    }

    /// <summary>The fast test the held-lock stack makes when something is held.</summary>
    internal static bool Active
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_recorders != 0;
    }

    /// <summary>Counts one acquisition of <paramref name="inner"/> while <paramref name="outer"/> was held.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Record(LockPrimitive outer, LockPrimitive inner)
    {
        // A stripe nests as its striped lock (as its metrics count), so the edge is where a catalog of locks reads it
        // and two keys of one striped lock are no edge.
        outer = outer.StripedParent ?? outer;
        inner = inner.StripedParent ?? inner;
        if (ReferenceEquals(outer, inner))
        {
            return;
        }

        var edges = Volatile.Read(ref inner.NestedUnder);
        if (edges is not null)
        {
            foreach (var edge in edges)
            {
                if (ReferenceEquals(edge.Outer, outer))
                {
                    Interlocked.Increment(ref edge.Count);
                    return;
                }
            }
        }

        AddEdge(outer, inner);
    }

    // The first sighting: copy-on-write with a compare-and-swap, retried if another thread added an edge meanwhile.
    private static void AddEdge(LockPrimitive outer, LockPrimitive inner)
    {
        var added = new Edge(outer);
        while (true)
        {
            var edges = Volatile.Read(ref inner.NestedUnder);
            if (edges is not null)
            {
                foreach (var edge in edges)
                {
                    if (ReferenceEquals(edge.Outer, outer))
                    {
                        Interlocked.Increment(ref edge.Count);
                        return;
                    }
                }

                if (edges.Length >= MaxEdgesPerLock)
                {
                    return;
                }
            }

            Edge[] grown;
            if (edges is null)
            {
                grown = [added];
            }
            else
            {
                grown = new Edge[edges.Length + 1];
                edges.CopyTo(grown, 0);
                grown[^1] = added;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref inner.NestedUnder, grown, edges), edges))
            {
                return;
            }
        }
    }

    /// <summary>The edges into <paramref name="inner"/> as plain data.</summary>
    internal static IReadOnlyList<LockNestingEdge> Read(LockPrimitive inner)
    {
        var edges = Volatile.Read(ref inner.NestedUnder);
        if (edges is null)
        {
            return [];
        }

        var result = new LockNestingEdge[edges.Length];
        for (int i = 0; i < edges.Length; i++)
        {
            var outer = edges[i].Outer;
            result[i] = new LockNestingEdge(outer.Name, outer.Level, inner.Name, inner.Level, Interlocked.Read(ref edges[i].Count));
        }

        return result;
    }

    /// <summary>One outer lock seen held while the owning lock was taken.</summary>
    internal sealed class Edge(LockPrimitive outer)
    {
        public readonly LockPrimitive Outer = outer;
        public long Count = 1;
    }

    private sealed class Recorder : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref s_recorders);
            }
        }
    }
}

/// <summary>
/// A nesting the program performed: <see cref="InnerName"/> was acquired <see cref="Count"/> times while
/// <see cref="OuterName"/> was the most recently taken ordered lock held (see <see cref="LockNesting"/>).
/// </summary>
/// <param name="OuterName">The lock that was held.</param>
/// <param name="OuterLevel">Its level in the global order.</param>
/// <param name="InnerName">The lock that was taken.</param>
/// <param name="InnerLevel">Its level in the global order.</param>
/// <param name="Count">How many times, since recording first saw it.</param>
public readonly record struct LockNestingEdge(string OuterName, int? OuterLevel, string InnerName, int? InnerLevel, long Count);
