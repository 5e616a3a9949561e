using System.Collections.Concurrent;
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

    /// <summary>The guard of <paramref name="symbol"/>, or null when it has no valid <c>[Guarded]</c> (the generator reports those).</summary>
    public static Guard? Of(ISymbol symbol)
    {
        if (GuardedAttributeData.Of(symbol) is not { } data || symbol.ContainingType is null)
        {
            return null;
        }

        var lockMember = LockMembers.Find(symbol.ContainingType, data.Lock);
        var capabilities = LockCapabilitiesReader.Of(LockMembers.TypeOf(lockMember));
        return lockMember is not null && capabilities.IsLock() ? new Guard(lockMember, capabilities, data.IsRead) : null;
    }
}

/// <summary>Guards looked up once per symbol during one compilation's analysis.</summary>
internal sealed class GuardCache
{
    private readonly ConcurrentDictionary<ISymbol, Guard?> _guards = new(SymbolEqualityComparer.Default);

    public Guard? Get(ISymbol symbol) => _guards.GetOrAdd(symbol.OriginalDefinition, static s => Guard.Of(s));
}
