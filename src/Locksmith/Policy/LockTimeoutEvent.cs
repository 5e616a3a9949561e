using System;

namespace Locksmith;

/// <summary>A wait for a lock that gave up at its timeout; passed to <see cref="LocksmithPolicy.TimeoutOccurred"/>.</summary>
/// <param name="LockName">The lock that could not be acquired.</param>
/// <param name="Mode">The mode that was requested.</param>
/// <param name="Waited">How long the caller waited.</param>
/// <param name="ThreadId">The waiting thread's managed id, or the id of the waiting async flow (2^30 and up).</param>
/// <param name="OwnerThreadId">The managed id of the thread (or the id of the flow) holding the lock when the wait ended, or 0 if unknown or shared.</param>
public sealed record LockTimeoutEvent(string LockName, LockMode Mode, TimeSpan Waited, int ThreadId, int OwnerThreadId)
{
    /// <summary>
    /// The name of the thread holding the lock when the wait ended (a flow's description for a flow), or null when it has
    /// none, is unknown, or the lock was held shared. A distributed lock that no session of this process holds says
    /// <c>a session outside this process</c>, with <see cref="OwnerThreadId"/> 0.
    /// </summary>
    public string? OwnerThreadName { get; init; }
}
