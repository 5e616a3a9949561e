using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>What a <c>[Guarded]</c> declares for one member or method: the lock member and the access mode.</summary>
internal sealed class Guard
{
    public Guard(ISymbol lockMember, LockCapabilities capabilities, bool isRead)
    {
        LockMember = lockMember;
        Capabilities = capabilities;
        IsRead = isRead;
    }

    public ISymbol LockMember { get; }

    public LockCapabilities Capabilities { get; }

    public bool IsRead { get; }
}
