using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Finds deadlocks among Locksmith locks: walks the wait-for graph (blocked thread or async flow → lock → owning
/// thread or flow) and returns every cycle, mixed ones through sync and async locks included. Runs on demand; hosting
/// runs it on a timer.
/// </summary>
/// <remarks>
/// <para>Every blocked wait registers which lock it waits for; each lock knows its exclusive owner. Waits that
/// end in a shared mode (a reader of a <c>ReadWriteLock</c>, permits of a semaphore) have no single owner and are
/// not followed, so cycles through them are not reported.</para>
/// <para>An owner in no wait of its own still waits where its code blocks: a flow holding async locks whose code blocks
/// its thread on a sync lock waits for that lock, and a thread blocked on an async acquisition it began (sync over
/// async: <c>.AsTask().Wait()</c>) waits for that lock; the edge names the owner and <see cref="DeadlockEdge.WaitsThrough"/>
/// the thread or flow whose wait it is.</para>
/// <para>The graph is read without stopping the threads, so a cycle is confirmed by reading every edge a second
/// time: a reported cycle was stable across both reads. When nothing waits the call only walks the list of
/// registered threads.</para>
/// </remarks>
public static class DeadlockDetector
{
    /// <summary>Returns every wait-for cycle present now; empty when there is none.</summary>
    public static IReadOnlyList<DeadlockCycle> FindCycles()
    {
        Dictionary<int, LockOwner>? waiting = null;
        foreach (var owner in LockOwner.Snapshot())
        {
            if (owner.WaitingFor is not null)
            {
                (waiting ??= new Dictionary<int, LockOwner>())[owner.OwnerId] = owner;
            }
        }

        // Async flows wait in their locks' queues: follow flow → lock → owning flow the same way.
        List<(LockOwner Flow, LockMode Mode)>? queued = null;
        foreach (var asyncLock in AsyncOwners.Snapshot())
        {
            (queued ??= new()).Clear();
            asyncLock.AddWaiters(queued);
            foreach (var (flow, _) in queued)
            {
                if (flow.WaitingFor is not null)
                {
                    (waiting ??= new Dictionary<int, LockOwner>())[flow.OwnerId] = flow;
                }
            }
        }

        if (waiting is null || waiting.Count < 1)
        {
            return Array.Empty<DeadlockCycle>();
        }

        var standIns = StandIns(waiting);
        var cycles = new List<DeadlockCycle>();
        var reported = new HashSet<int>();
        foreach (var start in waiting.Values)
        {
            if (reported.Contains(start.OwnerId) || FollowFrom(start, waiting, standIns) is not { } cycle)
            {
                continue;
            }

            foreach (var edge in cycle.Edges)
            {
                reported.Add(edge.ThreadId);
                if (edge.WaitsThrough is { } through)
                {
                    reported.Add(through);
                }
            }

            cycles.Add(cycle);
        }

        return cycles;
    }

    /// <summary>
    /// The waits that stand for an owner in no wait of its own, which mixed cycles go through: a flow holding async locks
    /// whose code blocks a thread in a sync wait waits where that thread does; a thread blocked (sync over async) on an
    /// async wait it began waits where that flow does. Keyed by the owner stood for; null when there are none.
    /// </summary>
    /// <remarks>
    /// The second is read off the thread's state: a thread blocked outside Locksmith while an async wait it began is
    /// queued is taken to wait for it. A thread that began the wait without awaiting it and then blocks on something else
    /// meanwhile would be taken for it too (a second read does not tell: that state holds still). A thread that more
    /// than one queued wait began on stands in for none of them: it ran on after beginning all but the last, and which
    /// one it blocks on (if any) cannot be read, so a cycle through any of them could be one it is not on (a thread
    /// blocked on all of them at once, a <c>Task.WhenAll</c>, is missed).
    /// </remarks>
    private static Dictionary<int, LockOwner>? StandIns(Dictionary<int, LockOwner> waiting)
    {
        Dictionary<int, LockOwner>? standIns = null;
        HashSet<int>? named = null;
        List<int>? ambiguous = null;
        foreach (var waiter in waiting.Values)
        {
            if (!waiter.IsFlow && waiter.BlockedFlow is { } flow && !waiting.ContainsKey(flow.OwnerId))
            {
                (standIns ??= new())[flow.OwnerId] = waiter;
            }
            else if (waiter.IsFlow && waiter.WaitBegunOn is { } begunOn && !waiting.ContainsKey(begunOn.ManagedThreadId))
            {
                // Counted whether or not the thread looks blocked now: its state may change between two flows' reads.
                int thread = begunOn.ManagedThreadId;
                if (!(named ??= new()).Add(thread))
                {
                    (ambiguous ??= new()).Add(thread);
                }
                else if (IsBlocked(begunOn))
                {
                    (standIns ??= new())[thread] = waiter;
                }
            }
        }

        if (ambiguous is not null && standIns is not null)
        {
            foreach (int thread in ambiguous)
            {
                standIns.Remove(thread);
            }
        }

        return standIns;
    }

    /// <summary>The id of the thread the flow's async wait began on, if that thread is blocked now; else null.</summary>
    private static int? BlockedOn(LockOwner flow) =>
        flow.WaitBegunOn is { } thread && IsBlocked(thread) ? thread.ManagedThreadId : null;

    private static bool IsBlocked(Thread thread) => (thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0;

    /// <summary>
    /// Returns the blocked waits under way now, from the same wait-for graph the cycles are found in: threads blocked in
    /// any lock, and flows queued on async exclusive and read-write locks and on semaphores' permits. A wait whose start
    /// was not stamped (an untimed async wait begun while no long-wait handler, timeout or wait metric wanted the clock)
    /// is stamped by the first call that sees it: it is listed with 0 then, and later calls count from that sighting,
    /// so its <see cref="LockWaitInProgress.Waited"/> is a lower bound.
    /// </summary>
    /// <returns>The waits, in no particular order; empty when nothing waits.</returns>
    /// <remarks>Read without stopping anyone: a wait may end (or a new one begin) while the list is made.</remarks>
    public static IReadOnlyList<LockWaitInProgress> CurrentWaits()
    {
        List<LockWaitInProgress>? waits = null;
        HashSet<int>? seen = null;
        long now = Stopwatch.GetTimestamp();
        foreach (var owner in LockOwner.Snapshot())
        {
            Add(owner, now, ref waits, ref seen);
        }

        List<(LockOwner Flow, LockMode Mode)>? queued = null;
        foreach (var asyncLock in AsyncOwners.Snapshot())
        {
            (queued ??= new()).Clear();
            asyncLock.AddWaiters(queued);
            foreach (var (flow, _) in queued)
            {
                Add(flow, now, ref waits, ref seen);
            }
        }

        return waits is null ? Array.Empty<LockWaitInProgress>() : waits;

        static void Add(LockOwner owner, long now, ref List<LockWaitInProgress>? waits, ref HashSet<int>? seen)
        {
            // WaitingFor is written after WaitingSince, so a wait read here comes with its own start.
            var lockPrimitive = owner.WaitingFor;
            long since = Volatile.Read(ref owner.WaitingSince);
            if (lockPrimitive is null || !(seen ??= new()).Add(owner.OwnerId))
            {
                return;
            }

            if (since == 0)
            {
                // An unclocked async wait (the clock costs as much as a hand-off, so nobody reads it unasked): stamped at
                // its first sighting, so a stuck waiter shows, and grows, in later reads. Should the wait end and the
                // flow's next unclocked one begin before the swap, that one is stamped a moment early; any clocked wait
                // writes its own start over this.
                long prior = Interlocked.CompareExchange(ref owner.WaitingSince, now, 0);
                since = prior == 0 ? now : prior;
            }

            // A stripe waits as its striped lock, as metrics and statistics count it.
            var named = lockPrimitive.StripedParent ?? lockPrimitive;
            var waited = Stopwatch.GetElapsedTime(since, now);
            int holderId = lockPrimitive.WaitEdgeFor(owner).OwnerId;
            (waits ??= new()).Add(new LockWaitInProgress(
                owner.OwnerId, owner.Name, named.WaitNameFor(owner), named.Level, named.Kind, owner.WaitingMode, waited < TimeSpan.Zero ? TimeSpan.Zero : waited)
            {
                HolderId = holderId,
                LockId = named.Id,
                Holder = DescribeHolder(holderId),
                FlowThread = owner.IsFlow ? BegunOn(owner) : null,
            });
        }
    }

    // A thread holder is named as its owner record names it now (its name is gone once it ends); a flow by its id.
    private static string? DescribeHolder(int holderId) =>
        holderId == 0 ? null
        : holderId >= LockOwner.FlowIdBase ? LockOwner.DescribeFlow(holderId, null)
        : LockOwner.Find(holderId)?.Describe() ?? "thread " + holderId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Follows waits from <paramref name="start"/>; returns the cycle that <paramref name="start"/> is on, if any.</summary>
    /// <remarks>
    /// An owner in no wait of its own goes on through the wait that stands for it (<see cref="StandIns"/>): the edge names
    /// that owner as the waiter and the stand-in as <see cref="DeadlockEdge.WaitsThrough"/>.
    /// </remarks>
    private static DeadlockCycle? FollowFrom(LockOwner start, Dictionary<int, LockOwner> waiting, Dictionary<int, LockOwner>? standIns)
    {
        var path = new List<DeadlockEdge>();
        var acting = new List<LockOwner>();
        var current = start;
        int waiterId = start.OwnerId;
        while (path.Count <= waiting.Count)
        {
            var lockPrimitive = current.WaitingFor;
            if (lockPrimitive is null)
            {
                return null;
            }

            var (lockName, ownerId) = lockPrimitive.WaitEdgeFor(current);
            if (ownerId == 0 || ownerId == current.OwnerId || ownerId == waiterId)
            {
                return null;
            }

            bool through = waiterId != current.OwnerId;
            path.Add(new DeadlockEdge(waiterId, through ? NameOf(waiterId, current) : current.Name, lockName, lockPrimitive.Level,
                lockPrimitive.Kind, current.WaitingMode, ownerId)
            {
                WaitsThrough = through ? current.OwnerId : null,
                WaitsThroughName = through ? current.Name : null,
                FlowThread = FlowThreadOf(waiterId, current),
            });
            acting.Add(current);

            if (ownerId == start.OwnerId)
            {
                return Confirm(path, acting) ? Canonical(path) : null;
            }

            if (waiting.TryGetValue(ownerId, out var next))
            {
                current = next;
            }
            else if (standIns is not null && standIns.TryGetValue(ownerId, out var standIn))
            {
                if (ReferenceEquals(standIn, start))
                {
                    // Back at the start, which waits for the owner it stands for: the first edge names that owner.
                    path[0] = path[0] with
                    {
                        ThreadId = ownerId, ThreadName = NameOf(ownerId, start), WaitsThrough = start.OwnerId, WaitsThroughName = start.Name,
                        FlowThread = FlowThreadOf(ownerId, start),
                    };
                    return Confirm(path, acting) ? Canonical(path) : null;
                }

                current = standIn;
            }
            else
            {
                return null;
            }

            waiterId = ownerId;
        }

        return null;
    }

    /// <summary>The name of an owner that waits through <paramref name="standIn"/>'s wait: the flow the thread runs, or the thread the flow began on.</summary>
    private static string? NameOf(int ownerId, LockOwner standIn) =>
        standIn.IsFlow ? standIn.WaitBegunOn?.Name : standIn.BlockedFlow?.Name;

    /// <summary>
    /// For a flow's edge, the thread its wait runs on, as messages name it (<c>7 ('worker')</c>): the thread its own async
    /// wait began on, or the thread whose sync wait it waits through; null for a thread's edge, or a flow whose async wait
    /// recorded no thread.
    /// </summary>
    private static string? FlowThreadOf(int waiterId, LockOwner acting) =>
        waiterId < LockOwner.FlowIdBase ? null
        : !acting.IsFlow ? ThreadNames.Format(acting.OwnerId, acting.Name)
        : BegunOn(acting);

    /// <summary>
    /// The thread a flow's async wait began on (<c>7 ('worker')</c>), which the in-process async waits and the distributed
    /// locks' waits record.
    /// </summary>
    private static string? BegunOn(LockOwner flow) =>
        flow.WaitBegunOn is { } thread ? ThreadNames.Format(thread.ManagedThreadId, thread.Name) : null;

    /// <summary>
    /// Re-reads every edge: the waiters still wait for the same locks, held by the same owners, and every wait that stood
    /// for another owner still does.
    /// </summary>
    private static bool Confirm(List<DeadlockEdge> path, List<LockOwner> acting)
    {
        for (int i = 0; i < path.Count; i++)
        {
            var edge = path[i];
            var owner = acting[i];
            var lockPrimitive = owner.WaitingFor;
            if (lockPrimitive is null || lockPrimitive.WaitEdgeFor(owner) != (edge.LockName, edge.OwnerThreadId))
            {
                return false;
            }

            if (edge.WaitsThrough is not null &&
                (owner.IsFlow ? BlockedOn(owner) != edge.ThreadId : owner.BlockedFlow?.OwnerId != edge.ThreadId))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Rotates the cycle to start at its lowest thread id, so one deadlock reads the same every time.</summary>
    private static DeadlockCycle Canonical(List<DeadlockEdge> path)
    {
        int first = 0;
        for (int i = 1; i < path.Count; i++)
        {
            if (path[i].ThreadId < path[first].ThreadId)
            {
                first = i;
            }
        }

        var edges = new DeadlockEdge[path.Count];
        for (int i = 0; i < path.Count; i++)
        {
            edges[i] = path[(first + i) % path.Count];
        }

        return new DeadlockCycle(edges);
    }
}
