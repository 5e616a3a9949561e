using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// What one thread knows about its <see cref="ReadWriteLock"/> use: the reader slot it counts itself in, the
/// read locks it holds (with the slot each hold was counted in), and its reusable wait node.
/// </summary>
/// <remarks>
/// Held locks are kept by <see cref="LockPrimitive.Id"/>, not by reference: storing a number needs no GC write
/// barrier on the read fast path. The array grows by doubling and never shrinks, so steady-state reading
/// allocates nothing. Usually it holds zero or one entry, so the recursion check is one comparison.
/// </remarks>
internal sealed class ReadWriteThreadState
{
    [ThreadStatic]
    private static ReadWriteThreadState? t_current;

    private static int s_nextSlot;

    /// <summary>The slot this thread counts its next read in. Moves when the thread finds it shared.</summary>
    public int Slot;

    /// <summary>How many read locks the thread holds.</summary>
    public int HeldCount;

    private HeldRead[] _held = new HeldRead[4];

    private ReadWriteThreadState(int slot) => Slot = slot;

    public static ReadWriteThreadState Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ?? Create();
    }

    public static ReadWriteThreadState? CurrentOrNull => t_current;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ReadWriteThreadState Create()
    {
        // Round-robin: threads that start reading one after another begin in different slots.
        var state = new ReadWriteThreadState(Interlocked.Increment(ref s_nextSlot) & ReaderSlot.IndexMask);
        t_current = state;
        return state;
    }

    /// <summary>Whether the thread holds the read lock with this id.</summary>
    public bool Holds(long lockId)
    {
        var held = _held;
        for (int i = HeldCount - 1; i >= 0; i--)
        {
            if (held[i].LockId == lockId)
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushHeld(long lockId, int slot)
    {
        var held = _held;
        int count = HeldCount;
        if ((uint)count < (uint)held.Length)
        {
            held[count] = new HeldRead(lockId, slot);
            HeldCount = count + 1;
            return;
        }

        PushHeldGrowing(lockId, slot);
    }

    /// <summary>Forgets a held read lock; returns the slot it was counted in, or -1 if the thread does not hold it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RemoveHeld(long lockId)
    {
        var held = _held;
        int top = HeldCount - 1;
        if ((uint)top < (uint)held.Length && held[top].LockId == lockId)
        {
            HeldCount = top;
            return held[top].Slot;
        }

        return RemoveHeldOutOfOrder(lockId);
    }

    /// <summary>
    /// Called when a read found another reader in this thread's slot: move to another slot, so two threads that
    /// keep reading together stop sharing one cache line. Holds already counted keep their recorded slot.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void MoveSlot() => Slot = (Slot + 1 + Random.Shared.Next(ReaderSlot.IndexMask)) & ReaderSlot.IndexMask;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PushHeldGrowing(long lockId, int slot)
    {
        Array.Resize(ref _held, _held.Length * 2);
        _held[HeldCount++] = new HeldRead(lockId, slot);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int RemoveHeldOutOfOrder(long lockId)
    {
        var held = _held;
        for (int i = HeldCount - 2; i >= 0; i--)
        {
            if (held[i].LockId != lockId)
            {
                continue;
            }

            int slot = held[i].Slot;
            Array.Copy(held, i + 1, held, i, HeldCount - i - 1);
            HeldCount--;
            return slot;
        }

        return -1;
    }

    private readonly struct HeldRead
    {
        public readonly long LockId;
        public readonly int Slot;

        public HeldRead(long lockId, int slot)
        {
            LockId = lockId;
            Slot = slot;
        }
    }
}
