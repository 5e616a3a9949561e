using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres;

/// <summary>
/// A hold on a distributed lock that an <c>AcquireAsync</c> returned: the session of one pooled connection holds the
/// advisory lock until the scope is disposed. Use <c>await using var scope = await myLock.AcquireAsync(token);</c>.
/// </summary>
/// <remarks>
/// <para><see cref="DisposeAsync"/> (what <c>await using</c> and the generated wrappers call) releases with an async round
/// trip; <see cref="Dispose"/> (what a plain <c>using</c> calls) releases with a blocking one. Either returns the connection to the pool. Disposing twice
/// throws <see cref="SynchronizationLockException"/> naming the lock. The default scope (a <c>TryAcquireAsync</c> that
/// timed out) holds nothing.</para>
/// <para>A lock lives as long as its session: <see cref="LostToken"/> is cancelled when the session is found gone
/// while the scope holds it (its connection broke, or the server ended it), or when the provider is disposed (which
/// closes the session), and the work it guards can stop there. Disposing a lost scope does not throw. A hold lost with
/// its session (not by the disposal) is also logged, once, as <c>DistributedLockLost</c> (14018, Warning, category
/// <c>Locksmith</c>, when the provider came from <c>AddPostgres</c> or its options name a <c>LoggerFactory</c>) and counted in <c>locksmith.lock.losses</c>.</para>
/// </remarks>
public readonly struct PostgresLockScope : IDisposable, IAsyncDisposable
{
    private readonly PostgresHold? _hold;

    internal PostgresLockScope(PostgresHold hold) => _hold = hold;

    /// <summary>Whether this scope holds the lock (false for a <c>TryAcquireAsync</c> that timed out).</summary>
    public bool IsAcquired => _hold is not null;

    /// <summary>
    /// Cancelled when the session holding the lock is found gone while the scope holds it, or is closed by the
    /// provider's disposal: the lock is then free for others. <see cref="CancellationToken.None"/> for a scope that holds nothing.
    /// </summary>
    public CancellationToken LostToken => _hold?.LostToken ?? CancellationToken.None;

    /// <summary>Whether the lock was lost (see <see cref="LostToken"/>).</summary>
    public bool IsLost => _hold?.IsLost ?? false;

    /// <summary>The lock and its level, with its key for a keyed lock (<c>'accounts'[42] (level 10)</c>); empty for a scope that holds nothing.</summary>
    public string LockDescription => _hold?.Description ?? string.Empty;

    /// <summary>The PostgreSQL backend process id of the session holding the lock, or 0.</summary>
    public int SessionProcessId => _hold?.ProcessId ?? 0;

    /// <summary>Releases the lock with a blocking round trip and returns the connection.</summary>
    /// <exception cref="SynchronizationLockException">The scope was already disposed.</exception>
    public void Dispose() => _hold?.Release();

    /// <summary>Releases the lock and returns the connection.</summary>
    /// <exception cref="SynchronizationLockException">The scope was already disposed (thrown at once).</exception>
    public ValueTask DisposeAsync() => _hold?.ReleaseAsync() ?? default;
}
