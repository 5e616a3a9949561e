using System;
using System.Buffers;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// What every striped lock shares: a power-of-two array of stripes, the key-to-stripe hash, multi-key acquisition
/// in stripe order through <see cref="LockSet"/>, and stripes that follow the lock's declared name and level.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TStripe">The lock type of one stripe.</typeparam>
public abstract class StripedLockBase<TKey, TStripe> : LockPrimitive, IKeyedAccessLock, IThreadAffineLock
    where TStripe : LockPrimitive
{
    // Null for the default comparer: EqualityComparer<TKey>.Default is then devirtualized and inlined.
    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly int _mask;

    private const int SpacerBytes = 64;

    // Kept only so the spacers stay alive between the stripes.
    private readonly object[] _spacers;

    private protected StripedLockBase(int stripeCount, string? name, int? level, IEqualityComparer<TKey>? comparer, Func<string, int?, TStripe> createStripe)
        : base(name, level, LockKind.Striped)
    {
        if (stripeCount is < 1 or > 65_536)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(stripeCount), stripeCount, "A striped lock has 1 to 65,536 stripes.");
        }

        int count = (int)BitOperations.RoundUpToPowerOf2((uint)stripeCount);
        _mask = count - 1;
        _comparer = comparer is null || ReferenceEquals(comparer, EqualityComparer<TKey>.Default) ? null : comparer;
        Stripes = new TStripe[count];
        _spacers = new object[count];
        for (int i = 0; i < count; i++)
        {
            Stripes[i] = createStripe(StripeName(i), level);
            // Stripes allocated back to back would share cache lines, and two threads on different stripes would
            // contend anyway. A live spacer after each keeps neighbours a line apart (compaction keeps the order).
            _spacers[i] = new byte[SpacerBytes];
        }
    }

    /// <summary>The number of stripes (a power of two).</summary>
    public int StripeCount => Stripes.Length;

    private protected TStripe[] Stripes { get; }

    // The lock as a whole has no owner; waits and owners are on its stripes, which the detector sees.
    internal override int ExclusiveOwnerId => 0;

    /// <summary>The stripe <paramref name="key"/> maps to.</summary>
    /// <param name="key">The key.</param>
    /// <returns>An index in [0, <see cref="StripeCount"/>).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int StripeOf(TKey key)
    {
        int hash = key is null ? 0
            : _comparer is null ? EqualityComparer<TKey>.Default.GetHashCode(key) : _comparer.GetHashCode(key);
        // Spread the high bits down: many hash codes differ only there.
        hash ^= (hash >>> 16) ^ (hash >>> 8);
        return hash & _mask;
    }

    internal TStripe StripeAt(int index) => Stripes[index];

    /// <summary>Takes the stripes of <paramref name="keys"/> exclusively, in stripe order, each once.</summary>
    private protected LockSetScope AcquireStripes(int timeoutMs, scoped ReadOnlySpan<TKey> keys)
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
                stripes[i] = Stripes[StripeOf(keys[i])];
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

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole; acquire several keys through it instead.");

    internal override void ExitForSet() =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole.");

    private protected override void OnDeclared()
    {
        for (int i = 0; i < Stripes.Length; i++)
        {
            Stripes[i].SetPartIdentity(StripeName(i), Level);
        }
    }

    private string StripeName(int index) => $"{Name}[{index}]";
}
