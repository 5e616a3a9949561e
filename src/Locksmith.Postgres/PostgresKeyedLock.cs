using System;
using System.Buffers.Binary;
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
/// (<see cref="AcquireManyAsync"/> or <see cref="PostgresLockSet"/>), in key order, so processes cannot deadlock.
/// Generated <c>[Guarded(StripeBy = …)]</c> wrappers take it like an <see cref="AsyncStripedLock{TKey}"/>.</para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class PostgresKeyedLock<TKey> : PostgresLock, IAsyncKeyedAccessLock
    where TKey : notnull
{
    private readonly Func<TKey, int>? _keyMap;

    /// <summary>Creates the lock (see <see cref="PostgresLockProvider.CreateKeyedLock{TKey}"/>).</summary>
    /// <param name="provider">The database and connections.</param>
    /// <param name="name">The lock class's name: its identity in every process.</param>
    /// <param name="level">The class's level in the global lock order, or null for unordered.</param>
    /// <param name="keyMap">Maps a key to the second int4 of the advisory key, or null for the default mapping.</param>
    public PostgresKeyedLock(PostgresLockProvider provider, string name, int? level = null, Func<TKey, int>? keyMap = null)
        : base(provider, name, level, LockKind.DistributedKeyed)
    {
        ClassId = provider.RegisterClass(name);
        _keyMap = keyMap;
    }

    /// <summary>The first int4 of every advisory key of this class.</summary>
    public int ClassId { get; }

    /// <summary>Whether the current async flow holds <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True when it does.</returns>
    public bool IsHeldByCurrentFlow(TKey key) => FlowOwnership.CurrentOrNull is { } flow && Provider.FindHold(KeyOf(key), flow) is not null;

    /// <summary>The lost-lock token of the current flow's hold on <paramref name="key"/>, or <see cref="CancellationToken.None"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The token (see <see cref="PostgresLockScope.LostToken"/>).</returns>
    public CancellationToken GetCurrentFlowLostToken(TKey key) =>
        FlowOwnership.CurrentOrNull is { } flow && Provider.FindHold(KeyOf(key), flow) is { } hold ? hold.LostToken : CancellationToken.None;

    /// <summary>Acquires <paramref name="key"/>, waiting up to the provider's default timeout.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the wait (the server's wait is cancelled too); the key is then not acquired.</param>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireAsync(TKey key, CancellationToken cancellationToken = default) =>
        Enter(KeyOf(key), DescribeKey(key), shared: false, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; the key is then not acquired.</param>
    /// <inheritdoc cref="PostgresExclusiveLock.AcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> AcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Enter(KeyOf(key), DescribeKey(key), shared: false, TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires <paramref name="key"/> if it is granted within <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the key is then not acquired.</param>
    /// <inheritdoc cref="PostgresExclusiveLock.TryAcquireAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<PostgresLockScope> TryAcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Enter(KeyOf(key), DescribeKey(key), shared: false, TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: false);

    /// <summary>A request for <paramref name="key"/>, to take with others through <see cref="PostgresLockSet"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The request.</returns>
    public PostgresLockRequest Request(TKey key) => new(this, KeyOf(key), DescribeKey(key), shared: false);

    /// <summary>Acquires several keys together, in key order, all or nothing (a transfer between two accounts).</summary>
    /// <param name="keys">The keys, in any order; duplicates are taken once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every key.</returns>
    /// <remarks>See <see cref="PostgresLockSet.AcquireAsync(System.Collections.Generic.IReadOnlyList{PostgresLockRequest}, CancellationToken)"/>.</remarks>
    public ValueTask<PostgresLockSetScope> AcquireManyAsync(System.Collections.Generic.IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var requests = new PostgresLockRequest[keys.Count];
        for (int i = 0; i < requests.Length; i++)
        {
            requests[i] = Request(keys[i]);
        }

        return PostgresLockSet.AcquireAsync(requests, cancellationToken);
    }

    private protected override void CheckOrderWithinLock(LockOwner flow)
    {
        if (Provider.CountHoldsOf(this, flow) > 0 && LocksmithPolicy.OrderViolationAction != OrderViolationAction.Ignore)
        {
            OrderGuard.Report(flow, this, this, LocksmithPolicy.OrderViolationAction);
        }
    }

    internal AdvisoryKey KeyOf(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return AdvisoryKey.ForPair(ClassId, _keyMap is null ? DefaultKeyMap(key) : _keyMap(key));
    }

    private string DescribeKey(TKey key) =>
        string.Create(CultureInfo.InvariantCulture, $"'{Name}'[{key}]{(Level is { } level ? $" (level {level})" : string.Empty)}");

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
