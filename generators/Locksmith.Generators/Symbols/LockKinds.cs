using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>The runtime's <c>LockKind</c> of a lock type, by name for the runtime's own types, else by capability.</summary>
internal static class LockKinds
{
    public static string Of(ITypeSymbol? type, LockCapabilities capabilities)
    {
        if (type is INamedTypeSymbol named && RuntimeSymbols.IsRuntimeType(named, named.MetadataName))
        {
            switch (named.MetadataName)
            {
                case "ExclusiveLock": return "Exclusive";
                case "ReentrantLock": return "Reentrant";
                case "CountingSemaphore": return "Semaphore";
                case "SpinGate": return "Spin";
                case "ReadWriteLock": return "ReadWrite";
                case "StripedLock`1": return "Striped";
                case "AsyncExclusiveLock": return "AsyncExclusive";
                case "AsyncReadWriteLock": return "AsyncReadWrite";
                case "AsyncStripedLock`1": return "AsyncStriped";
            }
        }

        bool isAsync = capabilities.IsAsync();

        // A lock held in PostgreSQL (Locksmith.Postgres): the manifest says distributed, as the lock's own kind does.
        if (isAsync && IsDistributed(type))
        {
            return (capabilities & LockCapabilities.Keyed) != 0 ? "DistributedKeyed"
                : (capabilities & LockCapabilities.ReadWrite) != 0 ? "DistributedReadWrite"
                : "DistributedExclusive";
        }

        // A user's lock type: the nearest kind its capabilities describe.
        if ((capabilities & LockCapabilities.Keyed) != 0)
        {
            return isAsync ? "AsyncStriped" : "Striped";
        }

        if ((capabilities & LockCapabilities.ReadWrite) != 0)
        {
            return isAsync ? "AsyncReadWrite" : "ReadWrite";
        }

        return isAsync ? "AsyncExclusive" : (capabilities & LockCapabilities.Reentrant) != 0 ? "Reentrant" : "Exclusive";
    }

    private static bool IsDistributed(ITypeSymbol? type)
    {
        for (var current = type?.BaseType; current is not null; current = current.BaseType)
        {
            if (current is { MetadataName: KnownNames.DistributedLockBase, ContainingType: null } &&
                current.ContainingNamespace?.ToDisplayString() == KnownNames.DistributedNamespace)
            {
                return true;
            }
        }

        return false;
    }
}
