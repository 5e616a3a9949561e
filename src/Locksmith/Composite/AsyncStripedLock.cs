using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
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
    private readonly StripeTable<TKey, AsyncExclusiveLock> _table;

    /// <summary>Creates an async striped lock with 64 stripes, or four per processor where that is more (rounded up to a power of two).</summary>
    public AsyncStripedLock()
        : this(StripeTable<TKey, AsyncExclusiveLock>.DefaultStripeCount)
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
        _table = new StripeTable<TKey, AsyncExclusiveLock>(stripeCount, this, level, comparer, static (stripeName, stripeLevel) => new AsyncExclusiveLock(stripeName, stripeLevel));
    }

    /// <summary>The number of stripes (a power of two).</summary>
    public int StripeCount => _table.Stripes.Length;

    // The lock as a whole has no owner; holds and waits are on its stripes.
    internal override int ExclusiveOwnerId => 0;

    /// <summary>The stripe <paramref name="key"/> maps to.</summary>
    /// <param name="key">The key.</param>
    /// <returns>An index in [0, <see cref="StripeCount"/>); equal keys (under the lock's comparer) always map to the same one.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int StripeOf(TKey key) => _table.IndexOf(key);

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
    public ValueTask<AsyncLockSetScope> AcquireManyAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default) =>
        EnterMany(keys, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>
    /// Acquires the stripes of all <paramref name="keys"/> in stripe order, each once, all or nothing, waiting at most
    /// <paramref name="timeout"/> (through the async <see cref="LockSet"/>).
    /// </summary>
    /// <param name="keys">The keys, in any order.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every stripe taken.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed; no stripe is held.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireManyAsync(IReadOnlyList{TKey}, CancellationToken)"/>
    public ValueTask<AsyncLockSetScope> AcquireManyAsync(IReadOnlyList<TKey> keys, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterMany(keys, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: true);

    /// <summary>
    /// Acquires the stripes of all <paramref name="keys"/> in stripe order, each once, if all of them can be taken
    /// within <paramref name="timeout"/>; otherwise none.
    /// </summary>
    /// <param name="keys">The keys, in any order.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockSetScope.IsAcquired"/> is false (and no stripe is held) when the timeout elapsed.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds one of the stripes; nothing is taken.</exception>
    /// <exception cref="LockOrderViolationException">The stripes' level is not above a lock the flow holds; nothing is taken.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no stripe is held.</exception>
    /// <exception cref="ArgumentException">No key was given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<AsyncLockSetScope> TryAcquireManyAsync(IReadOnlyList<TKey> keys, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterMany(keys, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false);

    private ValueTask<AsyncLockSetScope> EnterMany(IReadOnlyList<TKey> keys, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        ArgumentNullException.ThrowIfNull(keys);
        int count = keys.Count;
        if (count == 0)
        {
            ThrowHelper.ThrowNoKeys(this, async: true);
        }

        LockBuffer inline = default;
        Span<LockPrimitive?> stripes = count <= LockBuffer.Capacity ? inline[..count] : new LockPrimitive?[count];
        for (int i = 0; i < count; i++)
        {
            stripes[i] = StripeFor(keys[i]);
        }

        return LockSet.EnterAsyncSet(stripes, timeoutMs, cancellationToken, throwOnTimeout);
    }

    internal AsyncExclusiveLock StripeAt(int index) => _table.Stripes[index];

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole; acquire several keys through it instead.");

    internal override void ExitForSet() =>
        throw new NotSupportedException($"Striped lock {Describe()} cannot join a LockSet as a whole.");

    private protected override void OnInstrumentsChanged(LocksmithInstruments instruments) => _table.UseInstruments(instruments);

    private protected override void OnDeclared() => _table.FollowIdentity(Name, Level);

    /// <summary>The stripe of <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncExclusiveLock StripeFor(TKey key) => _table.For(key);
}
