using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// What every striped lock shares: a power-of-two array of stripes, the key-to-stripe hash, multi-key acquisition
/// in stripe order through <see cref="LockSet"/>, and stripes that follow the lock's declared name and level.
/// </summary>
/// <remarks>How a key picks its stripe: see <see cref="StripeTable{TKey, TStripe}"/>.</remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TStripe">The lock type of one stripe.</typeparam>
public abstract class StripedLockBase<TKey, TStripe> : LockPrimitive, IKeyedAccessLock, IThreadAffineLock
    where TStripe : LockPrimitive
{
    private readonly StripeTable<TKey, TStripe> _table;

    private protected StripedLockBase(int stripeCount, string? name, int? level, IEqualityComparer<TKey>? comparer, Func<string, int?, TStripe> createStripe)
        : base(name, level, LockKind.Striped)
    {
        _table = new StripeTable<TKey, TStripe>(stripeCount, this, level, comparer, createStripe);
    }

    /// <summary>The stripe count of the parameterless constructors (see <see cref="StripeTable{TKey, TStripe}.DefaultStripeCount"/>).</summary>
    private protected static int DefaultStripeCount => StripeTable<TKey, TStripe>.DefaultStripeCount;

    /// <summary>The number of stripes (a power of two).</summary>
    public int StripeCount => Stripes.Length;

    private protected TStripe[] Stripes => _table.Stripes;

    // The lock as a whole has no owner; waits and owners are on its stripes, which the detector sees.
    internal override int ExclusiveOwnerId => 0;

    /// <summary>The stripe <paramref name="key"/> maps to.</summary>
    /// <param name="key">The key.</param>
    /// <returns>An index in [0, <see cref="StripeCount"/>).</returns>
    /// <remarks>
    /// Equal keys (under the lock's comparer) always map to the same stripe. For string keys under the default
    /// comparer the hash is non-randomised and the same in every process.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int StripeOf(TKey key) => _table.IndexOf(key);

    internal TStripe StripeAt(int index) => Stripes[index];

    /// <summary>The stripe of <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected TStripe StripeFor(TKey key) => _table.For(key);

    /// <summary>Takes the stripes of <paramref name="keys"/> exclusively, in stripe order, each once.</summary>
    private protected LockSetScope AcquireStripes(int timeoutMs, scoped ReadOnlySpan<TKey> keys)
    {
        EnterStripes(timeoutMs, default, throwOnTimeout: true, keys, out var scope);
        return scope;
    }

    /// <summary>The stripes of all <paramref name="keys"/> through <see cref="LockSet"/>, all or none; false on timeout unless it throws.</summary>
    private protected bool EnterStripes(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, scoped ReadOnlySpan<TKey> keys, out LockSetScope scope)
    {
        if (keys.IsEmpty)
        {
            ThrowHelper.ThrowNoKeys(this, async: false);
        }

        // Stripes were created in index order, so their ids (the set's tie-break) already give stripe order.
        LockBuffer inline = default;
        LockPrimitive?[]? rented = keys.Length > LockBuffer.Capacity ? ArrayPool<LockPrimitive?>.Shared.Rent(keys.Length) : null;
        Span<LockPrimitive?> stripes = rented is null ? inline[..keys.Length] : rented.AsSpan(0, keys.Length);
        try
        {
            for (int i = 0; i < keys.Length; i++)
            {
                stripes[i] = StripeFor(keys[i]);
            }

            return LockSet.Enter(stripes, timeoutMs, cancellationToken, throwOnTimeout, out scope);
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

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole; acquire several keys through it instead.");

    internal override void ExitForSet() =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole.");

    private protected override void OnInstrumentsChanged(LocksmithInstruments instruments) => _table.UseInstruments(instruments);

    private protected override void OnDeclared() => _table.FollowIdentity(Name, Level);
}
