using System;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Hosting;

/// <summary>
/// Returned by <c>AddLocksmith</c>: declares the container's named locks. Every lock is a keyed singleton
/// (<c>[FromKeyedServices("ledger")] ExclusiveLock ledger</c>) and is listed by <see cref="ILockCatalog"/>.
/// </summary>
public interface ILocksmithBuilder
{
    /// <summary>The service collection the locks are registered in.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// Registers a named lock of any kind: the extension point the <c>Add…Lock</c> methods are built on, and the one a
    /// new lock type uses. The lock is created once by <paramref name="factory"/>, when the host starts (or at its first
    /// resolution, if that comes first); it is resolvable as <typeparamref name="TLock"/> and as <see cref="LockPrimitive"/>
    /// under the key <paramref name="name"/>. A lock whose <see cref="LockPrimitive.Name"/> is not <paramref name="name"/>
    /// fails the host's start with an <see cref="InvalidOperationException"/> naming both names.
    /// </summary>
    /// <typeparam name="TLock">The lock's type.</typeparam>
    /// <param name="name">The key, which must also be the created lock's <see cref="LockPrimitive.Name"/>.</param>
    /// <param name="factory">Creates the lock.</param>
    /// <param name="describe">Reads the lock's live state for the catalog, or null when the type exposes none.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">
    /// A lock named <paramref name="name"/> is already registered, or the container was already built (the service
    /// collection is read-only); the message names the lock.
    /// </exception>
    ILocksmithBuilder Register<TLock>(string name, Func<IServiceProvider, TLock> factory, Func<TLock, LockState>? describe = null)
        where TLock : LockPrimitive;
}
