using System;
using System.Diagnostics;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The bookkeeping around one blocked wait, shared by every waiting primitive: the wait-for registration the
/// deadlock detector reads, the cancellation hook that nudges the waiter, and the wait metrics and events.
/// </summary>
/// <remarks>
/// Begin and End run outside the node's monitor: disposing the cancellation registration waits for a running
/// callback, and that callback takes the monitor.
/// </remarks>
internal struct BlockedWait
{
    private static readonly Action<object?> s_nudge = static node => ((WaitNode)node!).Nudge();

    private readonly LockPrimitive _lock;
    private readonly LockMode _mode;
    private readonly string _modeTag;
    private readonly LockOwner _owner;
    private readonly long _start;

    // Whether this is a sync lock set's wait on its busy member (SetMemberTimeout.ClaimSync): only that wait's timeout
    // gives the set's whole wait.
    private readonly bool _forSet;

    // A wait nested in another on the same thread (user code run by a metrics callback) restores the outer one.
    private readonly LockPrimitive? _outerWaitingFor;
    private readonly LockMode _outerWaitingMode;
    private readonly long _outerWaitingSince;
    private readonly LockOwner? _outerBlockedFlow;
    private CancellationTokenRegistration _registration;

    private BlockedWait(LockPrimitive lockPrimitive, LockMode mode, string modeTag, WaitNode? node, CancellationToken cancellationToken, long start)
    {
        // Before any user code runs (the listener below): a wait that code makes on the same member is not the set's.
        _forSet = SetMemberTimeout.ClaimSync(lockPrimitive);

        // First, before the thread's record says it waits: a listener that throws leaves the thread as it was, its
        // exception the acquisition's.
        LocksmithMetrics.RecordContention(lockPrimitive, modeTag);
        _lock = lockPrimitive;
        _mode = mode;
        _modeTag = modeTag;
        _owner = LockOwner.Current;
        _start = start != 0 ? start : Stopwatch.GetTimestamp();
        _outerWaitingFor = _owner.WaitingFor;
        _outerWaitingMode = _owner.WaitingMode;
        _outerWaitingSince = _owner.WaitingSince;
        _outerBlockedFlow = _owner.BlockedFlow;
        _owner.WaitingMode = mode;
        _owner.WaitingSince = _start;

        // A flow's code blocked here: the detector follows an edge to that flow on through this wait (mixed cycles).
        _owner.BlockedFlow = FlowOwnership.CurrentOrNull;
        _owner.WaitingFor = lockPrimitive;
        _registration = node is not null && cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(s_nudge, node) : default;
    }

    /// <summary>
    /// Starts a wait; cancelling the token nudges the node awake. The node is null for a spinning wait, which
    /// polls the token itself. <paramref name="start"/>: when the call began (a <see cref="Stopwatch"/> timestamp), so
    /// the wait's measure and its timeout message count the spin before it; 0 for now.
    /// </summary>
    public static BlockedWait Begin(LockPrimitive lockPrimitive, LockMode mode, string modeTag, WaitNode? node, CancellationToken cancellationToken, long start = 0) =>
        new(lockPrimitive, mode, modeTag, node, cancellationToken, start);

    public readonly TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);

    /// <summary>Ends the wait: unregisters it and records how long it took.</summary>
    public void End(bool acquired)
    {
        _registration.Dispose();
        // The lock first, then its start: a reader never pairs the inner lock with the outer wait's (earlier) start.
        _owner.WaitingFor = _outerWaitingFor;
        _owner.WaitingMode = _outerWaitingMode;
        _owner.WaitingSince = _outerWaitingSince;
        _owner.BlockedFlow = _outerBlockedFlow;
        LocksmithMetrics.RecordWait(_lock, _modeTag, _start);
        if (acquired && LocksmithPolicy.LongWaitOccurred is { } onLongWait)
        {
            var threshold = LocksmithPolicy.LongWaitThreshold;
            var waited = Elapsed;
            if (threshold != Timeout.InfiniteTimeSpan && waited >= threshold)
            {
                onLongWait(new LongWaitEvent(_lock.Name, _mode, waited, _owner.OwnerId));
            }
        }
    }

    /// <summary>
    /// A try-once (zero timeout) that found the lock taken, or a controlled flow whose wait the scheduler timed out
    /// (<paramref name="timeoutMs"/>, the time it stood for). For a throwing call that is a timeout like any other:
    /// it is reported and thrown, so a throwing <c>Acquire</c> never hands back a scope it did not take.
    /// </summary>
    /// <returns>False, when <paramref name="throwOnTimeout"/> is false.</returns>
    public static bool FailedWithoutWaiting(LockPrimitive lockPrimitive, LockMode mode, string modeTag, int ownerThreadId, bool throwOnTimeout, int timeoutMs = 0)
    {
        if (throwOnTimeout)
        {
            // The holder's name read once, for the event and the exception.
            string? ownerThreadName = ThreadNames.NameOf(ownerThreadId);
            ReportFailedWithoutWaiting(lockPrimitive, mode, modeTag, ownerThreadId, ownerThreadName, timeoutMs);
            ThrowHelper.ThrowTimeout(lockPrimitive, mode, ownerThreadId, ownerThreadName, TimeSpan.FromMilliseconds(timeoutMs));
        }

        return false;
    }

    /// <summary>
    /// Records a throwing try-once that found the lock taken, or a controlled wait the scheduler timed out after
    /// <paramref name="timeoutMs"/>: the timeout metric and event.
    /// </summary>
    /// <remarks>gaveUpState: what a semaphore's wait saw as it gave up (<see cref="SemaphoreGaveUp.Pack"/>; 0 for other locks).</remarks>
    public static void ReportFailedWithoutWaiting(LockPrimitive lockPrimitive, LockMode mode, string modeTag, int ownerThreadId, string? ownerThreadName, int timeoutMs = 0, int gaveUpState = 0)
    {
        LocksmithMetrics.RecordTimeout(lockPrimitive, modeTag);
        LocksmithPolicy.TimeoutOccurred?.Invoke(
            new LockTimeoutEvent(lockPrimitive.Name, mode, TimeSpan.FromMilliseconds(timeoutMs), CurrentThreadId.Value, ownerThreadId)
            {
                OwnerThreadName = ownerThreadName,
            });

        // After the handler: a wait of its own on this thread (it timing out too) must not leave its report for the set.
        ReportedTimeout.Record(lockPrimitive, ownerThreadId, ownerThreadName, gaveUpState);
    }

    /// <summary>
    /// Reports a wait that gave up at its timeout; throws if the caller asked for an exception, else returns how long the
    /// wait lasted, as the event gave it: an exception the caller throws later gives that figure, not a later clock read.
    /// </summary>
    /// <remarks>
    /// The event and the exception name the holder by ownerThreadName, read once by the caller; gaveUpState is what a
    /// semaphore's wait saw as it gave up (<see cref="SemaphoreGaveUp.Pack"/>; 0 for other locks).
    /// </remarks>
    public readonly TimeSpan TimedOut(int ownerThreadId, string? ownerThreadName, bool throwOnTimeout, int gaveUpState = 0)
    {
        // A lock set's wait on its busy member gives the set's whole wait: the set's timeout is the set's.
        var waited = _forSet ? SetMemberTimeout.SyncWaited(_lock, Elapsed) : Elapsed;
        LocksmithMetrics.RecordTimeout(_lock, _modeTag);
        LocksmithPolicy.TimeoutOccurred?.Invoke(new LockTimeoutEvent(_lock.Name, _mode, waited, _owner.OwnerId, ownerThreadId)
        {
            OwnerThreadName = ownerThreadName,
        });

        // After the handler, as above: a lock set reads this wait's report, not one a wait in the handler left.
        ReportedTimeout.Record(_lock, ownerThreadId, ownerThreadName, gaveUpState);
        if (throwOnTimeout)
        {
            ThrowHelper.ThrowTimeout(_lock, _mode, ownerThreadId, ownerThreadName, waited);
        }

        return waited;
    }
}
