using System;
using System.Collections.Generic;

namespace Locksmith;

/// <summary>
/// A lock request was refused because granting it would have closed a cycle of waits: every party waits for a lock
/// another holds. Thrown instead of waiting forever; the message names the locks in the cycle.
/// </summary>
/// <remarks>
/// Thrown, for instance, when PostgreSQL's deadlock detector picks the request as the victim (SQLSTATE 40P01). The
/// request holds nothing more afterwards; the locks the caller already held are still held.
/// </remarks>
public sealed class DeadlockException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="lockNames">The locks of the cycle as the message names them (each with its key, for a keyed lock).</param>
    /// <param name="innerException">What reported the deadlock, or null.</param>
    public DeadlockException(string message, IReadOnlyList<string> lockNames, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(lockNames);
        LockNames = lockNames;
    }

    /// <summary>The locks of the cycle as the message names them.</summary>
    public IReadOnlyList<string> LockNames { get; }
}
