using System.Collections.Generic;
using System.Threading;

namespace Locksmith;

/// <summary>
/// One waiting acquisition as its lock keeps it (a queued async waiter's node, a distributed lock's wait entry), for the
/// deadlock detector: tasks of one flow share its owner record and may wait at once, each for its own lock, so the
/// flow's one wait slot (<see cref="LockOwner.WaitingFor"/>) cannot show them all.
/// </summary>
/// <param name="Waiter">The waiting flow.</param>
/// <param name="Lock">The lock waited for.</param>
/// <param name="Name">What the wait is for, as a cycle's edge names it (a stripe's name; a keyed lock's key).</param>
/// <param name="HolderId">The owner holding that exclusively now (0: none, or held shared), read with the wait.</param>
/// <param name="Mode">The mode waited for.</param>
/// <param name="Since">When the wait began (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0 when it was not clocked.</param>
/// <param name="BegunOn">The thread the wait began on, when the record keeps it; else the flow's latest (<see cref="LockOwner.WaitBegunOn"/>) stands for it.</param>
/// <param name="Record">The lock's own record of the wait; with <paramref name="Version"/>, names this wait and no later one.</param>
/// <param name="Version">Which use of a pooled <paramref name="Record"/> this wait is (0 for records never reused).</param>
internal readonly record struct AcquisitionWait(
    LockOwner Waiter, LockPrimitive Lock, string Name, int HolderId, LockMode Mode, long Since, Thread? BegunOn, object Record, int Version);

/// <summary>A lock that keeps a record per waiting acquisition, which the deadlock detector reads instead of its waiters' slots.</summary>
internal interface IAcquisitionWaits
{
    /// <summary>Adds one entry per acquisition waiting for the lock now (a snapshot).</summary>
    void AddWaits(List<AcquisitionWait> waits);
}

/// <summary>How the in-process async locks list their queued waiters' nodes as <see cref="AcquisitionWait"/>s.</summary>
internal static class AcquisitionWaits
{
    /// <summary>Adds the async waits of <paramref name="queue"/>, under its gate (if a wait ever created it).</summary>
    public static void AddQueued(LockPrimitive lockPrimitive, ref WaitQueue queue, List<AcquisitionWait> waits)
    {
        // An empty queue has no waits to read: its gate is left to the lock (a wait queued after this read is the next
        // scan's, as one queued after the gate's is).
        if (queue.Count == 0 || queue.GateOrNull is not { } gate)
        {
            return;
        }

        using (GateEntry.Enter(gate))
        {
            AddQueued(lockPrimitive, queue.Head, waits);
        }
    }

    /// <summary>Adds the async waits queued from <paramref name="head"/> on; under the queue's gate, so each node is its wait's.</summary>
    public static void AddQueued(LockPrimitive lockPrimitive, WaitNode? head, List<AcquisitionWait> waits)
    {
        for (var node = head; node is not null; node = node.Next)
        {
            if (node is AsyncWaitNode { Owner: { } flow } queued)
            {
                // The holder is read lock-free (a snapshot), so reading it here adds no gate to the queue's.
                var (name, holderId) = lockPrimitive.WaitEdgeFor(flow);
                waits.Add(new AcquisitionWait(flow, lockPrimitive, name, holderId, queued.Mode, queued.Start, queued.BegunOn, queued, queued.Phase));
            }
        }
    }
}
