using System;
using System.Buffers;
using System.Collections.Generic;
using System.Numerics;
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
public sealed class StripedLock<TKey> : LockPrimitive, IKeyedAccessLock, IThreadAffineLock
{
    private readonly ExclusiveLock[] _stripes;
    private readonly IEqualityComparer<TKey> _comparer;
    private readonly int _mask;

    /// <summary>Creates a striped lock with 64 stripes.</summary>
    public StripedLock()
        : this(64)
    {
    }

    /// <summary>Creates a striped lock.</summary>
    /// <param name="stripeCount">The number of stripes, rounded up to a power of two (1 to 65,536).</param>
    /// <param name="name">The name; stripes are named <c>name[i]</c>.</param>
    /// <param name="level">The level of every stripe in the global lock order, or null.</param>
    /// <param name="comparer">Hashes keys; the default comparer if null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stripeCount"/> is out of range.</exception>
    public StripedLock(int stripeCount, string? name = null, int? level = null, IEqualityComparer<TKey>? comparer = null)
        : base(name, level, LockKind.Striped)
    {
        if (stripeCount is < 1 or > 65_536)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(stripeCount), stripeCount, "A striped lock has 1 to 65,536 stripes.");
        }

        int count = (int)BitOperations.RoundUpToPowerOf2((uint)stripeCount);
        _mask = count - 1;
        _comparer = comparer ?? EqualityComparer<TKey>.Default;
        _stripes = new ExclusiveLock[count];
        for (int i = 0; i < count; i++)
        {
            _stripes[i] = new ExclusiveLock(StripeName(i), level);
        }
    }

    /// <summary>The number of stripes (a power of two).</summary>
    public int StripeCount => _stripes.Length;

    // The striped lock as a whole has no owner; waits and owners are on its stripes, which the detector sees.
    internal override int ExclusiveOwnerId => 0;

    /// <summary>The stripe <paramref name="key"/> maps to.</summary>
    /// <param name="key">The key.</param>
    /// <returns>An index in [0, <see cref="StripeCount"/>).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int StripeOf(TKey key)
    {
        int hash = key is null ? 0 : _comparer.GetHashCode(key);
        // Spread the high bits down: many hash codes differ only there.
        hash ^= (hash >>> 16) ^ (hash >>> 8);
        return hash & _mask;
    }

    /// <summary>Whether the current thread holds the stripe of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    public bool IsHeldByCurrentThread(TKey key) => _stripes[StripeOf(key)].IsHeldByCurrentThread;

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <returns>A scope that releases the stripe.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds that stripe.</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ExclusiveLock.Scope Acquire(TKey key) => _stripes[StripeOf(key)].Acquire();

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting up to the default timeout or until cancelled.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <inheritdoc cref="Acquire(TKey)"/>
    public ExclusiveLock.Scope Acquire(TKey key, CancellationToken cancellationToken) => _stripes[StripeOf(key)].Acquire(cancellationToken);

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <inheritdoc cref="Acquire(TKey)"/>
    public ExclusiveLock.Scope Acquire(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _stripes[StripeOf(key)].Acquire(timeout, cancellationToken);

    /// <summary>Acquires the stripe of <paramref name="key"/> if it is free now.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the stripe was acquired.</returns>
    public bool TryAcquire(TKey key, out ExclusiveLock.Scope scope) => _stripes[StripeOf(key)].TryAcquire(out scope);

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the stripe was acquired before the timeout.</returns>
    public bool TryAcquire(TKey key, TimeSpan timeout, out ExclusiveLock.Scope scope) => _stripes[StripeOf(key)].TryAcquire(timeout, out scope);

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting at most <paramref name="timeout"/> or until cancelled.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="scope">The scope to dispose when acquired.</param>
    /// <returns>Whether the stripe was acquired before the timeout.</returns>
    public bool TryAcquire(TKey key, TimeSpan timeout, CancellationToken cancellationToken, out ExclusiveLock.Scope scope) =>
        _stripes[StripeOf(key)].TryAcquire(timeout, cancellationToken, out scope);

    /// <summary>Acquires the stripes of all <paramref name="keys"/> in stripe order, each once, waiting up to the default timeout.</summary>
    /// <param name="keys">The keys, in any order.</param>
    /// <returns>A scope that releases every stripe taken.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    public LockSetScope AcquireMany(params ReadOnlySpan<TKey> keys) => AcquireMany(TimeoutMathDefaults.UseDefault, keys);

    /// <summary>Acquires the stripes of all <paramref name="keys"/> in stripe order, each once, waiting at most <paramref name="timeout"/> for all.</summary>
    /// <param name="timeout">How long to try for all stripes together.</param>
    /// <param name="keys">The keys, in any order.</param>
    /// <inheritdoc cref="AcquireMany(ReadOnlySpan{TKey})"/>
    public LockSetScope AcquireMany(TimeSpan timeout, params ReadOnlySpan<TKey> keys) => AcquireMany(TimeoutMath.ToMilliseconds(timeout), keys);

    private LockSetScope AcquireMany(int timeoutMs, scoped ReadOnlySpan<TKey> keys)
    {
        if (keys.IsEmpty)
        {
            throw new ArgumentException("At least one key is needed.", nameof(keys));
        }

        // Stripes were created in index order, so their ids (the set's tie-break) already give stripe order.
        LockBuffer inline = default;
        LockPrimitive?[]? rented = keys.Length > LockBuffer.Capacity ? ArrayPool<LockPrimitive?>.Shared.Rent(keys.Length) : null;
        Span<LockPrimitive?> stripes = rented is null ? inline[..keys.Length] : rented.AsSpan(0, keys.Length);
        try
        {
            for (int i = 0; i < keys.Length; i++)
            {
                stripes[i] = _stripes[StripeOf(keys[i])];
            }

            LockSet.Enter(stripes, timeoutMs, default, throwOnTimeout: true, out var scope);
            return scope;
        }
        finally
        {
            if (rented is not null)
            {
                Array.Clear(rented);
                ArrayPool<LockPrimitive?>.Shared.Return(rented);
            }
        }
    }

    internal ExclusiveLock StripeAt(int index) => _stripes[index];

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole; use AcquireMany with keys.");

    internal override void ExitForSet() =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole.");

    private protected override void OnDeclared()
    {
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i].SetPartIdentity(StripeName(i), Level);
        }
    }

    private string StripeName(int index) => $"{Name}[{index}]";
}
