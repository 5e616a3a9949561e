using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Locksmith;

/// <summary>
/// The stripes of a striped lock, sync or async: a power-of-two array of locks kept a cache line apart, and the
/// key-to-stripe hash. A readonly struct kept in a field of its lock, so finding a key's stripe costs no extra load.
/// </summary>
/// <remarks>
/// The stripe of a key is its hash masked to the stripe count. Value-type keys under the default comparer use
/// <see cref="EqualityComparer{T}.Default"/>, which the JIT devirtualises and inlines in the specialised code. String
/// keys under the default comparer use a fast non-randomised ordinal hash instead of the randomised (Marvin)
/// <see cref="string.GetHashCode()"/>: that is safe here because the hash only picks the stripe — keys an attacker
/// makes collide merely share one stripe's lock, they never slow a lookup. A comparer passed in is always honoured.
/// </remarks>
internal readonly struct StripeTable<TKey, TStripe>
    where TStripe : LockPrimitive
{
    // Two lines: some CPUs fetch cache lines in adjacent pairs, so one line apart can still share a fetch.
    private const int SpacerBytes = 128;

    // Null for the default comparer: EqualityComparer<TKey>.Default is then devirtualized and inlined.
    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly int _mask;

    // TKey is string and the comparer is the default (ordinal) one: StripeHash.Ordinal picks the stripe.
    private readonly bool _ordinalStrings;

    // Kept only so the spacers stay alive between the stripes.
    private readonly object[] _spacers;

    /// <summary>
    /// Creates <paramref name="stripeCount"/> stripes (rounded up to a power of two) of <paramref name="owner"/>, named
    /// <c>name[i]</c> after it; each knows its striped lock (its metrics carry that lock's name and kind).
    /// </summary>
    public StripeTable(int stripeCount, LockPrimitive owner, int? level, IEqualityComparer<TKey>? comparer, Func<string, int?, TStripe> createStripe)
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
            // Created in index order, so their ids (a lock set's tie-break) already give stripe order.
            Stripes[i] = createStripe(StripeName(owner.Name, i), level);
            Stripes[i].StripedParent = owner;

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
    public static int DefaultStripeCount => Math.Max(64, 4 * Environment.ProcessorCount);

    /// <summary>The stripes, in index order.</summary>
    public TStripe[] Stripes { get; }

    /// <summary>The stripe index of <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IndexOf(TKey key) => HashOf(key) & _mask;

    /// <summary>The stripe of <paramref name="key"/>, without a bounds check (the mask keeps the index in range).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TStripe For(TKey key)
    {
        int index = HashOf(key) & _mask;
        Debug.Assert((uint)index < (uint)Stripes.Length);
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Stripes), index);
    }

    /// <summary>Gives every stripe the owner's declared name (as <c>name[i]</c>) and level.</summary>
    public void FollowIdentity(string name, int? level)
    {
        for (int i = 0; i < Stripes.Length; i++)
        {
            Stripes[i].SetPartIdentity(StripeName(name, i), level);
        }
    }

    /// <summary>Binds every stripe to the owner's instruments.</summary>
    public void UseInstruments(LocksmithInstruments instruments)
    {
        foreach (var stripe in Stripes)
        {
            stripe.UseInstruments(instruments);
        }
    }

    private static string StripeName(string name, int index) => $"{name}[{index}]";

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
}
