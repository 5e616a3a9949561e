using System;

namespace Locksmith;

/// <summary>A blocked wait still under way, as <see cref="DeadlockDetector.CurrentWaits"/> read it: a snapshot, stale at once.</summary>
/// <param name="WaiterId">The blocked thread's managed id, or the blocked async flow's id (2^30 and up).</param>
/// <param name="WaiterName">The thread's name, or the flow's activity name, if it has one.</param>
/// <param name="LockName">The lock it waits for; a stripe's wait names its striped lock, a keyed distributed lock's wait its key (<c>accounts[42]</c>).</param>
/// <param name="LockLevel">That lock's order level, or null if unordered.</param>
/// <param name="LockKind">That lock's kind.</param>
/// <param name="Mode">The mode it waits for.</param>
/// <param name="Waited">How long it has waited so far; for an untimed async wait nobody clocked, since the first <see cref="DeadlockDetector.CurrentWaits"/> that saw it.</param>
public sealed record LockWaitInProgress(
    int WaiterId,
    string? WaiterName,
    string LockName,
    int? LockLevel,
    LockKind LockKind,
    LockMode Mode,
    TimeSpan Waited)
{
    /// <summary>Whether the waiter is an async flow (its id is a flow id, 2^30 and up) rather than a thread.</summary>
    public bool IsFlow => WaiterId >= LockOwner.FlowIdBase;

    /// <summary>
    /// The managed thread id, or async flow id (2^30 and up), of the lock's exclusive holder the wait is behind; 0 when it
    /// has no single holder (readers, a semaphore's permits) or was released as the wait was read.
    /// </summary>
    public int HolderId { get; init; }

    /// <summary>
    /// The holder as messages name it (<c>thread 13 ('reconciler')</c>, <c>flow #4 ('GET /orders')</c>), read with the
    /// wait, since a thread's name cannot be read once it has ended; a thread is named only if it has an owner record (it
    /// took an ordered lock or waited for one), otherwise <c>thread 13</c>; a flow with the activity it took its locks in,
    /// as <see cref="LockPrimitive.DescribeHolder"/> names it, while it still holds the lock (one that let go meanwhile:
    /// <c>flow #4</c>). Null when <see cref="HolderId"/> is 0.
    /// </summary>
    public string? Holder { get; init; }

    /// <summary>
    /// The <see cref="LockPrimitive.Id"/> of the lock <see cref="LockName"/> names (a stripe's wait: its striped lock's), so
    /// a wait can be matched to its lock instance where names repeat (two DI containers in one process).
    /// </summary>
    public long LockId { get; init; }

    /// <summary>
    /// For a flow's wait, the thread it began on (<c>7 ('worker')</c>), as other messages name a flow's thread (a
    /// distributed lock's wait too); null for a thread's wait.
    /// </summary>
    public string? FlowThread { get; internal init; }

    /// <summary>
    /// For a wait on a key's stripe, the stripe's own name (<c>stock[34]</c>), as its timeouts and long waits name it; null
    /// otherwise. <see cref="LockName"/> and <see cref="LockId"/> stay its striped lock's, as metrics count it.
    /// </summary>
    public string? StripeName { get; internal init; }

    /// <summary>
    /// The waiter as messages name it: <c>thread 7 ('worker')</c>, or <c>flow #3 ('GET /orders') (on thread 7)</c> with
    /// the thread its wait began on (<see cref="FlowThread"/>), when known.
    /// </summary>
    public string Waiter =>
        !IsFlow ? "thread " + ThreadNames.Format(WaiterId, WaiterName)
        : FlowThread is { } thread ? $"{LockOwner.DescribeFlow(WaiterId, WaiterName)} (on thread {thread})"
        : LockOwner.DescribeFlow(WaiterId, WaiterName);

    /// <summary>"thread 12 ('worker') has waited 1500 ms for 'ledger' (Exclusive)"; a flow is named as <see cref="Waiter"/> names it.</summary>
    public override string ToString() =>
        $"{Waiter} has waited {Waited.TotalMilliseconds:0.###} ms for '{LockName}' ({Mode})";
}
