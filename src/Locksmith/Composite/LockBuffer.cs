using System.Runtime.CompilerServices;

namespace Locksmith;

/// <summary>Inline room for the locks of a small set, so sets of up to four locks need no array.</summary>
[InlineArray(Capacity)]
internal struct LockBuffer
{
    public const int Capacity = 4;

    private LockPrimitive? _element;
}
