using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// What every striped lock shares: a power-of-two array of stripes, the key-to-stripe hash, multi-key acquisition
/// in stripe order through <see cref="LockSet"/>, and stripes that follow the lock's declared name and level.
/// </summary>
/// <remarks>
/// <para>The stripe of a key is its hash masked to the (power-of-two) stripe count. Value-type keys under the default
/// comparer use <see cref="EqualityComparer{T}.Default"/>, which the JIT devirtualises and inlines in the
/// specialised code. String keys under the default comparer use a fast non-randomised ordinal hash instead of the
/// randomised (Marvin) <see cref="string.GetHashCode()"/>: that is safe here because the hash only picks the stripe —
/// keys an attacker makes collide merely share one stripe's lock, they never slow a lookup. A comparer passed to the
/// constructor is always honoured, for strings too.</para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TStripe">The lock type of one stripe.</typeparam>
public abstract class StripedLockBase<TKey, TStripe> : LockPrimitive, IKeyedAccessLock, IThreadAffineLock
    where TStripe : LockPrimitive
{
    // Null for the default comparer: EqualityComparer<TKey>.Default is then devirtualized and inlined.
    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly int _mask;

    // TKey is string and the comparer is the default (ordinal) one: StripeHash.Ordinal picks the stripe.
    private readonly bool _ordinalStrings;

    // Two lines: some CPUs fetch cache lines in adjacent pairs, so one line apart can still share a fetch.
    private const int SpacerBytes = 128;

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
        _ordinalStrings = _comparer is null && typeof(TKey) == typeof(string);
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

    /// <summary>
    /// The stripe count of the parameterless constructors: 64, or four per processor where that is more. With T threads
    /// busy on random keys, an acquisition meets another thread's stripe about (T - 1) / count of the time; 64 keeps
    /// that under 2 % for two threads, and four per processor keeps it near 25 % even when every processor is busy,
    /// for about 250 bytes per stripe.
    /// </summary>
    private protected static int DefaultStripeCount => Math.Max(64, 4 * Environment.ProcessorCount);

    /// <summary>The number of stripes (a power of two).</summary>
    public int StripeCount => Stripes.Length;

    private protected TStripe[] Stripes { get; }

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
    public int StripeOf(TKey key) => HashOf(key) & _mask;

    internal TStripe StripeAt(int index) => Stripes[index];

    /// <summary>The stripe of <paramref name="key"/>, without a bounds check (the mask keeps the index in range).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected TStripe StripeFor(TKey key)
    {
        int index = HashOf(key) & _mask;
        Debug.Assert((uint)index < (uint)Stripes.Length);
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Stripes), index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HashOf(TKey key)
    {
        if (typeof(TKey).IsValueType)
        {
            // Specialised code: the default comparer is devirtualised and inlined; `key is null` folds away unless
            // TKey is a Nullable<T>.
            return key is null ? 0
                : StripeHash.Spread(_comparer is null ? EqualityComparer<TKey>.Default.GetHashCode(key) : _comparer.GetHashCode(key));
        }

        // Reference types share one compiled body; keep generic lookups (EqualityComparer<TKey>.Default) out of the
        // inlined part, so it inlines into a caller that knows the exact type.
        return _ordinalStrings
            ? (key is null ? 0 : StripeHash.Ordinal(Unsafe.As<string>(key)))
            : ReferenceHash(key);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int ReferenceHash(TKey key) =>
        key is null ? 0 : StripeHash.Spread((_comparer ?? EqualityComparer<TKey>.Default).GetHashCode(key));

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
                stripes[i] = StripeFor(keys[i]);
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

    private protected override void OnInstrumentsChanged(LocksmithInstruments instruments)
    {
        foreach (var stripe in Stripes)
        {
            stripe.UseInstruments(instruments);
        }
    }

    private protected override void OnDeclared()
    {
        for (int i = 0; i < Stripes.Length; i++)
        {
            Stripes[i].SetPartIdentity(StripeName(i), Level);
        }
    }

    private string StripeName(int index) => $"{Name}[{index}]";
}
