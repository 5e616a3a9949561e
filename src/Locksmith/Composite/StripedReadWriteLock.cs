using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The read-write variant of <see cref="StripedLock{TKey}"/>: a fixed set of <see cref="ReadWriteLock"/> stripes,
/// one picked by the key's hash, so readers of a key share its stripe and writers of different stripes do not
/// block each other.
/// </summary>
/// <remarks>
/// Every stripe has the same policy and level. <see cref="AcquireManyWrite(ReadOnlySpan{TKey})"/> takes the write
/// locks of several keys in stripe order, each once, through <see cref="LockSet"/>.
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class StripedReadWriteLock<TKey> : StripedLockBase<TKey, ReadWriteLock>, IReadWriteAccessLock
{
    // A policy other than the default given to the constructor: a declaration may not replace it (see ReadWriteLock).
    private readonly bool _policyChosen;

    /// <summary>
    /// Creates a writer-preferred striped read-write lock with 64 stripes, or four per processor where that is more
    /// (rounded up to a power of two).
    /// </summary>
    public StripedReadWriteLock()
        : this(DefaultStripeCount)
    {
    }

    /// <summary>Creates a striped read-write lock.</summary>
    /// <param name="stripeCount">The number of stripes, rounded up to a power of two (1 to 65,536).</param>
    /// <param name="name">The name; stripes are named <c>name[i]</c>.</param>
    /// <param name="level">The level of every stripe in the global lock order, or null.</param>
    /// <param name="policy">The policy of every stripe.</param>
    /// <param name="comparer">Hashes keys; the default comparer if null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stripeCount"/> is out of range.</exception>
    public StripedReadWriteLock(
        int stripeCount,
        string? name = null,
        int? level = null,
        ReadWritePolicy policy = ReadWritePolicy.WriterPreferred,
        IEqualityComparer<TKey>? comparer = null)
        : base(stripeCount, name, level, comparer, (stripeName, stripeLevel) => new ReadWriteLock(stripeName, stripeLevel, policy))
    {
        Policy = policy;
        _policyChosen = policy != ReadWritePolicy.WriterPreferred;
    }

    /// <summary>The policy of every stripe.</summary>
    public ReadWritePolicy Policy { get; private set; }

    /// <summary>
    /// Applies a declaration made in source: the member's name and <c>[LockOrder]</c> level, and the class's
    /// <c>[ReadMostly(Policy = ...)]</c> for every stripe. Generated wrappers call it before acquiring;
    /// public only for them, so it is hidden from IntelliSense.
    /// </summary>
    /// <param name="declaredName">The declaring member.</param>
    /// <param name="declaredLevel">The declared level, or null.</param>
    /// <param name="declaredPolicy">The declared policy.</param>
    /// <exception cref="InvalidOperationException">The policy differs and a stripe is in use.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void EnsureDeclared(string declaredName, int? declaredLevel, ReadWritePolicy declaredPolicy)
    {
        if (Policy != declaredPolicy)
        {
            if (_policyChosen)
            {
                ThrowHelper.ThrowPolicyDeclaredTwice(Describe(), Policy, declaredName, declaredPolicy);
            }

            foreach (var stripe in Stripes)
            {
                stripe.DeclarePolicy(declaredName, declaredPolicy);
            }

            Policy = declaredPolicy;
        }

        EnsureDeclared(declaredName, declaredLevel);
    }

    /// <summary>Acquires the read lock of <paramref name="key"/>'s stripe, waiting up to the default timeout.</summary>
    /// <param name="key">The key.</param>
    /// <returns>A scope that releases the read lock.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    public ReadWriteLock.ReadScope AcquireRead(TKey key) => StripeFor(key).AcquireRead();

    /// <summary>Acquires the read lock of <paramref name="key"/>'s stripe, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A scope that releases the read lock.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed.</exception>
    public ReadWriteLock.ReadScope AcquireRead(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        StripeFor(key).AcquireRead(timeout, cancellationToken);

    /// <summary>Tries to acquire the read lock of <paramref name="key"/>'s stripe within <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the read lock was acquired.</returns>
    public bool TryAcquireRead(TKey key, TimeSpan timeout, out ReadWriteLock.ReadScope scope) =>
        StripeFor(key).TryAcquireRead(timeout, out scope);

    /// <summary>Acquires the write lock of <paramref name="key"/>'s stripe, waiting up to the default timeout.</summary>
    /// <param name="key">The key.</param>
    /// <returns>A scope that releases the write lock.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    public ReadWriteLock.WriteScope AcquireWrite(TKey key) => StripeFor(key).AcquireWrite();

    /// <summary>Acquires the write lock of <paramref name="key"/>'s stripe, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A scope that releases the write lock.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed.</exception>
    public ReadWriteLock.WriteScope AcquireWrite(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        StripeFor(key).AcquireWrite(timeout, cancellationToken);

    /// <summary>Tries to acquire the write lock of <paramref name="key"/>'s stripe within <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the write lock was acquired.</returns>
    public bool TryAcquireWrite(TKey key, TimeSpan timeout, out ReadWriteLock.WriteScope scope) =>
        StripeFor(key).TryAcquireWrite(timeout, out scope);

    /// <summary>Acquires the write locks of all <paramref name="keys"/>' stripes in stripe order, each once.</summary>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>A scope that releases every stripe taken.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    public LockSetScope AcquireManyWrite(params ReadOnlySpan<TKey> keys) => AcquireStripes(TimeoutMathDefaults.UseDefault, keys);

    /// <summary>
    /// Acquires the write locks of all <paramref name="keys"/>' stripes in stripe order, each once, waiting at most
    /// <paramref name="timeout"/> for all of them together.
    /// </summary>
    /// <param name="timeout">How long to try for all stripes together.</param>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>A scope that releases every stripe taken.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed; nothing is held.</exception>
    public LockSetScope AcquireManyWrite(TimeSpan timeout, params ReadOnlySpan<TKey> keys) =>
        AcquireStripes(TimeoutMath.ToMilliseconds(timeout, this), keys);

    /// <summary>
    /// Tries to acquire the write locks of all <paramref name="keys"/>' stripes in stripe order, each once, within
    /// <paramref name="timeout"/>; all or none.
    /// </summary>
    /// <param name="timeout">How long to try for all stripes together; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="scope">The scope holding every stripe, or an empty scope.</param>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>Whether every stripe's write lock is held; when false, none is.</returns>
    /// <exception cref="LockRecursionException">The thread already holds one of the stripes; nothing is taken.</exception>
    /// <exception cref="LockOrderViolationException">The stripes' level is not above a lock the thread holds; nothing is taken.</exception>
    /// <exception cref="ArgumentException">No key was given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool TryAcquireManyWrite(TimeSpan timeout, out LockSetScope scope, params ReadOnlySpan<TKey> keys) =>
        EnterStripes(TimeoutMath.ToMilliseconds(timeout, this), default, throwOnTimeout: false, keys, out scope);

    /// <summary>
    /// Tries to acquire the write locks of all <paramref name="keys"/>' stripes in stripe order, each once, within
    /// <paramref name="timeout"/> or until cancelled; all or none.
    /// </summary>
    /// <param name="timeout">How long to try for all stripes together; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <param name="scope">The scope holding every stripe, or an empty scope.</param>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>Whether every stripe's write lock is held; when false, none is.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled; no stripe is held.</exception>
    /// <inheritdoc cref="TryAcquireManyWrite(TimeSpan, out LockSetScope, ReadOnlySpan{TKey})"/>
    public bool TryAcquireManyWrite(TimeSpan timeout, CancellationToken cancellationToken, out LockSetScope scope, params ReadOnlySpan<TKey> keys) =>
        EnterStripes(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false, keys, out scope);
}
