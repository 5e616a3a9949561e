namespace Locksmith;

/// <summary>One step of a wait-for cycle: a thread blocked on a lock that another thread of the cycle holds.</summary>
/// <param name="ThreadId">The blocked thread's managed id, or the blocked async flow's id (2^30 and up).</param>
/// <param name="ThreadName">The blocked thread's name, if it has one.</param>
/// <param name="LockName">The lock it waits for.</param>
/// <param name="LockLevel">That lock's order level, or null if unordered.</param>
/// <param name="LockKind">That lock's kind.</param>
/// <param name="Mode">The mode it waits for.</param>
/// <param name="OwnerThreadId">The managed id of the thread holding that lock (the next edge's thread).</param>
public sealed record DeadlockEdge(
    int ThreadId,
    string? ThreadName,
    string LockName,
    int? LockLevel,
    LockKind LockKind,
    LockMode Mode,
    int OwnerThreadId)
{
    /// <summary>Whether the waiter is an async flow (its id is a flow id, 2^30 and up) rather than a thread.</summary>
    public bool IsFlow => ThreadId >= LockOwner.FlowIdBase;

    /// <summary>"thread 12 ('worker') waits for 'a' (level 10), held by thread 13", or the same with flows.</summary>
    public override string ToString() =>
        (IsFlow ? LockOwner.DescribeFlow(ThreadId, ThreadName) : $"thread {ThreadNames.Format(ThreadId, ThreadName)}") +
        $" waits for '{LockName}'" +
        (LockLevel is { } level ? $" (level {level})" : string.Empty) +
        (OwnerThreadId >= LockOwner.FlowIdBase ? $", held by {LockOwner.DescribeFlow(OwnerThreadId, null)}" : $", held by thread {OwnerThreadId}");
}
