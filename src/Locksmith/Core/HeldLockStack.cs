using System;
using System.Diagnostics;

namespace Locksmith;

/// <summary>
/// The ordered locks one owner holds, with the highest level held so far at each depth, so that an order
/// check is one comparison. Grows by doubling and never shrinks: allocation-free in steady state.
/// </summary>
internal sealed class HeldLockStack
{
    private LockPrimitive[] _locks = new LockPrimitive[8];
    private int[] _maxLevel = new int[8];
    private int _count;

    /// <summary>How many ordered locks are held.</summary>
    public int Count => _count;

    /// <summary>The highest level held, or <see cref="int.MinValue"/> when nothing is held.</summary>
    public int MaxLevel => _count == 0 ? int.MinValue : _maxLevel[_count - 1];

    /// <summary>The lock at <paramref name="index"/> (0 is the first acquired).</summary>
    public LockPrimitive this[int index] => _locks[index];

    public void Push(LockPrimitive lockPrimitive)
    {
        if (_count == _locks.Length)
        {
            Array.Resize(ref _locks, _count * 2);
            Array.Resize(ref _maxLevel, _count * 2);
        }

        int level = lockPrimitive.OrderLevel;
        _locks[_count] = lockPrimitive;
        _maxLevel[_count] = _count == 0 ? level : Math.Max(level, _maxLevel[_count - 1]);
        _count++;
    }

    /// <summary>Removes the most recent entry of <paramref name="lockPrimitive"/>; usually the top.</summary>
    public void Remove(LockPrimitive lockPrimitive)
    {
        int top = _count - 1;
        if (top >= 0 && ReferenceEquals(_locks[top], lockPrimitive))
        {
            _locks[top] = null!;
            _count = top;
            return;
        }

        RemoveOutOfOrder(lockPrimitive);
    }

    private void RemoveOutOfOrder(LockPrimitive lockPrimitive)
    {
        for (int i = _count - 1; i >= 0; i--)
        {
            if (!ReferenceEquals(_locks[i], lockPrimitive))
            {
                continue;
            }

            Array.Copy(_locks, i + 1, _locks, i, _count - i - 1);
            _count--;
            _locks[_count] = null!;
            for (int j = i; j < _count; j++)
            {
                int level = _locks[j].OrderLevel;
                _maxLevel[j] = j == 0 ? level : Math.Max(level, _maxLevel[j - 1]);
            }

            return;
        }

        Debug.Fail("Released an ordered lock that the owner's stack does not hold.");
    }

    public bool Contains(LockPrimitive lockPrimitive)
    {
        for (int i = _count - 1; i >= 0; i--)
        {
            if (ReferenceEquals(_locks[i], lockPrimitive))
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
            if (best is null || _locks[i].OrderLevel >= best.OrderLevel)
            {
                best = _locks[i];
            }
        }

        return best;
    }
}
