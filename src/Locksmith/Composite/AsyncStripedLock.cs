using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// A fixed set of <see cref="AsyncExclusiveLock"/> stripes for code that awaits while it holds a key; a key's hash
/// picks its stripe, so flows working on keys of different stripes proceed in parallel while each key is still
/// guarded by exactly one lock.
/// </summary>
/// <remarks>
/// <para>The async twin of <see cref="StripedLock{TKey}"/>: the same power-of-two stripe count, the same key hashing
/// (a fast ordinal hash for string keys under the default comparer; a comparer passed in is always honoured), and
/// stripes kept a cache line apart. Holds are owned by the async flow, as for <see cref="AsyncExclusiveLock"/>.</para>
/// <para>To hold several keys at once use <see cref="AcquireManyAsync(IReadOnlyList{TKey}, CancellationToken)"/>: it
/// takes their stripes in stripe order, each once, all or nothing, so two flows locking {a, b} and {b, a} never
/// deadlock.</para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class AsyncStripedLock<TKey> : LockPrimitive, IAsyncKeyedAccessLock
{
    // Two lines: some CPUs fetch cache lines in adjacent pairs, so one line apart can still share a fetch.
    private const int SpacerBytes = 128;

    private readonly AsyncExclusiveLock[] _stripes;

    // Null for the default comparer: EqualityComparer<TKey>.Default is then devirtualized and inlined.
    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly int _mask;
    private readonly bool _ordinalStrings;

    // Kept only so the spacers stay alive between the stripes.
    private readonly object[] _spacers;

    /// <summary>Creates an async striped lock with 64 stripes, or four per processor where that is more (rounded up to a power of two).</summary>
    public AsyncStripedLock()
        : this(Math.Max(64, 4 * Environment.ProcessorCount))
    {
    }

    /// <summary>Creates an async striped lock.</summary>
    /// <param name="stripeCount">The number of stripes, rounded up to a power of two (1 to 65,536).</param>
    /// <param name="name">The name; stripes are named <c>name[i]</c>.</param>
    /// <param name="level">The level of every stripe in the global lock order, or null.</param>
    /// <param name="comparer">Hashes keys; the default comparer if null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stripeCount"/> is out of range.</exception>
    public AsyncStripedLock(int stripeCount, string? name = null, int? level = null, IEqualityComparer<TKey>? comparer = null)
        : base(name, level, LockKind.AsyncStriped)
    {
        if (stripeCount is < 1 or > 65_536)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(stripeCount), stripeCount, "A striped lock has 1 to 65,536 stripes.");
        }

        int count = (int)BitOperations.RoundUpToPowerOf2((uint)stripeCount);
        _mask = count - 1;
        _comparer = comparer is null || ReferenceEquals(comparer, EqualityComparer<TKey>.Default) ? null : comparer;
        _ordinalStrings = _comparer is null && typeof(TKey) == typeof(string);
        _stripes = new AsyncExclusiveLock[count];
        _spacers = new object[count];
        for (int i = 0; i < count; i++)
        {
            // Created in index order, so their ids (the set's tie-break) give stripe order.
            _stripes[i] = new AsyncExclusiveLock(StripeName(i), level);

            // A live spacer after each stripe keeps neighbours a line apart (compaction keeps the order).
            _spacers[i] = new byte[SpacerBytes];
        }
    }

    /// <summary>The number of stripes (a power of two).</summary>
    public int StripeCount => _stripes.Length;

    // The lock as a whole has no owner; holds and waits are on its stripes.
    internal override int ExclusiveOwnerId => 0;

    /// <summary>The stripe <paramref name="key"/> maps to.</summary>
    /// <param name="key">The key.</param>
    /// <returns>An index in [0, <see cref="StripeCount"/>); equal keys (under the lock's comparer) always map to the same one.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int StripeOf(TKey key) => HashOf(key) & _mask;

    /// <summary>Whether the current async flow holds the stripe of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    public bool IsHeldByCurrentFlow(TKey key) => StripeFor(key).IsHeldByCurrentFlow;

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="cancellationToken">Cancels the wait; the stripe is then not acquired.</param>
    /// <returns>A scope whose <c>Dispose</c> releases the stripe.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds that stripe (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<AsyncLockScope> AcquireAsync(TKey key, CancellationToken cancellationToken = default) =>
        StripeFor(key).AcquireAsync(cancellationToken);

    /// <summary>Acquires the stripe of <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; the stripe is then not acquired.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireAsync(TKey, CancellationToken)"/>
    public ValueTask<AsyncLockScope> AcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        StripeFor(key).AcquireAsync(timeout, cancellationToken);

    /// <summary>Acquires the stripe of <paramref name="key"/> if it becomes free within <paramref name="timeout"/>.</summary>
    /// <param name="key">The key whose stripe to lock.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the stripe is then not acquired.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds that stripe (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<AsyncLockScope> TryAcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        StripeFor(key).TryAcquireAsync(timeout, cancellationToken);

    /// <summary>
    /// Acquires the stripes of all <paramref name="keys"/> in stripe order, each once, all or nothing, waiting up to the
    /// default timeout (through the async <see cref="LockSet"/>).
    /// </summary>
    /// <param name="keys">The keys, in any order.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every stripe taken.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; no stripe is held.</exception>
    /// <exception cref="LockRecursionException">The current flow already holds one of the stripes; nothing is taken.</exception>
    /// <exception cref="LockOrderViolationException">The stripes' level is not above a lock the flow holds; nothing is taken.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no stripe is held.</exception>
    /// <exception cref="ArgumentException">No key was given.</exception>
    public ValueTask<AsyncLockSetScope> AcquireManyAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        int count = keys.Count;
        if (count == 0)
        {
            throw new ArgumentException("At least one key is needed.", nameof(keys));
        }

        LockBuffer inline = default;
        Span<LockPrimitive?> stripes = count <= LockBuffer.Capacity ? inline[..count] : new LockPrimitive?[count];
        for (int i = 0; i < count; i++)
        {
            stripes[i] = StripeFor(keys[i]);
        }

        return LockSet.EnterAsyncSet(stripes, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);
    }

    internal AsyncExclusiveLock StripeAt(int index) => _stripes[index];

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole; acquire several keys through it instead.");

    internal override void ExitForSet() =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole.");

    private protected override void OnInstrumentsChanged(LocksmithInstruments instruments)
    {
        foreach (var stripe in _stripes)
        {
            stripe.UseInstruments(instruments);
        }
    }

    private protected override void OnDeclared()
    {
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i].SetPartIdentity(StripeName(i), Level);
        }
    }

    private string StripeName(int index) => $"{Name}[{index}]";

    /// <summary>The stripe of <paramref name="key"/>, without a bounds check (the mask keeps the index in range).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncExclusiveLock StripeFor(TKey key)
    {
        int index = HashOf(key) & _mask;
        Debug.Assert((uint)index < (uint)_stripes.Length);
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_stripes), index);
    }

    // The same hashing as StripedLockBase (see there for why strings get a non-randomised hash).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HashOf(TKey key)
    {
        if (typeof(TKey).IsValueType)
        {
            return key is null ? 0
                : StripeHash.Spread(_comparer is null ? EqualityComparer<TKey>.Default.GetHashCode(key) : _comparer.GetHashCode(key));
        }

        return _ordinalStrings
            ? (key is null ? 0 : StripeHash.Ordinal(Unsafe.As<string>(key)))
            : ReferenceHash(key);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int ReferenceHash(TKey key) =>
        key is null ? 0 : StripeHash.Spread((_comparer ?? EqualityComparer<TKey>.Default).GetHashCode(key));
}
