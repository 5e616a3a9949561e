namespace Locksmith;

/// <summary>One step of a wait-for cycle: a thread or flow blocked on a lock that another thread or flow of the cycle holds.</summary>
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

    /// <summary>
    /// When the waiter waits through another's wait (a mixed cycle): the id of the thread a flow's code blocks (the flow
    /// waits for that thread's sync lock), or of the async flow a thread blocks on (sync over async: the thread waits for
    /// that flow's async lock). Null when the waiter waits itself.
    /// </summary>
    public int? WaitsThrough { get; init; }

    /// <summary>The name of <see cref="WaitsThrough"/>, read when the cycle was found (a thread may have ended since).</summary>
    internal string? WaitsThroughName { get; init; }

    /// <summary>
    /// For a flow's edge, the thread its wait runs on (<c>7 ('worker')</c>), as other messages name a flow's thread: the
    /// thread its own async wait began on, or the thread whose sync wait it waits through (<see cref="WaitsThrough"/>);
    /// null for a thread's edge. <see cref="ToString"/> prints it as <c>flow #3 (on thread 7 ('worker'))</c>.
    /// </summary>
    public string? FlowThread { get; internal init; }

    /// <summary>
    /// "thread 12 ('worker') waits for 'a' (level 10), held by thread 13", or the same with flows, each with the thread
    /// its wait runs on ("flow #3 (on thread 12 ('worker')) waits for …", also for a flow that waits through that
    /// thread's sync wait); a thread that waits through a flow's async wait reads "thread 13 (blocked on the async wait
    /// of flow #4) waits for …".
    /// </summary>
    public override string ToString() =>
        (IsFlow ? LockOwner.DescribeFlow(ThreadId, ThreadName) : $"thread {ThreadNames.Format(ThreadId, ThreadName)}") +
        (WaitsThrough is { } through && through >= LockOwner.FlowIdBase
            ? $" (blocked on the async wait of {LockOwner.DescribeFlow(through, WaitsThroughName)})"
            : (FlowThread ?? (WaitsThrough is { } thread ? ThreadNames.Format(thread, WaitsThroughName) : null)) is { } on
                ? $" (on thread {on})"
                : string.Empty) +
        $" waits for '{LockName}'" +
        (LockLevel is { } level ? $" (level {level})" : string.Empty) +
        (OwnerThreadId >= LockOwner.FlowIdBase ? $", held by {LockOwner.DescribeFlow(OwnerThreadId, null)}" : $", held by thread {OwnerThreadId}");
}
