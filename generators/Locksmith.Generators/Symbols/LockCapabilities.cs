using System;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>What a lock type can do, read from the capability interfaces it implements.</summary>
[Flags]
internal enum LockCapabilities
{
    None = 0,
    Exclusive = 1,
    ReadWrite = 2,
    Keyed = 4,
    ThreadAffine = 8,
    Reentrant = 16,
}

/// <summary>Reads <see cref="LockCapabilities"/> from a type.</summary>
internal static class LockCapabilitiesReader
{
    /// <summary>The capabilities of a concrete lock type; none for interfaces (the emitted code calls the concrete type).</summary>
    public static LockCapabilities Of(ITypeSymbol? type)
    {
        if (type is null || type.TypeKind is TypeKind.Interface or TypeKind.Error)
        {
            return LockCapabilities.None;
        }

        var capabilities = LockCapabilities.None;
        foreach (var implemented in type.AllInterfaces)
        {
            capabilities |= implemented.MetadataName switch
            {
                KnownNames.ExclusiveAccessLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.ExclusiveAccessLock) => LockCapabilities.Exclusive,
                KnownNames.ReadWriteAccessLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.ReadWriteAccessLock) => LockCapabilities.ReadWrite,
                KnownNames.KeyedAccessLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.KeyedAccessLock) => LockCapabilities.Keyed,
                KnownNames.ThreadAffineLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.ThreadAffineLock) => LockCapabilities.ThreadAffine,
                KnownNames.ReentrantAccessLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.ReentrantAccessLock) => LockCapabilities.Reentrant,
                _ => LockCapabilities.None,
            };
        }

        return capabilities;
    }

    /// <summary>Whether the capabilities describe a lock the wrappers can take.</summary>
    public static bool IsLock(this LockCapabilities capabilities) =>
        (capabilities & (LockCapabilities.Exclusive | LockCapabilities.ReadWrite | LockCapabilities.Keyed)) != 0;

    /// <summary>How a message names the kind of lock.</summary>
    public static string Describe(this LockCapabilities capabilities) =>
        (capabilities & (LockCapabilities.Keyed | LockCapabilities.ReadWrite)) == (LockCapabilities.Keyed | LockCapabilities.ReadWrite) ? "a keyed read-write lock"
        : (capabilities & LockCapabilities.Keyed) != 0 ? "a keyed lock"
        : (capabilities & LockCapabilities.ReadWrite) != 0 ? "a read-write lock"
        : (capabilities & LockCapabilities.Exclusive) != 0 ? "an exclusive lock"
        : "not a lock";

    /// <summary>The call a message suggests for taking the lock in its write (or only) mode.</summary>
    public static string SuggestedAcquire(this LockCapabilities capabilities) =>
        (capabilities & (LockCapabilities.Keyed | LockCapabilities.ReadWrite)) == (LockCapabilities.Keyed | LockCapabilities.ReadWrite) ? "AcquireWrite(key)"
        : (capabilities & LockCapabilities.Keyed) != 0 ? "Acquire(key)"
        : (capabilities & LockCapabilities.ReadWrite) != 0 ? "AcquireWrite()"
        : "Acquire()";
}
