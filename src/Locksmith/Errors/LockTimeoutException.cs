using System;

namespace Locksmith;

/// <summary>
/// An acquisition with a timeout gave up. The message names the lock, the thread that held it, and how long
/// the caller waited.
/// </summary>
public sealed class LockTimeoutException : TimeoutException
{
    /// <summary>Creates the exception with a message only.</summary>
    public LockTimeoutException(string message)
        : base(message)
    {
        LockName = string.Empty;
    }

    /// <summary>Creates the exception for a wait on <paramref name="lockName"/>.</summary>
    /// <param name="lockName">The lock that could not be acquired.</param>
    /// <param name="ownerThreadId">The managed id of the thread that held it, or 0 if unknown or shared.</param>
    /// <param name="waited">How long the caller waited.</param>
    /// <param name="message">The full message.</param>
    public LockTimeoutException(string lockName, int ownerThreadId, TimeSpan waited, string message)
        : this(lockName, ownerThreadId, null, waited, message)
    {
    }

    /// <summary>Creates the exception for a wait on <paramref name="lockName"/>, naming the holder's thread.</summary>
    /// <param name="lockName">The lock that could not be acquired.</param>
    /// <param name="ownerThreadId">The managed id of the thread that held it, or 0 if unknown or shared.</param>
    /// <param name="ownerThreadName">That thread's name, or null when it has none or is unknown.</param>
    /// <param name="waited">How long the caller waited.</param>
    /// <param name="message">The full message.</param>
    public LockTimeoutException(string lockName, int ownerThreadId, string? ownerThreadName, TimeSpan waited, string message)
        : base(message)
    {
        LockName = lockName;
        OwnerThreadId = ownerThreadId;
        OwnerThreadName = ownerThreadName;
        Waited = waited;
    }

    /// <summary>The same wait's exception with <paramref name="innerException"/> inside: a distributed set's clean-up that failed after it.</summary>
    internal LockTimeoutException(string lockName, int ownerThreadId, string? ownerThreadName, TimeSpan waited, string message, Exception innerException)
        : base(message, innerException)
    {
        LockName = lockName;
        OwnerThreadId = ownerThreadId;
        OwnerThreadName = ownerThreadName;
        Waited = waited;
    }

    /// <summary>The lock that could not be acquired.</summary>
    public string LockName { get; }

    /// <summary>The managed id of the thread that held the lock when the wait ended, or 0 if unknown or held shared.</summary>
    public int OwnerThreadId { get; }

    /// <summary>
    /// The name of the thread that held the lock when the wait ended, or null when it has none, is unknown, or the lock
    /// was held shared. Known for any thread that has used a Locksmith lock, even one that never waited itself. For an
    /// async lock held by a flow, the flow's description (<c>flow #3 ('GET /orders')</c>), as the timeout's event gives it.
    /// </summary>
    public string? OwnerThreadName { get; }

    /// <summary>How long the caller waited.</summary>
    public TimeSpan Waited { get; }
}
