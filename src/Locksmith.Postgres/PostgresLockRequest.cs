using System;

namespace Locksmith.Postgres;

/// <summary>
/// One distributed lock (with its key and mode) for <see cref="PostgresLockSet"/>: made by
/// <see cref="PostgresExclusiveLock.Request"/>, <see cref="PostgresReadWriteLock.ReadRequest"/>,
/// <see cref="PostgresReadWriteLock.WriteRequest"/> or <see cref="PostgresKeyedLock{TKey}.Request"/>.
/// </summary>
public readonly struct PostgresLockRequest
{
    internal PostgresLockRequest(PostgresLock lockPrimitive, AdvisoryKey key, string description, bool shared)
    {
        Lock = lockPrimitive;
        Key = key;
        _description = description;
        IsShared = shared;
    }

    /// <summary>The lock (the class, for a keyed lock); null for a default request.</summary>
    public PostgresLock? Lock { get; }

    private readonly string? _description;

    /// <summary>The lock and key as messages name them; empty for a default request (as a default scope's description is).</summary>
    public string Description => _description ?? string.Empty;

    /// <summary>Whether the request is for shared (read) access.</summary>
    public bool IsShared { get; }

    internal AdvisoryKey Key { get; }

    internal PostgresLock RequireLock(string paramName) =>
        Lock ?? throw new ArgumentException("A default PostgresLockRequest names no lock; make requests with Request, ReadRequest or WriteRequest.", paramName);
}
