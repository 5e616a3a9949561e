using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Locksmith;

/// <summary>
/// One counter of a <see cref="ReadWriteLock"/>'s distributed reader indicator, padded to 128 bytes so readers
/// counting themselves in different slots never write to the same cache line (nor to an adjacent-line pair).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct ReaderSlot
{
    /// <summary>Slots a lock has: a power of two, about twice the processors (4 to 64), so threads rarely share one.</summary>
    public static readonly int TableLength = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount * 2, 4, 64));

    /// <summary><see cref="TableLength"/> - 1: a thread's slot index is masked with it.</summary>
    public static readonly int IndexMask = TableLength - 1;

    // Mid-struct: 64 bytes of padding on each side keep the array header and the neighbouring counts off its line.
    [FieldOffset(64)]
    public int Count;
}
