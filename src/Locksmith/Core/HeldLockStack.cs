using System;
using System.Runtime.CompilerServices;

namespace Locksmith;

/// <summary>
/// The ordered locks one owner holds, each with the highest level held up to it, so that an order check is one
/// comparison with <see cref="MaxLevel"/>. Grows by doubling and never shrinks: allocation-free in steady state.
/// </summary>
internal sealed class HeldLockStack
{
    private Entry[] _entries = new Entry[8];
    private int _count;

    /// <summary>The highest level held, or <see cref="int.MinValue"/> when nothing is held.</summary>
    public int MaxLevel = int.MinValue;

    /// <summary>How many ordered locks are held.</summary>
    public int Count => _count;

    /// <summary>The lock at <paramref name="index"/> (0 is the first acquired).</summary>
    public LockPrimitive this[int index] => _entries[index].Lock;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(LockPrimitive lockPrimitive)
    {
        var entries = _entries;
        int count = _count;
        if ((uint)count >= (uint)entries.Length)
        {
            entries = Grow();
        }

        int max = Math.Max(lockPrimitive.OrderLevel, MaxLevel);
        // Popped slots keep their lock, so re-taking the same lock at the same depth skips the write barrier.
        if (!ReferenceEquals(entries[count].Lock, lockPrimitive))
        {
            entries[count].Lock = lockPrimitive;
        }

        entries[count].MaxLevel = max;
        MaxLevel = max;
        _count = count + 1;
    }

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
            MaxLevel = top == 0 ? int.MinValue : entries[top - 1].MaxLevel;
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
            for (int j = i; j < _count; j++)
            {
                int level = _entries[j].Lock.OrderLevel;
                _entries[j].MaxLevel = j == 0 ? level : Math.Max(level, _entries[j - 1].MaxLevel);
            }

            MaxLevel = _count == 0 ? int.MinValue : _entries[_count - 1].MaxLevel;
            return;
        }

        // Not found: the lock was taken while still unordered and a [LockOrder] declaration ordered it since.
    }

    public bool Contains(LockPrimitive lockPrimitive)
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
    public LockPrimitive? Highest()
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
        public int MaxLevel;
    }
}
