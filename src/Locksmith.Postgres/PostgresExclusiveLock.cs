using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres;

/// <summary>
/// An exclusive distributed lock: one PostgreSQL session advisory lock (the bigint form) named by <see cref="LockPrimitive.Name"/>,
/// held by one async flow of one process at a time across every process that uses the database.
/// </summary>
/// <remarks>
/// Use <c>await using var scope = await myLock.AcquireAsync(cancellationToken);</c>. The key is the first 8 bytes of
/// SHA-256 of the name; a provider refuses a second name with the same key. Generated <c>[Guarded]</c> wrappers take
/// it like an <see cref="AsyncExclusiveLock"/>.
/// </remarks>
public sealed class PostgresExclusiveLock : PostgresLock, IAsyncExclusiveAccessLock, IAsyncOwnedLock
{
    private readonly AdvisoryKey _key;

    /// <summary>Creates the lock (see <see cref="PostgresLockProvider.CreateExclusiveLock"/>).</summary>
    /// <param name="provider">The database and connections.</param>
    /// <param name="name">The lock's name: its identity in every process.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    public PostgresExclusiveLock(PostgresLockProvider provider, string name, int? level = null)
        : base(provider, name, level, LockKind.DistributedExclusive)
    {
        _key = provider.RegisterName(name, level);
        AsyncOwners.Register(this);
    }

    /// <summary>Whether the current async flow holds the lock.</summary>
    public bool IsHeldByCurrentFlow => IsHeldByCurrentFlowOf(_key);

    /// <summary>
    /// The lost-lock token of the current flow's hold (see <see cref="PostgresLockScope.LostToken"/>), for code that
    /// runs under a generated wrapper and has no scope; <see cref="CancellationToken.None"/> when the flow does not hold it.
    /// </summary>
    public CancellationToken CurrentFlowLostToken => CurrentFlowLostTokenOf(_key);

    internal override int ExclusiveOwnerId => Provider.ExclusiveHolderOf(_key)?.OwnerId ?? 0;

    /// <summary>The wait's holder may hold the key through another provider for the same server (the catalog's holder is this provider's).</summary>
    internal override (string Name, int OwnerId) WaitEdgeFor(LockOwner waiter) => (Name, Provider.ExclusiveHolderInProcess(_key)?.OwnerId ?? 0);

    internal AdvisoryKey Key => _key;

    LockPrimitive IAsyncOwnedLock.Lock => this;

    LockOwner? IAsyncOwnedLock.ExclusiveHolder => Provider.ExclusiveHolderOf(_key);

    /// <summary>Acquires the lock, waiting up to the provider's default timeout (else <see cref="LocksmithPolicy.DefaultTimeout"/>).</summary>
    /// <param name="cancellationToken">Cancels the wait (the server's wait is cancelled too); the lock is then not acquired.</param>
    /// <returns>A scope whose disposal releases the lock.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the lock (thrown at once).</exception>
    /// <exception cref="InvalidOperationException">The flow's hold of it was lost with its session and its scope is not disposed yet.</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="PostgresConnectionBudgetException">The provider's connections are all holding or waiting (thrown at once).</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed; the message names the lock.</exception>
    /// <exception cref="DeadlockException">PostgreSQL found this wait in a cycle of waits; the message names the locks.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="Npgsql.NpgsqlException">The flow's PostgreSQL session could not be opened (the server is down, unreachable or refused it,
    /// or did not answer in time), or it failed under the wait (its connection broke, or the server ended the wait with an error); the lock is not acquired, and the message names it, the flow and the server.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed before the acquisition (thrown at once), or while it waited (the wait is ended); the lock is not acquired.</exception>
    public ValueTask<PostgresLockScope> AcquireAsync(CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: false, cancellationToken);

    /// <summary>Acquires the lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireAsync(CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: false, timeout, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the lock if it becomes free within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope to dispose; <see cref="PostgresLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the lock (thrown at once).</exception>
    /// <exception cref="InvalidOperationException">The flow's hold of it was lost with its session and its scope is not disposed yet.</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="PostgresConnectionBudgetException">The provider's connections are all holding or waiting (thrown at once).</exception>
    /// <exception cref="DeadlockException">PostgreSQL found this wait in a cycle of waits; the message names the locks.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="Npgsql.NpgsqlException">The flow's PostgreSQL session could not be opened (the server is down, unreachable or refused it,
    /// or did not answer in time), or it failed under the wait (its connection broke, or the server ended the wait with an error); the lock is not acquired, and the message names it, the flow and the server.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed before the acquisition (thrown at once), or while it waited (the wait is ended); the lock is not acquired.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<PostgresLockScope> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireKeyAsync(_key, Describe(), shared: false, timeout, cancellationToken, throwOnTimeout: false);

    /// <summary>A request for the lock, to take with others through <see cref="PostgresLockSet"/>.</summary>
    /// <returns>The request.</returns>
    public PostgresLockRequest Request() => new(this, _key, Describe(), shared: false);

    void IAsyncOwnedLock.AddWaiters(List<(LockOwner Flow, LockMode Mode)> waiters) => AddWaiters(waiters);
}
