using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres;

/// <summary>
/// A read-write distributed lock: readers hold the name's advisory lock shared (<c>pg_advisory_lock_shared</c>), a
/// writer holds it exclusively, across every process that uses the database.
/// </summary>
/// <remarks>
/// Who goes first when readers and writers wait is the server's queue (a waiting writer blocks later readers). The
/// key is derived from the name as for <see cref="PostgresExclusiveLock"/>. Generated <c>[Guarded]</c> wrappers take
/// it like an <see cref="AsyncReadWriteLock"/>.
/// </remarks>
public sealed class PostgresReadWriteLock : PostgresLock, IAsyncReadWriteAccessLock, IAsyncOwnedLock
{
    private readonly AdvisoryKey _key;

    /// <summary>Creates the lock (see <see cref="PostgresLockProvider.CreateReadWriteLock"/>).</summary>
    /// <param name="provider">The database and connections.</param>
    /// <param name="name">The lock's name: its identity in every process.</param>
    /// <param name="level">Its level in the global lock order (both modes), or null for unordered.</param>
    public PostgresReadWriteLock(PostgresLockProvider provider, string name, int? level = null)
        : base(provider, name, level, LockKind.DistributedReadWrite)
    {
        _key = provider.RegisterName(name, level);
        AsyncOwners.Register(this);
    }

    /// <summary>Whether the current async flow holds the lock, in either mode.</summary>
    public bool IsHeldByCurrentFlow => IsHeldByCurrentFlowOf(_key);

    /// <summary>The lost-lock token of the current flow's hold, or <see cref="CancellationToken.None"/> (see <see cref="PostgresExclusiveLock.CurrentFlowLostToken"/>).</summary>
    public CancellationToken CurrentFlowLostToken => CurrentFlowLostTokenOf(_key);

    internal override int ExclusiveOwnerId => Provider.ExclusiveHolderOf(_key)?.OwnerId ?? 0;

    /// <summary>The wait's holder may hold the key through another provider for the same server (the catalog's holder is this provider's).</summary>
    internal override (string Name, int OwnerId) WaitEdgeFor(LockOwner waiter) => (Name, Provider.ExclusiveHolderInProcess(_key)?.OwnerId ?? 0);

    internal AdvisoryKey Key => _key;

    LockPrimitive IAsyncOwnedLock.Lock => this;

    LockOwner? IAsyncOwnedLock.ExclusiveHolder => Provider.ExclusiveHolderOf(_key);

    /// <summary>Acquires shared read access, waiting up to the provider's default timeout.</summary>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireReadAsync(CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: true, cancellationToken);

    /// <summary>Acquires shared read access, waiting at most <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: true, timeout, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires shared read access if it is granted within <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="PostgresExclusiveLock.TryAcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> TryAcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: true, timeout, cancellationToken, throwOnTimeout: false);

    /// <summary>Acquires exclusive write access, waiting up to the provider's default timeout.</summary>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireWriteAsync(CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: false, cancellationToken);

    /// <summary>Acquires exclusive write access, waiting at most <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: false, timeout, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires exclusive write access if it is granted within <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="PostgresExclusiveLock.TryAcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> TryAcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: false, timeout, cancellationToken, throwOnTimeout: false);

    /// <summary>A request for shared read access, to take with others through <see cref="PostgresLockSet"/>.</summary>
    /// <returns>The request.</returns>
    public PostgresLockRequest ReadRequest() => new(this, _key, Describe(), shared: true);

    /// <summary>A request for exclusive write access, to take with others through <see cref="PostgresLockSet"/>.</summary>
    /// <returns>The request.</returns>
    public PostgresLockRequest WriteRequest() => new(this, _key, Describe(), shared: false);

    internal override string ModeTagOf(bool shared) => shared ? LockModeTags.Read : LockModeTags.Write;

    internal override LockMode ModeOf(bool shared) => shared ? LockMode.Read : LockMode.Write;

    void IAsyncOwnedLock.AddWaiters(List<(LockOwner Flow, LockMode Mode)> waiters) => AddWaiters(waiters);
}
