namespace Locksmith;

/// <summary>A lock requested against the global order: the data behind <see cref="LockOrderViolationException"/>.</summary>
/// <param name="HeldLockName">The name of the held lock with the highest level.</param>
/// <param name="HeldLevel">Its level.</param>
/// <param name="RequestedLockName">The name of the lock being acquired.</param>
/// <param name="RequestedLevel">Its level, not greater than <paramref name="HeldLevel"/>.</param>
/// <param name="ThreadId">The managed thread id of the acquiring thread, or the id of the acquiring async flow (2^30 and up).</param>
/// <param name="ThreadName">The acquiring thread's name, or the flow's activity name, if it has one.</param>
public sealed record LockOrderViolation(
    string HeldLockName,
    int HeldLevel,
    string RequestedLockName,
    int RequestedLevel,
    int ThreadId,
    string? ThreadName)
{
    /// <summary>
    /// A sentence naming both locks, their levels and the thread or flow (a flow with the thread it ran on, as other async
    /// messages name it: <c>in flow #3 ('GET /orders') (on thread 7)</c>), then the <see cref="Advice"/>.
    /// </summary>
    public string Message =>
        $"Lock order violation {(ThreadId >= LockOwner.FlowIdBase ? "in " : "on ")}{Owner}" +
        (FlowThread is null ? string.Empty : $" (on thread {FlowThread})") +
        $": acquiring '{RequestedLockName}' (level {RequestedLevel}) while holding '{HeldLockName}' (level {HeldLevel}). {Advice}";

    /// <summary>The acquiring thread or flow as messages name it: <c>thread 7 ('worker')</c>, <c>flow #12 ('GET /orders')</c>.</summary>
    public string Owner => ThreadId >= LockOwner.FlowIdBase ? LockOwner.DescribeFlow(ThreadId, ThreadName) : "thread " + ThreadNames.Format(ThreadId, ThreadName);

    /// <summary>The rule and what to do instead, fitted to the two locks (stripes of one lock, distributed locks, …).</summary>
    public string Advice => "Locks must be acquired in increasing level order; " +
        (Remedy ?? $"acquire '{RequestedLockName}' first, or use LockSet to take both in the global order.");

    /// <summary>What to do instead, when the usual advice (acquire it first, or use <c>LockSet</c>) does not fit the locks.</summary>
    internal string? Remedy { get; init; }

    /// <summary>
    /// For an async flow's violation, the thread it ran on as it asked (<c>7 ('worker')</c>), read where it asked; null for
    /// a thread's (<see cref="Owner"/> is the thread). <see cref="Message"/> prints it as <c>(on thread 7 ('worker'))</c>.
    /// </summary>
    public string? FlowThread { get; internal init; }
}
