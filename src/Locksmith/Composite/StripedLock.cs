using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A fixed set of <see cref="ExclusiveLock"/> stripes; a key's hash picks its stripe, so threads working on keys of
/// different stripes proceed in parallel while each key is still guarded by exactly one lock.
/// </summary>
/// <remarks>
/// <para>Two keys may share a stripe (they then exclude each other): more stripes mean fewer false collisions
/// at the cost of memory. The count is rounded up to a power of two so the stripe is a mask of the hash.</para>
/// <para>To hold several keys at once use <see cref="AcquireMany(ReadOnlySpan{TKey})"/>: it takes their stripes in
/// stripe order, each once, so two threads locking {a, b} and {b, a} never deadlock. Acquiring a second stripe by
/// hand while holding one is an order violation when the lock has a level (the stripes share it).</para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class StripedLock<TKey> : StripedLockBase<TKey, ExclusiveLock>
{
    /// <summary>Creates a striped lock with 64 stripes, or four per processor where that is more (rounded up to a power of two).</summary>
    public StripedLock()
        : this(DefaultStripeCount)
    {
    }

    /// <summary>Creates a striped lock.</summary>
    /// <param name="stripeCount">The number of stripes, rounded up to a power of two (1 to 65,536).</param>
    /// <param name="name">The name; stripes are named <c>name[i]</c>.</param>
    /// <param name="level">The level of every stripe in the global lock order, or null.</param>
    /// <param name="comparer">Hashes keys; the default comparer if null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stripeCount"/> is out of range.</exception>
    public StripedLock(int stripeCount, string? name = null, int? level = null, IEqualityComparer<TKey>? comparer = null)
        : base(stripeCount, name, level, comparer, static (stripeName, stripeLevel) => new ExclusiveLock(stripeName, stripeLevel))
    {
    }

    /// <summary>Whether the current thread holds the stripe of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    public bool IsHeldByCurrentThread(TKey key) => StripeFor(key).IsHeldByCurrentThread;

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <returns>A scope that releases the stripe.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds that stripe.</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ExclusiveLock.Scope Acquire(TKey key) => StripeFor(key).Acquire();

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting up to the default timeout or until cancelled.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <inheritdoc cref="Acquire(TKey)"/>
    public ExclusiveLock.Scope Acquire(TKey key, CancellationToken cancellationToken) => StripeFor(key).Acquire(cancellationToken);

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <inheritdoc cref="Acquire(TKey)"/>
    public ExclusiveLock.Scope Acquire(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        StripeFor(key).Acquire(timeout, cancellationToken);

    /// <summary>Acquires the stripe of <paramref name="key"/> if it is free now.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the stripe was acquired.</returns>
    public bool TryAcquire(TKey key, out ExclusiveLock.Scope scope) => StripeFor(key).TryAcquire(out scope);

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the stripe was acquired before the timeout.</returns>
    public bool TryAcquire(TKey key, TimeSpan timeout, out ExclusiveLock.Scope scope) => StripeFor(key).TryAcquire(timeout, out scope);

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting at most <paramref name="timeout"/> or until cancelled.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the stripe was acquired before the timeout.</returns>
    public bool TryAcquire(TKey key, TimeSpan timeout, CancellationToken cancellationToken, out ExclusiveLock.Scope scope) =>
        StripeFor(key).TryAcquire(timeout, cancellationToken, out scope);

    /// <summary>Acquires the stripes of all <paramref name="keys"/> in stripe order, each once, waiting up to the default timeout.</summary>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>A scope that releases every stripe taken.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    public LockSetScope AcquireMany(params ReadOnlySpan<TKey> keys) => AcquireStripes(TimeoutMathDefaults.UseDefault, keys);

    /// <summary>Acquires the stripes of all <paramref name="keys"/> in stripe order, each once, waiting at most <paramref name="timeout"/> for all.</summary>
    /// <param name="timeout">How long to try for all stripes together.</param>
    /// <param name="keys">The keys, in any order.</param>
    /// <inheritdoc cref="AcquireMany(ReadOnlySpan{TKey})"/>
    public LockSetScope AcquireMany(TimeSpan timeout, params ReadOnlySpan<TKey> keys) => AcquireStripes(TimeoutMath.ToMilliseconds(timeout, this), keys);

    /// <summary>
    /// Tries to acquire the stripes of all <paramref name="keys"/> in stripe order, each once, within
    /// <paramref name="timeout"/>; all or none.
    /// </summary>
    /// <param name="timeout">How long to try for all stripes together; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="scope">The scope holding every stripe, or an empty scope.</param>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>Whether every stripe is held; when false, none is.</returns>
    /// <exception cref="LockRecursionException">The thread already holds one of the stripes; nothing is taken.</exception>
    /// <exception cref="LockOrderViolationException">The stripes' level is not above a lock the thread holds; nothing is taken.</exception>
    /// <exception cref="ArgumentException">No key was given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool TryAcquireMany(TimeSpan timeout, out LockSetScope scope, params ReadOnlySpan<TKey> keys) =>
        EnterStripes(TimeoutMath.ToMilliseconds(timeout, this), default, throwOnTimeout: false, keys, out scope);

    /// <summary>
    /// Tries to acquire the stripes of all <paramref name="keys"/> in stripe order, each once, within
    /// <paramref name="timeout"/> or until cancelled; all or none.
    /// </summary>
    /// <param name="timeout">How long to try for all stripes together; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <param name="scope">The scope holding every stripe, or an empty scope.</param>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>Whether every stripe is held; when false, none is.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled; no stripe is held.</exception>
    /// <inheritdoc cref="TryAcquireMany(TimeSpan, out LockSetScope, ReadOnlySpan{TKey})"/>
    public bool TryAcquireMany(TimeSpan timeout, CancellationToken cancellationToken, out LockSetScope scope, params ReadOnlySpan<TKey> keys) =>
        EnterStripes(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false, keys, out scope);
}
