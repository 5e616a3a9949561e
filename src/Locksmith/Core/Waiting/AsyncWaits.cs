using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// The end of every async wait, in the awaiting flow's frame: the wait metrics and events, the flow's held locks,
/// and the scope, timeout or cancellation the flow receives.
/// </summary>
internal static class AsyncWaits
{
    /// <summary>Turns a finished wait into its result; runs in the awaiting frame (the node's <c>GetResult</c>).</summary>
    public static AsyncLockScope Complete(
        IAsyncWaitHost host, IAsyncScopeReleaser releaser, LockOwner owner, AsyncWaitOutcome outcome, int token, int tag,
        int gaveUpState, LockMode mode, string modeTag, long start, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        var lockPrimitive = host.Lock;
        if (ReferenceEquals(owner.WaitingFor, lockPrimitive))
        {
            owner.WaitingFor = null;
        }

        // No start: an untimed wait nobody observed when it began (see AsyncWaitNode.NeedsClock); it is not measured.
        // A listener that throws makes its exception the acquisition's, once the wait's outcome is settled: a granted
        // hold is given back, a failed wait's reservation too.
        var waited = TimeSpan.Zero;
        ExceptionDispatchInfo? listenerError = null;
        if (start != 0)
        {
            try
            {
                LocksmithMetrics.RecordWait(lockPrimitive, modeTag, start);
            }
            catch (Exception error)
            {
                listenerError = ExceptionDispatchInfo.Capture(error);
            }

            waited = Stopwatch.GetElapsedTime(start);
        }

        if (listenerError is not null && outcome != AsyncWaitOutcome.Granted)
        {
            FlowOwnership.NotHeld(owner);
            listenerError.Throw();
        }

        switch (outcome)
        {
            case AsyncWaitOutcome.Granted:
                if (lockPrimitive.IsOrdered)
                {
                    FlowOrder.Push(owner, lockPrimitive);
                }

                var scope = releaser.ScopeFor(owner, token, tag);
                if (listenerError is not null)
                {
                    GiveBackGranted(scope);
                    listenerError.Throw();
                }

                // Recorded here, not by the grant under the queue's gate, so a listener's code never runs there.
                if (mode is LockMode.Exclusive or LockMode.Write)
                {
                    LocksmithMetrics.RecordOwnedAcquisition(lockPrimitive, modeTag, scope);
                }
                else
                {
                    LocksmithMetrics.RecordAcquisition(lockPrimitive, modeTag, scope);
                }

                if (start != 0 && LocksmithPolicy.LongWaitOccurred is { } onLongWait)
                {
                    var threshold = LocksmithPolicy.LongWaitThreshold;
                    if (threshold != Timeout.InfiniteTimeSpan && waited >= threshold)
                    {
                        try
                        {
                            onLongWait(new LongWaitEvent(lockPrimitive.Name, mode, waited, owner.OwnerId));
                        }
                        catch
                        {
                            // The handler's exception is the acquisition's; the hold it granted is given back, not lost.
                            GiveBackGranted(scope);
                            throw;
                        }
                    }
                }

                return scope;

            case AsyncWaitOutcome.Canceled:
                // Described while the reservation still counts: a flow holding nothing else keeps its activity's name.
                string waiter = ThrowHelper.FlowOnThread(owner);
                FlowOwnership.NotHeld(owner);
                // A failed wait's tag is what it asked for: a semaphore's permit count.
                throw ThrowHelper.WaitCanceled(waiter, ThrowHelper.WaitedFor(lockPrimitive, mode, tag), cancellationToken);

            case AsyncWaitOutcome.Refused:
                // Only a read lock refuses a queued waiter: a task of the same flow read it first. Described while the
                // reservation still counts, as above.
                try
                {
                    ThrowHelper.ThrowAsyncReadRecursion(lockPrimitive, owner);
                }
                finally
                {
                    FlowOwnership.NotHeld(owner);
                }

                return default;

            case AsyncWaitOutcome.Abandoned:
                string blocking = ThrowHelper.FlowStartingASentence(owner);
                FlowOwnership.NotHeld(owner);
                // Named as its cancellation would be: a semaphore's wait by its permits (the tag of a failed wait).
                throw ThrowHelper.BlockedOnPendingAcquisition(blocking, ThrowHelper.WaitedFor(lockPrimitive, mode, tag));

            default:
                // One read of the holder for the event and the exception (this wait's, or its lock set's): they name the same one.
                bool forSet = !throwOnTimeout && SetMemberTimeout.IsArmedFor(owner, lockPrimitive);
                var holder = throwOnTimeout || forSet || LocksmithPolicy.TimeoutOccurred is not null ? HolderAsReported(lockPrimitive) : default;
                if (forSet)
                {
                    // The set's timeout is the set's: its event gives the set's whole wait, as its exception will.
                    waited = SetMemberTimeout.Record(owner, holder, gaveUpState, waited);
                }

                ReportTimeoutOrGiveBack(host, owner, mode, modeTag, waited, holder);
                GiveBackAfterTimeout(host, owner, mode, waited, throwOnTimeout, tag, gaveUpState, holder);
                return default;
        }
    }

    /// <summary>
    /// A wait a controlled run's check queued for good, withdrawn by the run (<see cref="AsyncWaitNode.WithdrawForGood"/>):
    /// measured and given back as a cancelled wait is, and failed with the run's reason <paramref name="because"/>.
    /// </summary>
    public static AsyncLockScope WithdrawnForGood(IAsyncWaitHost host, LockOwner owner, long start, string modeTag, string because)
    {
        var lockPrimitive = host.Lock;
        if (ReferenceEquals(owner.WaitingFor, lockPrimitive))
        {
            owner.WaitingFor = null;
        }

        try
        {
            if (start != 0)
            {
                LocksmithMetrics.RecordWait(lockPrimitive, modeTag, start);
            }
        }
        finally
        {
            FlowOwnership.NotHeld(owner);
        }

        throw new InvalidOperationException(because);
    }

    /// <summary>
    /// Counts a flow's contention before it queues: a listener's exception is the acquisition's, and the flow's
    /// reservation is given back first, so its claim still ends.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RecordContention(LockPrimitive lockPrimitive, string modeTag, LockOwner flow)
    {
        // The test inline: the handler below keeps its method out of line.
        if (LocksmithMetrics.IsContentionRecorded(lockPrimitive))
        {
            RecordContentionOrGiveBack(lockPrimitive, modeTag, flow);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RecordContentionOrGiveBack(LockPrimitive lockPrimitive, string modeTag, LockOwner flow)
    {
        try
        {
            LocksmithMetrics.RecordContention(lockPrimitive, modeTag);
        }
        catch
        {
            FlowOwnership.NotHeld(flow);
            throw;
        }
    }

    /// <summary>
    /// Releases a hold granted to an acquisition that fails after all. A semaphore that others released past its maximum
    /// meanwhile is full already: its give-back may refuse the permits (SemaphoreFullException), which must not hide the
    /// exception that failed the acquisition.
    /// </summary>
    internal static void GiveBackGranted(AsyncLockScope scope)
    {
        try
        {
            scope.Dispose();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>
    /// Gives back a timed-out wait's reservation; for a throwing call, once the exception is built, so a flow that holds
    /// nothing else is still described with its activity's name.
    /// </summary>
    private static void GiveBackAfterTimeout(IAsyncWaitHost host, LockOwner owner, LockMode mode, TimeSpan waited, bool throwOnTimeout, int scopeTag, int gaveUpState, ReportedHolder holder)
    {
        if (!throwOnTimeout)
        {
            FlowOwnership.NotHeld(owner);
            return;
        }

        try
        {
            host.ThrowTimeout(owner, mode, waited, scopeTag, gaveUpState, holder);
        }
        finally
        {
            FlowOwnership.NotHeld(owner);
        }
    }

    /// <summary>
    /// A try-once (zero timeout) that found the lock taken, or a controlled wait the scheduler timed out
    /// (<paramref name="timeoutMs"/>, the time it stood for): the flow holds nothing more; an empty scope, or for a
    /// throwing call a reported and thrown timeout, like any other.
    /// </summary>
    public static ValueTask<AsyncLockScope> FailedWithoutWaiting(IAsyncWaitHost host, LockOwner flow, LockMode mode, string modeTag, bool throwOnTimeout, int timeoutMs = 0)
    {
        if (!throwOnTimeout)
        {
            FlowOwnership.NotHeld(flow);
        }
        else
        {
            var waited = TimeSpan.FromMilliseconds(timeoutMs);
            var holder = HolderAsReported(host.Lock);
            ReportTimeoutOrGiveBack(host, flow, mode, modeTag, waited, holder);
            try
            {
                GiveBackAfterTimeout(host, flow, mode, waited, throwOnTimeout: true, scopeTag: 0, gaveUpState: 0, holder);
            }
            catch (LockTimeoutException timeout)
            {
                // The wait's outcome, as a queued wait's timeout is: the task's fault, not a throw from the call.
                return ValueTask.FromException<AsyncLockScope>(timeout);
            }
        }

        return default;
    }

    /// <summary>
    /// A controlled flow's wait (it waits for its turn, not on the queue) that gave up: cancelled by its token
    /// (<see cref="ControlledWaitCanceled"/>), else timed out by the scheduler (<see cref="FailedWithoutWaiting"/>).
    /// </summary>
    public static ValueTask<AsyncLockScope> ControlledWaitEnded(
        IAsyncWaitHost host, LockOwner flow, LockMode mode, string modeTag, bool throwOnTimeout, int timeoutMs, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? ControlledWaitCanceled(host.Lock, flow, mode, 0, cancellationToken)
            : FailedWithoutWaiting(host, flow, mode, modeTag, throwOnTimeout, timeoutMs);

    /// <summary>
    /// A controlled flow's wait (it waits for its turn, not on the queue) ended by its cancelled token: the flow holds
    /// nothing more, and the task is cancelled with the message of a queued wait's cancellation (a semaphore's with its
    /// <c>permits</c>, as <see cref="ThrowHelper.WaitedFor"/> counts them; 0 for other locks).
    /// </summary>
    public static ValueTask<AsyncLockScope> ControlledWaitCanceled(LockPrimitive lockPrimitive, LockOwner flow, LockMode mode, int permits, CancellationToken cancellationToken)
    {
        // Described while the reservation still counts, as for a queued wait.
        string waiter = ThrowHelper.FlowOnThread(flow);
        FlowOwnership.NotHeld(flow);
        return ThrowHelper.CanceledWith<AsyncLockScope>(ThrowHelper.WaitCanceled(waiter, ThrowHelper.WaitedFor(lockPrimitive, mode, permits), cancellationToken));
    }

    /// <summary>
    /// <see cref="ReportTimeout"/> for a flow still holding its reservation: if the event's handler throws, the
    /// reservation is given back before its exception goes on, so the flow's claim still ends.
    /// </summary>
    private static void ReportTimeoutOrGiveBack(IAsyncWaitHost host, LockOwner owner, LockMode mode, string modeTag, TimeSpan waited, ReportedHolder holder)
    {
        try
        {
            ReportTimeout(host, owner, mode, modeTag, waited, holder);
        }
        catch
        {
            FlowOwnership.NotHeld(owner);
            throw;
        }
    }

    /// <summary>
    /// The holder a timeout names, read once for its event and its exception: a holding flow by its description (its id
    /// and activity, as messages name it), a thread by its name; none (0) for a semaphore or a lock held shared.
    /// </summary>
    public static ReportedHolder HolderAsReported(LockPrimitive lockPrimitive)
    {
        if (lockPrimitive is IAsyncOwnedLock { ExclusiveHolder: { } holder })
        {
            return new ReportedHolder(holder.OwnerId, holder.Describe());
        }

        int id = lockPrimitive.ExclusiveOwnerId;
        return id == 0 || id >= LockOwner.FlowIdBase ? default : new ReportedHolder(id, ThreadNames.NameOf(id));
    }

    /// <summary>Records a timed-out (or failed try-once) async wait: the timeout metric and event, naming <paramref name="holder"/>.</summary>
    public static void ReportTimeout(IAsyncWaitHost host, LockOwner owner, LockMode mode, string modeTag, TimeSpan waited, ReportedHolder holder)
    {
        var lockPrimitive = host.Lock;
        LocksmithMetrics.RecordTimeout(lockPrimitive, modeTag);
        LocksmithPolicy.TimeoutOccurred?.Invoke(new LockTimeoutEvent(lockPrimitive.Name, mode, waited, owner.OwnerId, holder.Id)
        {
            OwnerThreadName = holder.Name,
        });
    }
}

/// <summary>
/// The holder an async timeout names, as its event gave it: the owner id (0: none, or held shared) and its name (a flow's
/// description, a thread's name).
/// </summary>
internal readonly record struct ReportedHolder(int Id, string? Name);
