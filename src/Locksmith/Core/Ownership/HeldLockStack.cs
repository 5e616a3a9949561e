using System;
using System.Runtime.CompilerServices;

namespace Locksmith;

/// <summary>
/// The ordered locks one owner holds and the highest level among them, so that an order check is one comparison
/// with <see cref="MaxLevel"/>. Grows by doubling and never shrinks: allocation-free in steady state.
/// </summary>
/// <remarks>
/// A struct kept in a field of <see cref="LockOwner"/> (never copied) so the fast paths reach it without another
/// pointer hop. Each entry remembers the maximum below it, so popping restores it with one load.
/// </remarks>
internal struct HeldLockStack
{
    private Entry[] _entries;
    private int _count;

    /// <summary>The highest level held, or <see cref="int.MinValue"/> when nothing is held.</summary>
    public int MaxLevel;

    public HeldLockStack(int capacity)
    {
        _entries = new Entry[capacity];
        _count = 0;
        MaxLevel = int.MinValue;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(LockPrimitive lockPrimitive) => Push(lockPrimitive, recordNesting: true);

    /// <summary>Pushes without counting a nesting: a flow's overflow holds, whose nesting its caller already counted.</summary>
    public void PushUnrecorded(LockPrimitive lockPrimitive) => Push(lockPrimitive, recordNesting: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Push(LockPrimitive lockPrimitive, bool recordNesting)
    {
        var entries = _entries;
        int count = _count;
        if ((uint)count >= (uint)entries.Length)
        {
            entries = Grow();
        }

        ref var entry = ref entries[count];
        // Popped slots keep their lock, so re-taking the same lock at the same depth skips the write barrier.
        if (!ReferenceEquals(entry.Lock, lockPrimitive))
        {
            entry.Lock = lockPrimitive;
        }

        int below = MaxLevel;
        entry.MaxBelow = below;
        MaxLevel = Math.Max(lockPrimitive.OrderLevel, below);
        _count = count + 1;

        // Nesting is recorded only under a held lock and only while asked for: the unnested path tests a register.
        if (recordNesting && count != 0 && LockNesting.Active)
        {
            FlowOrder.RecordSyncNesting(entries[count - 1].Lock, lockPrimitive);
        }
    }

    /// <summary>The lock pushed last, or null when nothing is held.</summary>
    public readonly LockPrimitive? Top => _count > 0 ? _entries[_count - 1].Lock : null;

    /// <summary>Removes the most recent entry of <paramref name="lockPrimitive"/>; usually the top.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Remove(LockPrimitive lockPrimitive)
    {
        var entries = _entries;
        int top = _count - 1;
        if ((uint)top < (uint)entries.Length && ReferenceEquals(entries[top].Lock, lockPrimitive))
        {
            // The slot keeps its reference until overwritten: clearing it would cost a write barrier per release.
            _count = top;
            MaxLevel = entries[top].MaxBelow;
            return;
        }

        RemoveOutOfOrder(lockPrimitive);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Entry[] Grow()
    {
        Array.Resize(ref _entries, _entries.Length * 2);
        return _entries;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RemoveOutOfOrder(LockPrimitive lockPrimitive)
    {
        for (int i = _count - 1; i >= 0; i--)
        {
            if (!ReferenceEquals(_entries[i].Lock, lockPrimitive))
            {
                continue;
            }

            Array.Copy(_entries, i + 1, _entries, i, _count - i - 1);
            _count--;
            _entries[_count] = default;
            int max = i == 0 ? int.MinValue : Math.Max(_entries[i - 1].MaxBelow, _entries[i - 1].Lock.OrderLevel);
            for (int j = i; j < _count; j++)
            {
                _entries[j].MaxBelow = max;
                max = Math.Max(max, _entries[j].Lock.OrderLevel);
            }

            MaxLevel = max;
            return;
        }

        // Not found: the lock was taken while still unordered and a [LockOrder] declaration ordered it since.
    }

    public readonly bool Contains(LockPrimitive lockPrimitive)
    {
        for (int i = _count - 1; i >= 0; i--)
        {
            if (ReferenceEquals(_entries[i].Lock, lockPrimitive))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The held lock with the highest level (the most recent one among equals).</summary>
    public readonly LockPrimitive? Highest()
    {
        LockPrimitive? best = null;
        for (int i = 0; i < _count; i++)
        {
            if (best is null || _entries[i].Lock.OrderLevel >= best.OrderLevel)
            {
                best = _entries[i].Lock;
            }
        }

        return best;
    }

    // A struct array: storing into it needs no covariance check, unlike a LockPrimitive[].
    private struct Entry
    {
        public LockPrimitive Lock;
        public int MaxBelow;
    }
}
