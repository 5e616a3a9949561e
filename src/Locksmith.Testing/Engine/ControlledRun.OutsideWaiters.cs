using System.Collections.Generic;
using System.Globalization;
using System.Threading;

namespace Locksmith.Testing.Engine;

/// <summary>
/// Threads outside the run parked on its locks. A flow blocked behind such a thread's hold waits for its release in real
/// time; once that thread parks, with no timeout nor token, on a lock a flow holds that no real-time event will release,
/// the release never comes: the run is deadlocked now, and the parking (which wakes the scheduler) lets it say so at once
/// instead of after its idle period. So does an outside acquisition of permits that parks: it holds none.
/// </summary>
internal sealed partial class ControlledRun
{
    // By owner id (the thread's): the lock each outside thread last parked on, whether that wait may end in real time,
    // when it began, and its node. Under the gate. An entry counts only while the thread's record is still in that very
    // wait (a later wait for the same lock, timed, say, that has not parked yet is another) and its node has not been
    // woken or handed the lock (a woken thread runs on in real time, though its record still reads as waiting).
    private readonly Dictionary<int, (LockPrimitive Resource, bool CanEnd, long Since, WaitNode Node)> _outsideParked = [];

    void ISchedulingController.OutsideWaiterParks(LockPrimitive resource, bool canEnd, WaitNode node)
    {
        if (CurrentFlow() is not null)
        {
            return;
        }

        long since = Volatile.Read(ref LockOwner.Current.WaitingSince);
        lock (_gate)
        {
            _outsideParked[CurrentThreadId.Value] = (resource, canEnd, since, node);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Whether <paramref name="flow"/> is blocked on something code outside the run may give back in real time: a lock or
    /// read it holds, permits it holds or is acquiring. A holder parked for good behind the flows does not count.
    /// </summary>
    private bool WaitsForOutsideLocked(FlowState flow, HashSet<FlowState>? visiting = null)
    {
        if (flow.Status != FlowStatus.Blocked)
        {
            return false;
        }

        if (HasOutsideReader(flow) || HasOutsidePermits(flow))
        {
            return true;
        }

        int holderId = OutsideHolderId(flow);
        if (holderId == 0)
        {
            // Freed by the outside holder it blocked behind, whose signal is on its way (a release frees, then signals).
            return flow.OutsideHeldAtEnlist && flow.WaitingOn is LockPrimitive { ExclusiveOwnerId: 0 };
        }

        visiting ??= new HashSet<FlowState>(ReferenceEqualityComparer.Instance) { flow };
        return !ParkedForGoodLocked(holderId, visiting);
    }

    /// <summary>
    /// Whether the outside thread <paramref name="ownerId"/> is parked, with no timeout nor token, on a lock held by a flow
    /// that cannot release it: one that finished, or one blocked on nothing that ends in real time (a wait that comes back
    /// round to <paramref name="visiting"/>, a cycle through this thread, included). Every flow is blocked or done here.
    /// </summary>
    private bool ParkedForGoodLocked(int ownerId, HashSet<FlowState> visiting)
    {
        if (ParkedOnLocked(ownerId) is not { } parkedOn)
        {
            return false;
        }

        // A semaphore's permits may come back from any thread: for good only while no code outside the run has any, and
        // every flow holding some cannot run.
        if (parkedOn is CountingSemaphore semaphore)
        {
            var holders = PermitHoldersLocked(semaphore);
            return holders.Count != 0 && OutsidePermitsKept(semaphore) == 0 && holders.TrueForAll(h => CannotReleaseLocked(h, visiting));
        }

        return HolderOf(parkedOn) is { } holder && CannotReleaseLocked(holder, visiting);
    }

    /// <summary>Whether the flow <paramref name="holder"/> cannot release what it holds: it finished, or is blocked on nothing that ends in real time.</summary>
    private bool CannotReleaseLocked(FlowState holder, HashSet<FlowState> visiting) =>
        holder.Status == FlowStatus.Done ||
        (holder.Status == FlowStatus.Blocked && (!visiting.Add(holder) || !WaitsForOutsideLocked(holder, visiting)));

    /// <summary>The lock of this run the outside thread <paramref name="ownerId"/> is parked on with no timeout nor token, if any.</summary>
    private LockPrimitive? ParkedOnLocked(int ownerId)
    {
        if (!_outsideParked.TryGetValue(ownerId, out var parked) || parked.CanEnd || LockOwner.Find(ownerId) is not { } record)
        {
            return null;
        }

        // The node first: a release wakes it (or hands it the lock) before the woken thread ends its wait, so a node still
        // waiting, read before the record, was not woken by any release this verdict follows. Then the lock, then its
        // start (a wait writes them the other way round): a wait begun since reads as another. The node is reused by the
        // thread's next wait, which parks again (and is told again) or is another wait by its start.
        return parked.Node.Status == WaitStatus.Waiting &&
            ReferenceEquals(record.WaitingFor, parked.Resource) && Volatile.Read(ref record.WaitingSince) == parked.Since
            ? parked.Resource
            : null;
    }

    /// <summary>
    /// A deadlock through a thread outside the run: the lock <paramref name="waiter"/> waits for is held by that thread,
    /// itself parked on a lock a flow holds. Null when the holder is no such thread.
    /// </summary>
    private string? ExplainParkedOutsideHolderLocked(FlowState waiter)
    {
        int holderId = OutsideHolderId(waiter);
        if (holderId == 0 || ParkedOnLocked(holderId) is not { } parkedOn || HolderOf(parkedOn) is not { } holder)
        {
            return null;
        }

        string? name = LockOwner.Find(holderId)?.Name;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"'{waiter.WaitingName}' is held by a thread that is not a flow of this run{(name is null ? string.Empty : $" ('{name}')")}, which waits for '{NameOf(parkedOn, parkedOn.Name)}', held by {holder.Name}{(holder.Status == FlowStatus.Done ? " (finished without releasing it)" : string.Empty)}: neither can go on. Code on such a thread (a Task.Run body, a thread a flow starts) runs uncontrolled, and its lock operations are no scheduling points: take the lock in a flow instead (scenario.Thread or scenario.Flow)");
    }
}
