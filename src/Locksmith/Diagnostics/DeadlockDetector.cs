using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
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
/// <para>Tasks of one flow share its owner record and may wait at once, each for its own lock (<c>Task.WhenAll</c>), so
/// a flow's waits are read from the locks' records of each waiting acquisition (a queued async waiter's node, a
/// distributed lock's wait entry), not from the flow's one wait slot: each is an edge, and the search follows every edge
/// of an owner, depth first, entering each owner once per search. A flow's holds are the flow's, not a task's: a cycle
/// through a sibling's wait is reported also when the task holding the lock does not wait for that sibling and will
/// release it, which nothing Locksmith records tells from a <c>Task.WhenAll</c> inside the hold.</para>
/// <para>The graph is read without stopping the threads, so a cycle is confirmed by reading every edge a second
/// time (the same acquisition, read again from its lock's records): a reported cycle was stable across both reads.
/// When nothing waits the call only walks the registered threads and async locks.</para>
/// </remarks>
public static class DeadlockDetector
{
    // First sightings of unclocked waits kept by their record (a pooled node: per use), so each is counted from its own.
    private static readonly ConditionalWeakTable<object, Sighting> s_sightings = new();

    /// <summary>Returns every wait-for cycle present now; empty when there is none.</summary>
    public static IReadOnlyList<DeadlockCycle> FindCycles()
    {
        if (ReadWaits() is not { } waiting)
        {
            return Array.Empty<DeadlockCycle>();
        }

        var standIns = StandIns(waiting);
        var cycles = new List<DeadlockCycle>();
        var reported = new HashSet<int>();
        var search = new SearchState();
        foreach (int start in Starts(waiting, standIns))
        {
            if (reported.Contains(start) || search.Dead.Contains(start) || Search(start, waiting, standIns, search) is not { } cycle)
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

    // Every owner with a wait of its own, then every owner waiting only through another's: a cycle closes on any of them.
    private static IEnumerable<int> Starts(Dictionary<int, List<Wait>> waiting, Dictionary<int, Wait>? standIns)
    {
        foreach (int owner in waiting.Keys)
        {
            yield return owner;
        }

        if (standIns is not null)
        {
            foreach (int owner in standIns.Keys)
            {
                yield return owner;
            }
        }
    }

    /// <summary>
    /// One wait of an owner: a lock's record of one waiting acquisition (<see cref="Source"/> lists it again), or, for what
    /// keeps none (a thread's sync wait, a flow's wait no lock records), the owner's wait slot.
    /// </summary>
    private readonly record struct Wait(AcquisitionWait Acquisition, IAcquisitionWaits? Source)
    {
        public LockOwner Owner => Acquisition.Waiter;

        public bool IsSlot => Source is null;
    }

    /// <summary>
    /// Every wait under way now, by the owner waiting: the threads' slots; each acquisition the async and distributed locks
    /// keep a record of (tasks of one flow may wait at once, each for its own lock); and, for a flow found queued, its slot
    /// where no record names the lock it shows. Null when nothing waits.
    /// </summary>
    private static Dictionary<int, List<Wait>>? ReadWaits()
    {
        Dictionary<int, List<Wait>>? waiting = null;
        foreach (var owner in LockOwner.Snapshot())
        {
            if (SlotWait(owner) is { } wait)
            {
                Add(ref waiting, wait);
            }
        }

        List<AcquisitionWait>? records = null;
        List<(LockOwner Flow, LockMode Mode)>? queued = null;
        List<LockOwner>? flows = null;
        foreach (var asyncLock in AsyncOwners.Snapshot())
        {
            if (asyncLock is IAcquisitionWaits source)
            {
                (records ??= new()).Clear();
                source.AddWaits(records);
                foreach (var record in records)
                {
                    Add(ref waiting, new Wait(record, source));
                    (flows ??= new()).Add(record.Waiter);
                }
            }
            else
            {
                (queued ??= new()).Clear();
                asyncLock.AddWaiters(queued);
                foreach (var (flow, _) in queued)
                {
                    (flows ??= new()).Add(flow);
                }
            }
        }

        if (flows is not null)
        {
            foreach (var flow in flows)
            {
                // A lock that records its waits was read: a wait of it not listed has ended (the slot is cleared only
                // when the flow reads the result) or began after the read (the next scan sees it), so only a lock that
                // keeps no records is read from the slot (tested before the slot's edge is read, which may take a gate).
                if (flow.WaitingFor is not (null or IAcquisitionWaits) && SlotWait(flow) is { } slot &&
                    slot.Acquisition.Lock is not IAcquisitionWaits && !Names(waiting, flow.OwnerId, slot.Acquisition.Lock))
                {
                    Add(ref waiting, slot);
                }
            }
        }

        return waiting;

        static void Add(ref Dictionary<int, List<Wait>>? waiting, Wait wait)
        {
            waiting ??= new();
            if (!waiting.TryGetValue(wait.Owner.OwnerId, out var waits))
            {
                waiting[wait.Owner.OwnerId] = waits = new List<Wait>(1);
            }

            waits.Add(wait);
        }

        static bool Names(Dictionary<int, List<Wait>>? waiting, int ownerId, LockPrimitive lockPrimitive)
        {
            if (waiting is not null && waiting.TryGetValue(ownerId, out var waits))
            {
                foreach (var wait in waits)
                {
                    if (ReferenceEquals(wait.Acquisition.Lock, lockPrimitive))
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }

    /// <summary>The wait <paramref name="owner"/>'s slot shows, or null when it shows none.</summary>
    private static Wait? SlotWait(LockOwner owner)
    {
        // WaitingFor is written after WaitingSince and WaitingMode, so a wait read here comes with its own start and mode.
        if (owner.WaitingFor is not { } lockPrimitive)
        {
            return null;
        }

        long since = Volatile.Read(ref owner.WaitingSince);
        var (name, holderId) = lockPrimitive.WaitEdgeFor(owner);
        return new Wait(new AcquisitionWait(owner, lockPrimitive, name, holderId, owner.WaitingMode, since, null, owner, 0), null);
    }

    /// <summary>
    /// The waits that stand for an owner in no wait of its own, which mixed cycles go through: a flow holding async locks
    /// whose code blocks a thread in a sync wait waits where that thread does; a thread blocked (sync over async) on an
    /// async wait it began waits where that flow's wait does. Keyed by the owner stood for; null when there are none.
    /// </summary>
    /// <remarks>
    /// The second is read off the thread's state: a thread blocked outside Locksmith while an async wait it began is
    /// queued is taken to wait for it. A thread that began the wait without awaiting it and then blocks on something else
    /// meanwhile would be taken for it too (a second read does not tell: that state holds still). A thread that more
    /// than one queued wait began on (of one flow or of several) stands in for none of them: it ran on after beginning all
    /// but the last, and which one it blocks on (if any) cannot be read, so a cycle through any of them could be one it is
    /// not on (a thread blocked on all of them at once, a <c>Task.WhenAll</c>, is missed). Each queued wait keeps the thread
    /// it began on (tasks of one flow may begin theirs on different threads).
    /// </remarks>
    private static Dictionary<int, Wait>? StandIns(Dictionary<int, List<Wait>> waiting)
    {
        Dictionary<int, Wait>? standIns = null;
        HashSet<int>? named = null;
        List<int>? ambiguous = null;
        foreach (var waits in waiting.Values)
        {
            foreach (var wait in waits)
            {
                var waiter = wait.Owner;
                if (!waiter.IsFlow && waiter.BlockedFlow is { } flow && !waiting.ContainsKey(flow.OwnerId))
                {
                    (standIns ??= new())[flow.OwnerId] = wait;
                }
                else if (waiter.IsFlow && BegunOn(wait) is { } begunOn && !waiting.ContainsKey(begunOn.ManagedThreadId))
                {
                    // Counted whether or not the thread looks blocked now: its state may change between two waits' reads.
                    int thread = begunOn.ManagedThreadId;
                    if (!(named ??= new()).Add(thread))
                    {
                        (ambiguous ??= new()).Add(thread);
                    }
                    else if (IsBlocked(begunOn))
                    {
                        (standIns ??= new())[thread] = wait;
                    }
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

    /// <summary>The thread a flow's wait began on: its record's, else the flow's latest async wait's.</summary>
    private static Thread? BegunOn(in Wait wait) => wait.Acquisition.BegunOn ?? wait.Owner.WaitBegunOn;

    /// <summary>The id of the thread the flow's async wait began on, if that thread is blocked now; else null.</summary>
    private static int? BlockedOn(in Wait wait) =>
        BegunOn(wait) is { } thread && IsBlocked(thread) ? thread.ManagedThreadId : null;

    private static bool IsBlocked(Thread thread) => (thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0;

    /// <summary>
    /// Returns the blocked waits under way now, from the same wait-for graph the cycles are found in: threads blocked in
    /// any lock, and each acquisition queued on async exclusive and read-write locks and on semaphores' permits, or waiting
    /// for a distributed lock (tasks of one flow waiting at once are listed once each). A wait whose start was not stamped
    /// (an untimed async wait begun while no long-wait handler, timeout or wait metric wanted the clock) is stamped by the
    /// first call that sees it: it is listed with 0 then, and later calls count from that sighting, so its
    /// <see cref="LockWaitInProgress.Waited"/> is a lower bound.
    /// </summary>
    /// <returns>The waits, in no particular order; empty when nothing waits.</returns>
    /// <remarks>Read without stopping anyone: a wait may end (or a new one begin) while the list is made.</remarks>
    public static IReadOnlyList<LockWaitInProgress> CurrentWaits()
    {
        long now = Stopwatch.GetTimestamp();
        if (ReadWaits() is not { } waiting)
        {
            return Array.Empty<LockWaitInProgress>();
        }

        var listed = new List<LockWaitInProgress>();
        foreach (var waits in waiting.Values)
        {
            foreach (var wait in waits)
            {
                listed.Add(Describe(wait, now));
            }
        }

        return listed;
    }

    private static LockWaitInProgress Describe(in Wait wait, long now)
    {
        var owner = wait.Owner;
        var acquisition = wait.Acquisition;
        var lockPrimitive = acquisition.Lock;
        long since = acquisition.Since;
        if (since == 0)
        {
            // An unclocked async wait (the clock costs as much as a hand-off, so nobody reads it unasked): stamped at its
            // first sighting, so a stuck waiter shows, and grows, in later reads.
            since = wait.IsSlot ? now : SightedAt(acquisition.Record, acquisition.Version, now);
            if (ReferenceEquals(owner.WaitingFor, lockPrimitive))
            {
                // The slot showing this lock is stamped too, as its readers expect. Should the wait end and the flow's next
                // unclocked one begin before the swap, that one is stamped a moment early; any clocked wait writes its own
                // start over this.
                long prior = Interlocked.CompareExchange(ref owner.WaitingSince, since, 0);
                if (wait.IsSlot && prior != 0)
                {
                    since = prior;
                }
            }
        }

        // A stripe waits as its striped lock, as metrics and statistics count it.
        var named = lockPrimitive.StripedParent ?? lockPrimitive;
        string lockName = lockPrimitive.StripedParent is { } parent ? parent.WaitNameFor(owner)
            : wait.IsSlot ? lockPrimitive.WaitNameFor(owner)
            : acquisition.Name;
        var waited = Stopwatch.GetElapsedTime(since, now);
        return new LockWaitInProgress(
            owner.OwnerId, owner.Name, lockName, named.Level, named.Kind, acquisition.Mode, waited < TimeSpan.Zero ? TimeSpan.Zero : waited)
        {
            HolderId = acquisition.HolderId,
            LockId = named.Id,
            Holder = DescribeHolder(lockPrimitive, acquisition.HolderId),
            FlowThread = owner.IsFlow ? Format(BegunOn(wait)) : null,
            StripeName = lockPrimitive.StripedParent is not null ? lockPrimitive.Name : null,
        };
    }

    /// <summary>When <paramref name="record"/>'s wait (its use <paramref name="version"/>) was first seen; <paramref name="now"/> if not before.</summary>
    private static long SightedAt(object record, int version, long now)
    {
        var sighting = s_sightings.GetValue(record, static _ => new Sighting());
        lock (sighting)
        {
            if (sighting.At == 0 || sighting.Version != version)
            {
                sighting.Version = version;
                sighting.At = now;
            }

            return sighting.At;
        }
    }

    private sealed class Sighting
    {
        public int Version;
        public long At;
    }

    // A thread holder is named as its owner record names it now (its name is gone once it ends); a flow as the lock's
    // messages and DescribeHolder name it (with its activity) while it is still the holder read with the wait, else by id.
    private static string? DescribeHolder(LockPrimitive lockPrimitive, int holderId)
    {
        if (holderId == 0)
        {
            return null;
        }

        if (holderId >= LockOwner.FlowIdBase)
        {
            var holder = AsyncWaits.HolderAsReported(lockPrimitive);
            return holder.Id == holderId && holder.Name is { } described ? described : LockOwner.DescribeFlow(holderId, null);
        }

        return LockOwner.Find(holderId)?.Describe() ?? "thread " + holderId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Searches the waits from <paramref name="start"/>, depth first, for a path back to it: every wait of an owner is an
    /// edge (tasks of one flow may wait at once), each owner is entered once (so the search is bounded by the graph's
    /// size), and a cycle is returned only once each of its waits was read again (<see cref="Confirm"/>); else the search
    /// goes on. Returns the cycle <paramref name="start"/> is on, if any.
    /// </summary>
    /// <remarks>
    /// An owner in no wait of its own goes on through the wait that stands for it (<see cref="StandIns"/>): the edge names
    /// that owner as the waiter and the stand-in as <see cref="DeadlockEdge.WaitsThrough"/>.
    /// </remarks>
    private static DeadlockCycle? Search(int start, Dictionary<int, List<Wait>> waiting, Dictionary<int, Wait>? standIns, SearchState state)
    {
        if (WaitsOf(start, waiting, standIns) is not { } first)
        {
            return null;
        }

        var (visited, frames, path) = (state.Visited, state.Frames, state.Path);
        visited.Clear();
        frames.Clear();
        path.Clear();
        visited.Add(start);
        frames.Add(new Frame(start, first));
        while (frames.Count > 0)
        {
            var frame = frames[^1];
            if (frame.Next == frame.Waits.Count)
            {
                frames.RemoveAt(frames.Count - 1);
                if (path.Count > 0)
                {
                    path.RemoveAt(path.Count - 1);
                }

                // Every wait of this owner leads only to owners that reach no cycle: neither does it, and later searches
                // stop there (without this, a chain of n waits is walked once per start: n² steps a scan).
                if (!frame.Live)
                {
                    state.Dead.Add(frame.WaiterId);
                }
                else if (frames.Count > 0)
                {
                    frames[^1] = frames[^1] with { Live = true };
                }

                continue;
            }

            var wait = frame.Waits[frame.Next];
            frames[^1] = frame with { Next = frame.Next + 1 };
            int holderId = wait.Acquisition.HolderId;
            if (holderId == 0 || holderId == wait.Owner.OwnerId || holderId == frame.WaiterId)
            {
                continue;
            }

            if (holderId == start)
            {
                frames[^1] = frames[^1] with { Live = true };
                path.Add((frame.WaiterId, wait));
                if (Confirm(path))
                {
                    return Canonical(path);
                }

                path.RemoveAt(path.Count - 1);
            }
            else if (state.Dead.Contains(holderId))
            {
                continue;
            }
            else if (!visited.Add(holderId))
            {
                // Entered before in this search, maybe still on the path: a cycle this search does not report may be there.
                frames[^1] = frames[^1] with { Live = true };
            }
            else if (WaitsOf(holderId, waiting, standIns) is { } next)
            {
                path.Add((frame.WaiterId, wait));
                frames.Add(new Frame(holderId, next));
            }
        }

        return null;
    }

    /// <summary>What one search uses, cleared and reused by the next (one per <see cref="FindCycles"/> call).</summary>
    private sealed class SearchState
    {
        public readonly HashSet<int> Visited = new();

        /// <summary>Owners from which every path of waits ends at an owner in no wait: no cycle is through them (kept across searches).</summary>
        public readonly HashSet<int> Dead = new();
        public readonly List<Frame> Frames = new();
        public readonly List<(int WaiterId, Wait Wait)> Path = new();
    }

    /// <summary>An owner the search entered: its waits (or the one standing for it), and the next one to follow.</summary>
    /// <remarks><c>Live</c>: some wait of it leads back to the start, or to an owner not known to reach no cycle.</remarks>
    private readonly record struct Frame(int WaiterId, IReadOnlyList<Wait> Waits, int Next = 0, bool Live = false);

    private static IReadOnlyList<Wait>? WaitsOf(int ownerId, Dictionary<int, List<Wait>> waiting, Dictionary<int, Wait>? standIns) =>
        waiting.TryGetValue(ownerId, out var own) ? own
        : standIns is not null && standIns.TryGetValue(ownerId, out var standIn) ? new[] { standIn }
        : null;

    /// <summary>The edge of <paramref name="waiterId"/>'s wait <paramref name="wait"/> (its own, or one it waits through), named as read now.</summary>
    private static DeadlockEdge EdgeOf(int waiterId, in Wait wait)
    {
        var owner = wait.Owner;
        var acquisition = wait.Acquisition;
        bool through = waiterId != owner.OwnerId;
        return new DeadlockEdge(waiterId, through ? NameOf(wait) : owner.Name, acquisition.Name, acquisition.Lock.Level,
            acquisition.Lock.Kind, acquisition.Mode, acquisition.HolderId)
        {
            WaitsThrough = through ? owner.OwnerId : null,
            WaitsThroughName = through ? owner.Name : null,
            FlowThread = FlowThreadOf(waiterId, wait),
        };
    }

    /// <summary>The name of an owner that waits through <paramref name="standIn"/>: the flow the thread runs, or the thread the flow's wait began on.</summary>
    private static string? NameOf(in Wait standIn) =>
        standIn.Owner.IsFlow ? BegunOn(standIn)?.Name : standIn.Owner.BlockedFlow?.Name;

    /// <summary>
    /// For a flow's edge, the thread its wait runs on, as messages name it (<c>7 ('worker')</c>): the thread its own async
    /// wait began on, or the thread whose sync wait it waits through; null for a thread's edge, or a flow whose async wait
    /// recorded no thread.
    /// </summary>
    private static string? FlowThreadOf(int waiterId, in Wait acting) =>
        waiterId < LockOwner.FlowIdBase ? null
        : !acting.Owner.IsFlow ? ThreadNames.Format(acting.Owner.OwnerId, acting.Owner.Name)
        : Format(BegunOn(acting));

    /// <summary>
    /// A thread as messages name a flow's (<c>7 ('worker')</c>): the one an async wait began on, which the in-process async
    /// waits and the distributed locks' waits record.
    /// </summary>
    private static string? Format(Thread? thread) => thread is null ? null : ThreadNames.Format(thread.ManagedThreadId, thread.Name);

    /// <summary>
    /// Re-reads every edge: each wait is still under way (the same acquisition, read again from its lock's records; or the
    /// owner's slot still shows the lock), for the same lock held by the same owner, and every wait that stood for another
    /// owner still does.
    /// </summary>
    private static bool Confirm(List<(int WaiterId, Wait Wait)> path)
    {
        List<AcquisitionWait>? records = null;
        foreach (var (waiterId, wait) in path)
        {
            var owner = wait.Owner;
            var acquisition = wait.Acquisition;
            if (wait.Source is { } source)
            {
                (records ??= new()).Clear();
                source.AddWaits(records);
                if (!records.Exists(r => ReferenceEquals(r.Record, acquisition.Record) && r.Version == acquisition.Version &&
                    ReferenceEquals(r.Waiter, owner) && r.Name == acquisition.Name && r.HolderId == acquisition.HolderId))
                {
                    return false;
                }
            }
            else if (!ReferenceEquals(owner.WaitingFor, acquisition.Lock) || acquisition.Lock.WaitEdgeFor(owner) != (acquisition.Name, acquisition.HolderId))
            {
                return false;
            }

            if (waiterId != owner.OwnerId &&
                (owner.IsFlow ? BlockedOn(wait) != waiterId : owner.BlockedFlow?.OwnerId != waiterId))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Names the cycle's edges and rotates it to start at its lowest thread id, so one deadlock reads the same every time.</summary>
    private static DeadlockCycle Canonical(List<(int WaiterId, Wait Wait)> path)
    {
        int first = 0;
        for (int i = 1; i < path.Count; i++)
        {
            if (path[i].WaiterId < path[first].WaiterId)
            {
                first = i;
            }
        }

        var edges = new DeadlockEdge[path.Count];
        for (int i = 0; i < path.Count; i++)
        {
            var (waiterId, wait) = path[(first + i) % path.Count];
            edges[i] = EdgeOf(waiterId, wait);
        }

        return new DeadlockCycle(edges);
    }
}
