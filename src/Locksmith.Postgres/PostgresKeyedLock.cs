using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres;

/// <summary>
/// A keyed distributed lock: a lock class (its name) and one exclusive advisory lock per key, such as an account id,
/// in the two-int4 form <c>pg_advisory_lock(classId, key)</c>.
/// </summary>
/// <remarks>
/// <para>The class id is the first 4 bytes of SHA-256 of the name, and a provider refuses a second class with the same
/// id, so two classes never share an advisory key; nor do they share one with a named lock (the server keys the bigint
/// form apart). Within a class, <see cref="int"/>-sized integer keys map to themselves (no two share an advisory lock);
/// wider integers fold their halves and other keys hash (strings and <see cref="object.ToString"/> text by SHA-256), so
/// two such keys may share one advisory lock: they then exclude each other, which is safe, only slower. A
/// <c>keyMap</c> given to the constructor replaces that mapping (it must be the same in every process).</para>
/// <para>The keys share the class's level: a flow holding one key takes another only together with it
/// (<see cref="AcquireManyAsync(IReadOnlyList{TKey}, CancellationToken)"/> or <see cref="PostgresLockSet"/>), in key order, so processes cannot deadlock.
/// Generated <c>[Guarded(StripeBy = …)]</c> wrappers take it like an <see cref="AsyncStripedLock{TKey}"/>.</para>
/// <para>The deadlock detector sees each key as its own lock, named <c>name[key]</c>: a flow that already holds a
/// lock and waits for a key through <see cref="AcquireAsync(TKey, CancellationToken)"/> or its overloads is followed
/// to that key's holder, and so is a wait for a key inside <see cref="AcquireManyAsync(IReadOnlyList{TKey}, CancellationToken)"/> or a <see cref="PostgresLockSet"/>.</para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class PostgresKeyedLock<TKey> : PostgresLock, IAsyncKeyedAccessLock, IAsyncOwnedLock
    where TKey : notnull
{
    /// <summary>How many characters of a key messages show.</summary>
    internal const int MaxKeyTextLength = 100;

    private readonly Func<TKey, int>? _keyMap;

    // For order-violation messages: the key each acquisition of a holding flow is taking, one entry per acquisition (tasks
    // of one flow may take two keys at once). A flow holding nothing cannot be out of order, so its are not recorded.
    private readonly ConcurrentDictionary<WaitedKey, byte> _waitedKeys = new();

    /// <summary>Creates the lock (see <see cref="PostgresLockProvider.CreateKeyedLock{TKey}"/>).</summary>
    /// <param name="provider">The database and connections.</param>
    /// <param name="name">The lock class's name: its identity in every process.</param>
    /// <param name="level">The class's level in the global lock order, or null for unordered.</param>
    /// <param name="keyMap">Maps a key to the second int4 of the advisory key, or null for the default mapping.</param>
    public PostgresKeyedLock(PostgresLockProvider provider, string name, int? level = null, Func<TKey, int>? keyMap = null)
        : base(provider, name, level, LockKind.DistributedKeyed)
    {
        ClassId = provider.RegisterClass(name, level);
        _keyMap = keyMap;
        AsyncOwners.Register(this);
    }

    /// <summary>The first int4 of every advisory key of this class.</summary>
    public int ClassId { get; }

    LockPrimitive IAsyncOwnedLock.Lock => this;

    // Held per key: no one flow holds the class.
    LockOwner? IAsyncOwnedLock.ExclusiveHolder => null;

    /// <summary>Whether the current async flow holds <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True when it does.</returns>
    public bool IsHeldByCurrentFlow(TKey key) => IsHeldByCurrentFlowOf(KeyOf(key));

    /// <summary>The lost-lock token of the current flow's hold on <paramref name="key"/>, or <see cref="CancellationToken.None"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The token (see <see cref="PostgresLockScope.LostToken"/>).</returns>
    public CancellationToken GetCurrentFlowLostToken(TKey key) => CurrentFlowLostTokenOf(KeyOf(key));

    /// <summary>Acquires <paramref name="key"/>, waiting up to the provider's default timeout.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the wait (the server's wait is cancelled too); the key is then not acquired.</param>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireAsync(TKey key, CancellationToken cancellationToken = default) =>
        EnterKey(key, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; the key is then not acquired.</param>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterKey(key, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires <paramref name="key"/> if it is granted within <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the key is then not acquired.</param>
    /// <inheritdoc cref="PostgresExclusiveLock.TryAcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> TryAcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterKey(key, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false);

    /// <summary>A request for <paramref name="key"/>, to take with others through <see cref="PostgresLockSet"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The request.</returns>
    public PostgresLockRequest Request(TKey key) => new(this, KeyOf(key), DescribeKey(key), shared: false);

    /// <summary>Acquires several keys together, in key order, all or nothing (a transfer between two accounts).</summary>
    /// <param name="keys">The keys, in any order; duplicates are taken once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every key.</returns>
    /// <exception cref="Npgsql.NpgsqlException">A PostgreSQL session of the flow could not be opened (the server is down, unreachable or
    /// refused it, or did not answer in time), or one failed under a wait (its connection broke, or the server ended the wait with an error); no key is held, and the message names the key, the flow and the server.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed before the attempt (thrown at once), or while it waited (the waits are ended); no key is held.</exception>
    /// <remarks>See <see cref="PostgresLockSet.AcquireAsync(System.Collections.Generic.IReadOnlyList{PostgresLockRequest}, CancellationToken)"/>.</remarks>
    public ValueTask<PostgresLockSetScope> AcquireManyAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return PostgresLockSet.AcquireAsync(RequestsFor(keys), cancellationToken);
    }

    /// <summary>Acquires several keys together, in key order, all or nothing, waiting at most <paramref name="timeout"/> for all of them.</summary>
    /// <param name="keys">The keys, in any order; duplicates are taken once.</param>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every key.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed; no key is held.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite); the message names the lock.</exception>
    /// <exception cref="Npgsql.NpgsqlException">A PostgreSQL session of the flow could not be opened (the server is down, unreachable or
    /// refused it, or did not answer in time), or one failed under a wait (its connection broke, or the server ended the wait with an error); no key is held, and the message names the key, the flow and the server.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed before the attempt (thrown at once), or while it waited (the waits are ended); no key is held.</exception>
    /// <remarks>See <see cref="PostgresLockSet.AcquireAsync(TimeSpan, IReadOnlyList{PostgresLockRequest}, CancellationToken)"/>.</remarks>
    public ValueTask<PostgresLockSetScope> AcquireManyAsync(IReadOnlyList<TKey> keys, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _ = TimeoutMath.ToMilliseconds(timeout, this);
        return PostgresLockSet.AcquireAsync(timeout, RequestsFor(keys), cancellationToken);
    }

    /// <summary>Acquires several keys together, in key order, if all of them can be had within <paramref name="timeout"/>; otherwise none.</summary>
    /// <param name="keys">The keys, in any order; duplicates are taken once.</param>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries each once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope to dispose; <see cref="PostgresLockSetScope.IsAcquired"/> is false (and no key is held) when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite); the message names the lock.</exception>
    /// <exception cref="Npgsql.NpgsqlException">A PostgreSQL session of the flow could not be opened (the server is down, unreachable or
    /// refused it, or did not answer in time), or one failed under a wait (its connection broke, or the server ended the wait with an error); no key is held, and the message names the key, the flow and the server.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed before the attempt (thrown at once), or while it waited (the waits are ended); no key is held.</exception>
    /// <remarks>See <see cref="PostgresLockSet.TryAcquireAsync(TimeSpan, IReadOnlyList{PostgresLockRequest}, CancellationToken)"/>.</remarks>
    public ValueTask<PostgresLockSetScope> TryAcquireManyAsync(IReadOnlyList<TKey> keys, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _ = TimeoutMath.ToMilliseconds(timeout, this);
        return PostgresLockSet.TryAcquireAsync(timeout, RequestsFor(keys), cancellationToken);
    }

    private PostgresLockRequest[] RequestsFor(IReadOnlyList<TKey> keys)
    {
        var requests = new PostgresLockRequest[keys.Count];
        for (int i = 0; i < requests.Length; i++)
        {
            requests[i] = Request(keys[i]);
        }

        return requests;
    }

    void IAsyncOwnedLock.AddWaiters(List<(LockOwner Flow, LockMode Mode)> waiters) => AddWaiters(waiters);

    /// <summary>The key the flow's wait slot shows it waiting for (its own acquisition's or a set's), and that key's holder in this process.</summary>
    internal override (string Name, int OwnerId) WaitEdgeFor(LockOwner waiter) =>
        PostgresWait.Of(waiter, this) is { } waited
            ? (OrderNameOf(waited.Description), Provider.ExclusiveHolderInProcess(waited.Key)?.OwnerId ?? 0)
            : (Name, 0);

    private ValueTask<PostgresLockScope> EnterKey(TKey key, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        var advisoryKey = KeyOf(key);
        if (timeoutMs == 0 || FlowOwnership.CurrentOrNull is not { } flow)
        {
            return Enter(advisoryKey, DescribeKey(key), shared: false, timeoutMs, cancellationToken, throwOnTimeout);
        }

        var waited = new WaitedKey(flow, $"{Name}[{KeyText(key)}]");
        ValueTask<PostgresLockScope> entered;
        try
        {
            // Recorded once the checks passed, so an order violation names the key a sibling task of the flow takes as
            // held, not this one; and before any round trip. (The deadlock detector reads the wait's own entry.)
            entered = Enter(advisoryKey, DescribeKey(key), shared: false, timeoutMs, cancellationToken, throwOnTimeout,
                _ => _waitedKeys.TryAdd(waited, 0));
        }
        catch
        {
            _waitedKeys.TryRemove(waited, out _);
            throw;
        }

        if (entered.IsCompleted)
        {
            _waitedKeys.TryRemove(waited, out _);
            return entered;
        }

        return AwaitKeyAsync(entered, waited);
    }

    private async ValueTask<PostgresLockScope> AwaitKeyAsync(ValueTask<PostgresLockScope> entered, WaitedKey waited)
    {
        try
        {
            return await entered.ConfigureAwait(false);
        }
        finally
        {
            _waitedKeys.TryRemove(waited, out _);
        }
    }

    /// <summary>A set's wait for <paramref name="key"/> (named from its description), recorded as a single key's is, for order-violation messages.</summary>
    internal override object? BeginKeyWait(LockOwner flow, AdvisoryKey key, string description)
    {
        var waited = new WaitedKey(flow, OrderNameOf(description));
        _waitedKeys.TryAdd(waited, 0);
        return waited;
    }

    /// <summary>The wait <see cref="BeginKeyWait"/> recorded is over (only that one: a sibling task's stays).</summary>
    internal override void EndKeyWait(LockOwner flow, object? wait)
    {
        if (wait is WaitedKey waited)
        {
            _waitedKeys.TryRemove(waited, out _);
        }
    }

    private protected override void CheckOrderWithinLock(LockOwner flow, string description)
    {
        // Held or still being acquired (by a sibling task of the flow): either way the flow takes a second key alone.
        if (FlowOrder.Holds(flow, this) && LocksmithPolicy.OrderViolationAction != OrderViolationAction.Ignore)
        {
            OrderGuard.Report(flow, this, this, LocksmithPolicy.OrderViolationAction, requestedName: OrderNameOf(description));
        }
    }

    /// <summary>The key as the deadlock detector names it, <c>accounts[1]</c>, cut from a description of <see cref="DescribeKey"/>.</summary>
    internal override string OrderNameOf(string description)
    {
        // 'name'[key] (level n): the key's text lies between the quoted name and the level.
        int start = Name.Length + 2;
        int end = description.Length - LevelSuffix.Length;
        Debug.Assert(description.StartsWith($"'{Name}'[", StringComparison.Ordinal) && description.EndsWith(LevelSuffix, StringComparison.Ordinal));
        return end > start ? string.Concat(Name, description.AsSpan(start, end - start)) : Name;
    }

    /// <summary>The key <paramref name="owner"/> holds (or, a sibling task still acquiring it, waits for), else the lock's name.</summary>
    internal override string OrderNameHeldBy(LockOwner owner) =>
        Provider.FindHoldOf(this, owner) is { } hold ? OrderNameOf(hold.Description)
        : KeyTakenBy(owner) ?? Name;

    /// <summary>A key an acquisition of <paramref name="owner"/> is taking, or null (a scan: only for a message).</summary>
    private string? KeyTakenBy(LockOwner owner)
    {
        foreach (var pair in _waitedKeys)
        {
            if (ReferenceEquals(pair.Key.Owner, owner))
            {
                return pair.Key.Name;
            }
        }

        return null;
    }

    internal AdvisoryKey KeyOf(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return AdvisoryKey.ForPair(ClassId, _keyMap is null ? DefaultKeyMap(key) : _keyMap(key));
    }

    private string DescribeKey(TKey key) => string.Create(CultureInfo.InvariantCulture, $"'{Name}'[{KeyText(key)}]{LevelSuffix}");

    private string LevelSuffix => Level is { } level ? string.Create(CultureInfo.InvariantCulture, $" (level {level})") : string.Empty;

    /// <summary>
    /// The key as messages and <see cref="PostgresLockScope.LockDescription"/> show it: its invariant text, cut to
    /// <see cref="MaxKeyTextLength"/> characters with an ellipsis (a megabyte key would otherwise fill every message).
    /// </summary>
    internal static string KeyText(TKey key)
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"{key}");
        if (text.Length <= MaxKeyTextLength)
        {
            return text;
        }

        // Never split a surrogate pair.
        int cut = char.IsHighSurrogate(text[MaxKeyTextLength - 1]) ? MaxKeyTextLength - 1 : MaxKeyTextLength;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    /// <summary>A key an acquisition of a flow is taking, as the deadlock detector names it; one object per acquisition (compared by reference).</summary>
    private sealed class WaitedKey(LockOwner owner, string name)
    {
        public LockOwner Owner { get; } = owner;

        public string Name { get; } = name;
    }

    private static int DefaultKeyMap(TKey key)
    {
        if (typeof(TKey) == typeof(int))
        {
            return (int)(object)key;
        }

        if (typeof(TKey) == typeof(long))
        {
            long value = (long)(object)key;
            return value is >= int.MinValue and <= int.MaxValue ? (int)value : (int)value ^ (int)(value >> 32);
        }

        if (typeof(TKey) == typeof(uint))
        {
            return unchecked((int)(uint)(object)key);
        }

        if (typeof(TKey) == typeof(short))
        {
            return (short)(object)key;
        }

        if (typeof(TKey) == typeof(ushort))
        {
            return (ushort)(object)key;
        }

        if (typeof(TKey) == typeof(byte))
        {
            return (byte)(object)key;
        }

        if (typeof(TKey) == typeof(ulong))
        {
            ulong value = (ulong)(object)key;
            return value <= int.MaxValue ? (int)value : unchecked((int)value ^ (int)(value >> 32));
        }

        if (typeof(TKey) == typeof(Guid))
        {
            Span<byte> bytes = stackalloc byte[16];
            ((Guid)(object)key).TryWriteBytes(bytes);
            return BinaryPrimitives.ReadInt32LittleEndian(bytes) ^ BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]) ^
                BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]) ^ BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        }

        string text = key is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : key.ToString() ?? string.Empty;
        return BinaryPrimitives.ReadInt32BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
