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

    /// <summary>Held by an async flow: its wrappers are async and await the acquisition.</summary>
    Async = 32,
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
                KnownNames.AsyncExclusiveAccessLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.AsyncExclusiveAccessLock) => LockCapabilities.Exclusive | LockCapabilities.Async,
                KnownNames.AsyncReadWriteAccessLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.AsyncReadWriteAccessLock) => LockCapabilities.ReadWrite | LockCapabilities.Async,
                KnownNames.AsyncKeyedAccessLock when RuntimeSymbols.IsRuntimeType(implemented, KnownNames.AsyncKeyedAccessLock) => LockCapabilities.Keyed | LockCapabilities.Async,
                _ => LockCapabilities.None,
            };
        }

        return capabilities;
    }

    /// <summary>Whether the capabilities describe a lock the wrappers can take.</summary>
    public static bool IsLock(this LockCapabilities capabilities) =>
        (capabilities & (LockCapabilities.Exclusive | LockCapabilities.ReadWrite | LockCapabilities.Keyed)) != 0;

    /// <summary>Whether the lock is async (its wrappers await it and hold it across awaits).</summary>
    public static bool IsAsync(this LockCapabilities capabilities) => (capabilities & LockCapabilities.Async) != 0;

    /// <summary>The async lock a message suggests in place of a synchronous one of these capabilities.</summary>
    public static string AsyncCounterpart(this LockCapabilities capabilities, bool readMostly) =>
        (capabilities & LockCapabilities.Keyed) != 0 ? "an AsyncStripedLock<TKey>"
        : readMostly || (capabilities & LockCapabilities.ReadWrite) != 0 ? "an AsyncReadWriteLock"
        : "an AsyncExclusiveLock";

    /// <summary>How a message names the kind of lock.</summary>
    public static string Describe(this LockCapabilities capabilities)
    {
        bool keyed = (capabilities & LockCapabilities.Keyed) != 0;
        bool readWrite = (capabilities & LockCapabilities.ReadWrite) != 0;
        string? kind = keyed && readWrite ? "keyed read-write lock"
            : keyed ? "keyed lock"
            : readWrite ? "read-write lock"
            : (capabilities & LockCapabilities.Exclusive) != 0 ? "exclusive lock"
            : null;
        return kind is null ? "not a lock"
            : capabilities.IsAsync() ? "an async " + kind
            : kind[0] == 'e' ? "an " + kind
            : "a " + kind;
    }

    /// <summary>The read-write lock a message suggests for async code (an async lock or core) or synchronous code.</summary>
    public static string ReadWriteLockFor(bool async) => async ? "an AsyncReadWriteLock" : "a ReadWriteLock";

    /// <summary>The keyed lock a message suggests for async code (an async lock or core) or synchronous code.</summary>
    public static string KeyedLockFor(bool async) => async ? "an AsyncStripedLock<TKey>" : "a StripedLock<TKey>";

    /// <summary>
    /// The Locksmith locks a message lists for a member guarded by something else: the async ones for an async core,
    /// the synchronous ones for a synchronous core, both for state (which code of either kind may touch).
    /// </summary>
    public static string LocksFor(bool? async) => async switch
    {
        true => "AsyncExclusiveLock, AsyncReadWriteLock or AsyncStripedLock<TKey>",
        false => "ExclusiveLock, ReentrantLock, ReadWriteLock, CountingSemaphore or StripedLock<TKey>",
        null => "ExclusiveLock, ReadWriteLock or StripedLock<TKey> (AsyncExclusiveLock, AsyncReadWriteLock or AsyncStripedLock<TKey> for state that async code uses)",
    };

    /// <summary>The synchronous lock a message suggests in place of an async one of these capabilities.</summary>
    public static string SyncCounterpart(this LockCapabilities capabilities) =>
        (capabilities & LockCapabilities.Keyed) != 0 ? "a StripedLock<TKey>"
        : (capabilities & LockCapabilities.ReadWrite) != 0 ? "a ReadWriteLock"
        : "an ExclusiveLock";

    /// <summary>What a suggested acquisition starts with: <c>await </c> for an async lock.</summary>
    public static string SuggestedAwait(this LockCapabilities capabilities) => capabilities.IsAsync() ? "await " : string.Empty;

    /// <summary>
    /// The call a message suggests for taking the lock: in its write (or only) mode, or, for a read-write lock and
    /// <paramref name="read"/> (the code only reads what it guards), in its read mode.
    /// </summary>
    public static string SuggestedAcquire(this LockCapabilities capabilities, bool read = false) =>
        capabilities.IsAsync() ? SuggestedAcquire(capabilities & ~LockCapabilities.Async, read).Replace("(", "Async(")
        : (capabilities & (LockCapabilities.Keyed | LockCapabilities.ReadWrite)) == (LockCapabilities.Keyed | LockCapabilities.ReadWrite) ? (read ? "AcquireRead(key)" : "AcquireWrite(key)")
        : (capabilities & LockCapabilities.Keyed) != 0 ? "Acquire(key)"
        : (capabilities & LockCapabilities.ReadWrite) != 0 ? (read ? "AcquireRead()" : "AcquireWrite()")
        : "Acquire()";
}
