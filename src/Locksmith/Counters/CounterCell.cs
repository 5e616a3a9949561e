using System.Runtime.InteropServices;

namespace Locksmith;

/// <summary>
/// One slot of a <see cref="StripedCounter"/>, padded so that no other slot's value shares its cache line.
/// </summary>
/// <remarks>
/// A class, not an array element: when the counter grows its table, the new table refers to the same cells, so an
/// add that raced with the growth still lands in a cell that is summed.
/// </remarks>
internal sealed class CounterCell
{
    /// <summary>The padded value; CAS on <c>Slot.Value</c>.</summary>
    public Padded Slot;

    /// <summary>
    /// 128 bytes with the value in the middle: 64 bytes on either side keep it off its neighbours' lines, and 128
    /// rather than 64 also defeats the adjacent-line prefetcher, which moves lines in pairs.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    internal struct Padded
    {
        /// <summary>The cell's share of the sum.</summary>
        [FieldOffset(64)]
        public long Value;
    }
}
