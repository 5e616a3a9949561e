using System;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A 64-bit counter for hot paths that many threads write at once: writes are spread over several cells, each on its
/// own cache line, and <see cref="Sum"/> adds them up. The .NET counterpart of Java's <c>LongAdder</c>.
/// </summary>
/// <remarks>
/// <para>While no two threads collide, every add goes to one base field, as in <see cref="AtomicCounter"/>. The first
/// collision creates a table of two cells; each thread then adds to the cell its per-thread probe picks, moving to
/// another cell (a new probe) when it collides again, and the table doubles on repeated collisions, up to the next
/// power of two at or above twice the processor count. Adds never allocate once the table has grown.</para>
/// <para>Use it when writes far outnumber reads. Reading costs a pass over the cells, and <see cref="Sum"/> is
/// <b>not an atomic snapshot</b>: adds that run during the sum may or may not be counted. It is exact once the writers
/// have stopped. For a value you compare-and-swap or read often, use <see cref="AtomicCounter"/>.</para>
/// </remarks>
public sealed class StripedCounter
{
    private const int InitialCells = 2;

    private static readonly int s_maxCells = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(InitialCells, Environment.ProcessorCount * 2));

    private static long s_nextId;
    private static int s_probeSeed;

    // The current thread's hash, shared by every striped counter; 0 until the thread first collides.
    [ThreadStatic]
    private static int t_probe;

    private long _base;
    private CounterCell[]? _cells;

    // 1 while one thread creates or grows the table; others pick another cell meanwhile.
    private int _resizing;

    /// <summary>Creates a counter at 0.</summary>
    /// <param name="name">The name <see cref="ToString"/> shows; a generated one if null.</param>
    public StripedCounter(string? name = null)
    {
        Name = string.IsNullOrWhiteSpace(name) ? $"{nameof(StripedCounter)}#{Interlocked.Increment(ref s_nextId)}" : name;
    }

    /// <summary>The counter's name.</summary>
    public string Name { get; }

    /// <summary>The number of cells in the table, 0 before the first collision (for tests and diagnostics).</summary>
    internal int CellCount => Volatile.Read(ref _cells)?.Length ?? 0;

    /// <summary>The largest table a counter grows to on this machine.</summary>
    internal static int MaxCells => s_maxCells;

    /// <summary>Adds 1.</summary>
    public void Increment() => Add(1);

    /// <summary>Subtracts 1.</summary>
    public void Decrement() => Add(-1);

    /// <summary>Adds <paramref name="delta"/> (which may be negative); the sum wraps around on overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long delta)
    {
        var cells = _cells;
        if (cells is null)
        {
            long current = _base;
            if (Interlocked.CompareExchange(ref _base, current + delta, current) == current)
            {
                return;
            }
        }
        else
        {
            int probe = t_probe;
            var cell = cells[probe & (cells.Length - 1)];
            long current = cell.Slot.Value;
            if (probe != 0 && Interlocked.CompareExchange(ref cell.Slot.Value, current + delta, current) == current)
            {
                return;
            }
        }

        AddContended(delta);
    }

    /// <summary>The sum of all adds so far.</summary>
    /// <returns>The sum; exact when no add runs concurrently, otherwise it may miss adds that ran during the call.</returns>
    public long Sum()
    {
        long sum = Volatile.Read(ref _base);
        var cells = Volatile.Read(ref _cells);
        if (cells is not null)
        {
            foreach (var cell in cells)
            {
                sum += Volatile.Read(ref cell.Slot.Value);
            }
        }

        return sum;
    }

    /// <summary>Sets the counter to 0. Adds that run concurrently may be kept or lost; use <see cref="SumThenReset"/> to count every add once.</summary>
    public void Reset()
    {
        Volatile.Write(ref _base, 0);
        var cells = Volatile.Read(ref _cells);
        if (cells is not null)
        {
            foreach (var cell in cells)
            {
                Volatile.Write(ref cell.Slot.Value, 0);
            }
        }
    }

    /// <summary>
    /// Returns the sum and sets the counter to 0, taking each cell with an atomic exchange: every add is counted
    /// exactly once, in this result or in a later one (useful for per-interval metrics).
    /// </summary>
    /// <returns>The sum of the adds taken.</returns>
    public long SumThenReset()
    {
        long sum = Interlocked.Exchange(ref _base, 0);
        var cells = Volatile.Read(ref _cells);
        if (cells is not null)
        {
            foreach (var cell in cells)
            {
                sum += Interlocked.Exchange(ref cell.Slot.Value, 0);
            }
        }

        return sum;
    }

    /// <summary>The name and the current sum.</summary>
    public override string ToString() => $"{Name} = {Sum().ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The add after a collision (or this thread's first add to a table): move to another cell, or grow the table.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddContended(long delta)
    {
        // A thread with a probe got here by colliding on its cell: try another one first.
        int probe = t_probe;
        probe = probe == 0 ? NewProbe() : NextProbe(probe);
        t_probe = probe;

        bool collided = false;
        while (true)
        {
            var cells = Volatile.Read(ref _cells);
            if (cells is null)
            {
                // First collision on the base: create the table, unless another thread is doing so right now.
                if (!TryResize(null) && TryAdd(ref _base, delta))
                {
                    return;
                }

                continue;
            }

            if (TryAdd(ref cells[probe & (cells.Length - 1)].Slot.Value, delta))
            {
                return;
            }

            // Collided again. A second collision in a row (with a new probe each time) means the cells are too few.
            if (cells.Length >= s_maxCells || !ReferenceEquals(cells, Volatile.Read(ref _cells)))
            {
                collided = false;
            }
            else if (!collided)
            {
                collided = true;
            }
            else if (TryResize(cells))
            {
                collided = false;
                continue;
            }

            probe = NextProbe(probe);
            t_probe = probe;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryAdd(ref long location, long delta)
    {
        long current = Volatile.Read(ref location);
        return Interlocked.CompareExchange(ref location, current + delta, current) == current;
    }

    /// <summary>Replaces <paramref name="expected"/> (null: no table yet) by a table twice its size. False if another thread is resizing.</summary>
    private bool TryResize(CounterCell[]? expected)
    {
        if (Volatile.Read(ref _resizing) != 0 || Interlocked.CompareExchange(ref _resizing, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            // Someone else resized first: the caller retries on the new table.
            if (ReferenceEquals(Volatile.Read(ref _cells), expected))
            {
                int length = expected is null ? InitialCells : expected.Length * 2;
                var next = new CounterCell[length];
                int kept = 0;
                if (expected is not null)
                {
                    // The same cell objects move over, so adds racing with the growth are not lost.
                    Array.Copy(expected, next, expected.Length);
                    kept = expected.Length;
                }

                for (int i = kept; i < length; i++)
                {
                    next[i] = new CounterCell();
                }

                Volatile.Write(ref _cells, next);
            }

            return true;
        }
        finally
        {
            Volatile.Write(ref _resizing, 0);
        }
    }

    private static int NewProbe()
    {
        // Golden-ratio steps give consecutive threads well-spread hashes (and different low bits).
        int probe = Interlocked.Add(ref s_probeSeed, unchecked((int)0x9E3779B9));
        return probe == 0 ? 1 : probe;
    }

    /// <summary>Xorshift: cheap, and never turns a nonzero probe into 0.</summary>
    private static int NextProbe(int probe)
    {
        probe ^= probe << 13;
        probe ^= (int)((uint)probe >> 17);
        probe ^= probe << 5;
        return probe;
    }
}
