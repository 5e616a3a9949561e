using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Engine;

/// <summary>
/// Threads outside the run parked on its locks, conditions and barriers. A flow blocked behind such a thread's hold waits
/// for its release in real time; once that thread parks, with no timeout nor token, on a lock flows hold (exclusively,
/// for reading, or as permits, a finished flow's included) that no real-time event will release, or on a condition or
/// barrier no flow can run to notify or reach, the release never comes: the run is deadlocked now, and the parking (which
/// wakes the scheduler) lets it say so at once instead of after its idle period. So does an outside acquisition of
/// permits that parks: it holds none.
/// </summary>
internal sealed partial class ControlledRun
{
    // By owner id (the thread's): the lock, condition or barrier each outside thread last parked on, whether that wait may
    // end in real time, which wait it was, and its node. Under the gate. An entry counts only while the thread is still in
    // that very wait (a later wait for the same lock, timed, say, that has not parked yet is another) and its node has not
    // been woken or handed the lock (a woken thread runs on in real time, though its record still reads as waiting). A
    // lock's wait is known by its start in the thread's record; a condition's or barrier's, which the record does not
    // show, by the node's wait number.
    private readonly Dictionary<int, (object Resource, bool CanEnd, long Since, WaitNode Node)> _outsideParked = [];

    // By the owner id of an async flow outside the run (a task's own flow record): the lock of the run it last queued a wait
    // on, its node, and the node's task for that wait. Under the gate. Whether the wait may end in real time is read from
    // the node when asked, not noted here: a later wait of the same flow on the same lock, whose task token came round
    // again, reads as this one until it is recorded, and may be timed where this one was not. An entry
    // counts only while its node is still queued, waiting, with that very task: a release that hands it the lock unlinks it
    // and marks it granted before the wait completes, and the node serves a later wait only once it was recycled, which
    // gives it a new task.
    private readonly Dictionary<int, (LockPrimitive Resource, AsyncWaitNode Node, ValueTask<AsyncLockScope> Wait)> _outsideQueued = [];

    private static readonly AsyncLocal<object?> s_check = new();

    void ISchedulingController.OutsideAsyncWaiterQueued(LockPrimitive resource, bool canEnd, AsyncWaitNode node)
    {
        _outsideQueuedObserver?.Invoke(resource);
        if (!canEnd && Volatile.Read(ref _checking) && s_check.Value is { } check && ReferenceEquals(check, Volatile.Read(ref _runningCheck)) &&
            CheckBlockedForGood(resource) is { } forGood)
        {
            // Queued already, it cannot be refused: withdrawn instead, before the primitive returns its task (so the node is
            // this wait's), which fails with the reason. A sync check blocked on that task throws; the async check that
            // awaits it hears of it too (RunAsyncCheck). Withdrawn first, so the run that reports it leaves no wait queued.
            if (node.WithdrawForGood(node.Phase, forGood))
            {
                NoteCheckBlockedForGood(forGood);
                return;
            }
        }

        // Read before the primitive returns the wait's task: until then nothing can await it, so the node is not recycled
        // and its owner and task are this wait's.
        var wait = node.PendingTask;
        int ownerId = node.Owner.OwnerId;
        lock (_gate)
        {
            SweepOutsideWaitsLocked();
            _outsideQueued[ownerId] = (resource, node, wait);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Forgets the outside waits that are over, as another is told: a task's new record or a new thread in every round of a
    /// long loop would otherwise add one each, and keep its lock alive. Each reads as no wait of the run's any more
    /// (<see cref="ParkedOnLocked"/>, <see cref="ParkedInQueueLocked"/> and <see cref="QueuedForGoodOnLocked"/> pass it by),
    /// so forgetting it changes no verdict. Under the gate.
    /// </summary>
    private void SweepOutsideWaitsLocked()
    {
        List<int>? over = null;
        foreach (var (id, parked) in _outsideParked)
        {
            // A lock's wait is over once its thread's record names another wait (or the thread is gone); a condition's or
            // barrier's once its node serves another wait.
            bool ended = parked.Resource is LockPrimitive
                ? LockOwner.Find(id) is not { } record || !ReferenceEquals(record.WaitingFor, parked.Resource) || Volatile.Read(ref record.WaitingSince) != parked.Since
                : parked.Node is not ThreadWaitNode node || node.WaitNumber != parked.Since;
            if (ended)
            {
                (over ??= []).Add(id);
            }
        }

        over?.ForEach(id => _outsideParked.Remove(id));
        over?.Clear();
        foreach (var (id, queued) in _outsideQueued)
        {
            // Granted, withdrawn or recycled: the node no longer waits with this wait's task, for this owner on this lock.
            var node = queued.Node;
            if (node.Status != WaitStatus.Waiting || !node.PendingTask.Equals(queued.Wait) ||
                !ReferenceEquals(Volatile.Read(ref node.Host)?.Lock, queued.Resource) || Volatile.Read(ref node.Owner)?.OwnerId != id)
            {
                (over ??= []).Add(id);
            }
        }

        over?.ForEach(id => _outsideQueued.Remove(id));
    }

    void ISchedulingController.OutsideWaiterParks(object resource, bool canEnd, WaitNode node)
    {
        if (CurrentFlow() is not null)
        {
            return;
        }

        // A check parking for good: thrown before the park, and the kernel's wait leaves the queue as for an interrupt.
        if (!canEnd && resource is LockPrimitive && Volatile.Read(ref _checking) && CheckBlockedForGood(resource) is { } forGood)
        {
            throw new InvalidOperationException(forGood);
        }

        long since = resource is LockPrimitive
            ? Volatile.Read(ref LockOwner.Current.WaitingSince)
            : node is ThreadWaitNode threadNode ? threadNode.WaitNumber : 0;
        lock (_gate)
        {
            SweepOutsideWaitsLocked();
            _outsideParked[CurrentThreadId.Value] = (resource, canEnd, since, node);

            Monitor.PulseAll(_gate);
        }

        _outsideParkObserver?.Invoke(resource);
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
            // Permits too: more free than at the flow's last try came back since, and the signal that makes it try again
            // has not reached it (it would be runnable). The books may already count them as back: not a deadlock.
            return (flow.OutsideHeldAtEnlist && flow.WaitingOn is LockPrimitive { ExclusiveOwnerId: 0 }) ||
                (flow.WaitingOn is CountingSemaphore semaphore && semaphore.CurrentCount > flow.FreePermitsAtTry);
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

        switch (parkedOn)
        {
            // A semaphore's permits may come back from any thread: for good only while no code outside the run has any, and
            // every flow holding some (a finished one included) cannot run; nor while a queued async waiter that holds it
            // back from free permits may leave.
            case CountingSemaphore semaphore:
                var holders = _flows.FindAll(f => f.Permits.GetValueOrDefault(semaphore) > 0);
                return holders.Count != 0 && OutsidePermitsKept(semaphore) == 0 && !MayBeLetInLocked(ownerId, semaphore) &&
                    holders.TrueForAll(h => CannotReleaseLocked(h, visiting));

            // Readers, with no writer: for good while every read is a flow's, and none of those flows can run.
            case ReadWriteLock { ExclusiveOwnerId: 0 } rw:
                var readers = FlowReadersLocked(rw);
                return readers.Count != 0 && OutsideReaderCount(rw) == 0 && readers.TrueForAll(h => CannotReleaseLocked(h, visiting));

            // An async lock's reads, with no writer: likewise, the reads counted by the flows' records.
            case AsyncReadWriteLock { ExclusiveOwnerId: 0 } arw:
                var asyncReaders = FlowReadersLocked(arw);
                return asyncReaders.Count != 0 && OutsideReaderCount(arw) == 0 && asyncReaders.TrueForAll(h => CannotReleaseLocked(h, visiting));

            // Any flow may notify a condition or arrive at a barrier: for good while no live flow can run. A notification
            // or arrival from yet another thread outside the run is not waited for: that code runs uncontrolled too.
            case ConditionVariable or PhaseBarrier:
                return _flows.TrueForAll(f => CannotReleaseLocked(f, visiting));

            case LockPrimitive:
                return HolderOf(parkedOn) is { } holder && CannotReleaseLocked(holder, visiting);

            default:
                return false;
        }
    }

    /// <summary>
    /// Whether the waiter <paramref name="ownerId"/>, parked or queued on <paramref name="semaphore"/> while enough permits
    /// are free for it, may yet get them with no permit coming back: the semaphore serves its queued async waiters first,
    /// so it waits behind one asking for more than is free, and when such a waiter leaves (its timeout, its token) the
    /// semaphore lets the ones behind it in. So unless every async waiter queued ahead of it is one the run knows waits with
    /// neither. One queued behind it cannot let it in by leaving: the semaphore serves in order, and a wake pass stops at
    /// the first async waiter that does not fit, which is ahead of this one and stays. With none ahead, or the oldest ahead
    /// fitting the free permits too, it is only queued still because the wake-up those permits bring has yet to come.
    /// </summary>
    private bool MayBeLetInLocked(int ownerId, CountingSemaphore semaphore)
    {
        WaitNode? node = ownerId >= LockOwner.FlowIdBase
            ? _outsideQueued.GetValueOrDefault(ownerId).Node
            : _outsideParked.TryGetValue(ownerId, out var parked) ? parked.Node : null;
        if (node is null || Volatile.Read(ref node.Request) > semaphore.CurrentCount)
        {
            // Too few free: only permits coming back let it in, whoever leaves the queue.
            return false;
        }

        // The queue first, then the records: a record is made after its waiter queued, and none is made while the run's
        // gate is held, so a waiter ahead that the records count for good was queued when the queue was read (one granted
        // or gone since reads as not for good). A waiter not yet recorded, timed or with a token, may leave.
        if (AsyncWaitersAheadOf(semaphore, node) is not { } ahead)
        {
            // Not queued now: woken, or leaving; anything may happen.
            return true;
        }

        if (ahead.Count == 0 || ahead[^1].Request <= semaphore.CurrentCount)
        {
            // Fits the free permits, and the oldest async waiter ahead (if any) fits them too: a wake-up is on its way (a
            // release that added them wakes after it adds; a waiter's re-test after it queued), whoever is queued behind.
            return true;
        }

        _waitersAheadReadObserver?.Invoke(semaphore);
        foreach (var (waiter, id, _) in ahead)
        {
            if (!_outsideQueued.TryGetValue(id, out var queued) || !ReferenceEquals(queued.Node, waiter) ||
                !ReferenceEquals(QueuedForGoodOnLocked(id), semaphore))
            {
                return true;
            }
        }

        // Then the wait again: a waiter that left since, letting this one in, woke it, and then it reads as parked no more.
        return !ReferenceEquals(ParkedOnLocked(ownerId), semaphore);
    }

    /// <summary>
    /// The async waiters queued in <paramref name="semaphore"/> ahead of <paramref name="node"/>, nearest first, with their
    /// owners' ids and requests, read under the semaphore's gate (a queue's links change only under it); null when the node
    /// is not queued there. The id and request are read there too: a waiter that leaves once the gate is free has its node
    /// recycled, which then names no owner.
    /// </summary>
    private static List<(AsyncWaitNode Node, int OwnerId, int Request)>? AsyncWaitersAheadOf(CountingSemaphore semaphore, WaitNode node)
    {
        var ahead = new List<(AsyncWaitNode Node, int OwnerId, int Request)>();
        using (GateEntry.Enter(semaphore.QueueGateForTests))
        {
            if (!node.IsQueued)
            {
                return null;
            }

            // Bounded by the queue's length: a node read as this wait's may have moved to another lock's queue since,
            // whose links this gate does not guard (then the caller's second read of the wait tells it apart).
            int left = semaphore.QueuedWaiterCount;
            for (var before = node.Previous; before is not null; before = before.Previous)
            {
                if (--left < 0)
                {
                    return null;
                }

                if (before is AsyncWaitNode waiter)
                {
                    // No owner (0, no record of the run's): a node reached by a stale link, recycled since; it may leave.
                    ahead.Add((waiter, Volatile.Read(ref waiter.Owner)?.OwnerId ?? 0, Volatile.Read(ref waiter.Request)));
                }
            }
        }

        return ahead;
    }

    /// <summary>The flows (a finished one included) whose threads hold a read of <paramref name="rw"/>, in the run's order.</summary>
    private List<FlowState> FlowReadersLocked(ReadWriteLock rw) => _flows.FindAll(f => f.ReadStates.Any(state => state.Holds(rw.Id)));

    /// <summary>The flows (a finished one included) whose async flow records hold a read of <paramref name="arw"/>, in the run's order.</summary>
    private List<FlowState> FlowReadersLocked(AsyncReadWriteLock arw) => _flows.FindAll(f => f.FlowRecords.Any(record => record.FlowReads.Holds(arw)));

    /// <summary>Whether the flow <paramref name="holder"/> cannot release what it holds: it finished, or is blocked on nothing that ends in real time.</summary>
    private bool CannotReleaseLocked(FlowState holder, HashSet<FlowState> visiting) =>
        holder.Status == FlowStatus.Done ||
        (holder.Status == FlowStatus.Blocked && (!visiting.Add(holder) || !WaitsForOutsideLocked(holder, visiting)));

    /// <summary>
    /// The lock, condition or barrier of this run the outside thread <paramref name="ownerId"/> is parked on with no timeout
    /// nor token, if any.
    /// </summary>
    private object? ParkedOnLocked(int ownerId)
    {
        if (ownerId >= LockOwner.FlowIdBase)
        {
            return QueuedForGoodOnLocked(ownerId);
        }

        if (!_outsideParked.TryGetValue(ownerId, out var parked) || parked.CanEnd || LockOwner.Find(ownerId) is not { } record)
        {
            return null;
        }

        if (parked.Resource is not LockPrimitive)
        {
            // The status first, as below: a new wait on the node counts itself before its status reads as waiting again.
            return parked.Node.Status == WaitStatus.Waiting && parked.Node is ThreadWaitNode node && node.WaitNumber == parked.Since
                ? parked.Resource
                : null;
        }

        return StillInParkedWait(record, parked.Resource, parked.Since, parked.Node) ? parked.Resource : null;
    }

    /// <summary>
    /// Whether the outside thread <paramref name="ownerId"/> is parked in <paramref name="semaphore"/>'s queue, in the wait
    /// it was told parked in (a timed one too), so holds none of the permits it asks for. Under the gate, never under the
    /// permit gate: this takes the semaphore's gate, under which a grant takes the permit gate.
    /// </summary>
    private bool ParkedInQueueLocked(int ownerId, CountingSemaphore semaphore) =>
        _outsideParked.TryGetValue(ownerId, out var parked) && ReferenceEquals(parked.Resource, semaphore) &&
        LockOwner.Find(ownerId) is { } record && StillInParkedWait(record, semaphore, parked.Since, parked.Node);

    /// <summary>
    /// Whether the thread of <paramref name="record"/> is still in the wait for the lock <paramref name="resource"/> begun at
    /// <paramref name="since"/> on <paramref name="node"/>, not woken nor handed the lock.
    /// </summary>
    private static bool StillInParkedWait(LockOwner record, object resource, long since, WaitNode node)
    {
        // The node first: a release wakes it (or hands it the lock) before the woken thread ends its wait, so a node still
        // waiting, read before the record, was not woken by any release this verdict follows (but for a semaphore's retry,
        // below). Then the lock, then its start (a wait writes them the other way round): a wait begun since reads as
        // another. The node is reused by the thread's next wait, which parks again (and is told again) or is another wait
        // by its start.
        if (node.Status != WaitStatus.Waiting || !ReferenceEquals(record.WaitingFor, resource) || Volatile.Read(ref record.WaitingSince) != since)
        {
            return false;
        }

        // A semaphore's woken waiter queues its node again (reading as not woken) to retry, then takes its permits and
        // unlinks it, under the semaphore's gate; its wait ends after that. Read without that gate, such a thread looks
        // parked, holding none, and the run books its permits only once its acquisition returns: so ask under the gate,
        // then read the wait again, so that the node found queued was this wait's. Another lock's holder is read from the
        // lock itself, which a retry that took it names.
        return resource is not CountingSemaphore semaphore ||
            (semaphore.HasQueuedUnserved(node) && ReferenceEquals(record.WaitingFor, resource) && Volatile.Read(ref record.WaitingSince) == since);
    }

    /// <summary>The lock of this run the async flow <paramref name="ownerId"/> outside it is queued on with no timeout nor token, if any.</summary>
    private LockPrimitive? QueuedForGoodOnLocked(int ownerId)
    {
        if (!_outsideQueued.TryGetValue(ownerId, out var queued))
        {
            return null;
        }

        // The status first, then the queue, then the task (a grant unlinks the node and marks it granted; a later wait on
        // it resets both after its recycling changed the task): a node read as waiting, queued and with this wait's task
        // was handed nothing by any release this verdict follows. The task's token is 16 bits, and comes round again after
        // 65,536 waits on the node: then the lock and the owner, which that later wait set, tell it from this one (only a
        // later wait of this flow on this very lock, which is queued there too, reads as this one until it is recorded:
        // so whether it may end is read from the node, last, for the wait that is queued now).
        var node = queued.Node;
        return node.Status == WaitStatus.Waiting && Volatile.Read(ref node.IsQueued) && node.PendingTask.Equals(queued.Wait) &&
            ReferenceEquals(Volatile.Read(ref node.Host)?.Lock, queued.Resource) && Volatile.Read(ref node.Owner)?.OwnerId == ownerId &&
            !node.CanEndByItself
            ? queued.Resource
            : null;
    }

    /// <summary>
    /// A deadlock through a thread outside the run: the lock <paramref name="waiter"/> waits for is held by that thread,
    /// itself parked on a lock a flow holds. Null when the holder is no such thread.
    /// </summary>
    private string? ExplainParkedOutsideHolderLocked(FlowState waiter)
    {
        int holderId = OutsideHolderId(waiter);
        if (holderId == 0 || ParkedOnLocked(holderId) is not { } parkedOn || WhatItWaitsForLocked(parkedOn) is not { } waitsFor)
        {
            return null;
        }

        // An async lock's holder is a flow record (a task outside the run claimed its own), which names no thread.
        string holder = holderId >= LockOwner.FlowIdBase
            ? "an async flow that is not a flow of this run (a task outside it)"
            : $"a thread that is not a flow of this run{(LockOwner.Find(holderId)?.Name is { } name ? $" ('{name}')" : string.Empty)}";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"'{waiter.WaitingName}' is held by {holder}, {waitsFor}: neither can go on. Code on such a thread (a Task.Run body, a thread a flow starts) runs uncontrolled, and its lock operations are no scheduling points: take the lock in a flow instead (scenario.Thread or scenario.Flow)");
    }

    /// <summary>What an outside thread parked on <paramref name="parkedOn"/> waits for, as a clause ("which waits for …"); null when no flow holds it.</summary>
    private string? WhatItWaitsForLocked(object parkedOn)
    {
        var c = CultureInfo.InvariantCulture;
        switch (parkedOn)
        {
            case ConditionVariable condition:
                return $"which waits on condition '{NameOf(condition, condition.Name)}', and no flow is left to notify it";

            case PhaseBarrier barrier:
                return $"which waits at barrier '{NameOf(barrier, barrier.Name)}', and no flow is left to arrive";

            case CountingSemaphore semaphore:
                var live = PermitHoldersLocked(semaphore);
                var finished = _flows.FindAll(f => f.Status == FlowStatus.Done && f.Permits.GetValueOrDefault(semaphore) > 0);
                if (live.Count == 0 && finished.Count == 0)
                {
                    return null;
                }

                int kept = 0;
                finished.ForEach(f => kept += f.Permits[semaphore]);
                string heldBy = live.Count == 0 ? string.Empty : $"held by {string.Join(", ", live.ConvertAll(static f => f.Name))}";
                string keptBy = finished.Count == 0
                    ? string.Empty
                    : string.Create(c, $"whose permit{(kept == 1 ? string.Empty : "s")} {string.Join(" and ", finished.ConvertAll(static f => f.Name))} took and finished without releasing {(kept == 1 ? "it" : "them")}");
                return $"which waits for '{NameOf(semaphore, semaphore.Name)}', {heldBy}{(heldBy.Length != 0 && keptBy.Length != 0 ? ", and " : string.Empty)}{keptBy}";

            case ReadWriteLock { ExclusiveOwnerId: 0 } rw:
                var readers = FlowReadersLocked(rw);
                return readers.Count == 0
                    ? null
                    : $"which waits for '{NameOf(rw, rw.Name)}', held for reading by {string.Join(", ", readers.ConvertAll(static f => f.Status == FlowStatus.Done ? $"{f.Name} (finished without releasing it)" : f.Name))}";

            case AsyncReadWriteLock { ExclusiveOwnerId: 0 } arw:
                var asyncReaders = FlowReadersLocked(arw);
                return asyncReaders.Count == 0
                    ? null
                    : $"which waits for '{NameOf(arw, arw.Name)}', held for reading by {string.Join(", ", asyncReaders.ConvertAll(static f => f.Status == FlowStatus.Done ? $"{f.Name} (finished without releasing it)" : f.Name))}";

            case LockPrimitive lockPrimitive when HolderOf(lockPrimitive) is { } holder:
                return $"which waits for '{NameOf(lockPrimitive, lockPrimitive.Name)}', held by {holder.Name}{(holder.Status == FlowStatus.Done ? " (finished without releasing it)" : string.Empty)}";

            default:
                return null;
        }
    }

    /// <summary>
    /// From the end of the flows on: the scenario's checks run (<see cref="Scenario.Finally(System.Action)"/>), and a wait
    /// of theirs for a lock a finished flow kept can never end.
    /// </summary>
    internal void BeginChecks() => Volatile.Write(ref _checking, true);

    /// <summary>
    /// Why a wait after the flows ended, for <paramref name="resource"/> with no timeout or token, would wait for good: only
    /// finished flows hold it (a semaphore: they kept all its permits); null when something else might still release it.
    /// </summary>
    private string? CheckBlockedForGood(object resource)
    {
        lock (_gate)
        {
            if (resource is CountingSemaphore semaphore)
            {
                int kept = 0;
                _flows.ForEach(f => kept += f.Permits.GetValueOrDefault(semaphore));
                if (kept < semaphore.MaxCount)
                {
                    return null;
                }
            }

            return WhatItWaitsForLocked(resource) is { } clause
                ? $"A check of the scenario (scenario.Finally) {clause["which ".Length..]}, after every flow has finished: nothing of the run is left to release it, so the check would wait for good. Release what a flow takes before it ends (a using scope), or give the check's acquisition a timeout"
                : null;
        }
    }

    private void NoteCheckBlockedForGood(string forGood)
    {
        lock (_gate)
        {
            _checkBlockedForGood ??= forGood;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// A new check's mark: only a wait this check's code queues counts against it, not one an earlier check's stray work
    /// left (whose report may come in only now).
    /// </summary>
    private object BeginCheck()
    {
        var mark = new object();
        lock (_gate)
        {
            _checkBlockedForGood = null;
            _runningCheck = mark;
        }

        return mark;
    }

    /// <summary>
    /// Runs a sync check on this thread, marked as <see cref="RunAsyncCheck"/> marks an async one: a wait it queues for
    /// good (an async acquisition it blocks on, <c>.AsTask().Result</c>) is withdrawn and fails, instead of blocking it for
    /// good.
    /// </summary>
    internal void RunSyncCheck(Action check)
    {
        var mark = BeginCheck();
        var before = s_check.Value;
        s_check.Value = mark;
        try
        {
            check();
        }
        finally
        {
            s_check.Value = before;
        }
    }

    /// <summary>
    /// Runs an async check on the thread pool and waits for it, or fails it at once when a wait queued while it runs can
    /// never end (<see cref="CheckBlockedForGood"/>): its task would never complete.
    /// </summary>
    internal void RunAsyncCheck(Func<Task> start)
    {
        var mark = BeginCheck();
        var check = Task.Run(() => RunMarked(start, mark));
        check.ContinueWith(
            static (done, run) =>
            {
                // Observed here: a check failed for a withdrawn wait (OutsideAsyncWaiterQueued) may fault after the run
                // reported it, and nobody reads its exception then.
                _ = done.Exception;
                var gate = ((ControlledRun)run!)._gate;
                lock (gate)
                {
                    Monitor.PulseAll(gate);
                }
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        lock (_gate)
        {
            while (!check.IsCompleted && _checkBlockedForGood is null)
            {
                Monitor.Wait(_gate);
            }

            if (!check.IsCompleted)
            {
                throw new InvalidOperationException(_checkBlockedForGood);
            }
        }

        check.GetAwaiter().GetResult();
    }

    // An async method: the mark it sets stays in its own frame, and in everything the check awaits or starts.
    private static async Task RunMarked(Func<Task> start, object mark)
    {
        s_check.Value = mark;
        await start().ConfigureAwait(false);
    }
}
