using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Locksmith.Testing.Engine;

/// <summary>
/// What a summary says beyond the bare failure. A deadlock without a cycle: "a waits for 'pool'" alone leaves the reader
/// to search the trace for the flow that kept the permit or the notify that came too early; the usual causes (a lock or
/// permit kept by a flow that has finished, a notification before the wait, a barrier short of participants) are read
/// off the trace here and named. An exception's message: the run's thread and flow numbers are replaced by the flows'
/// names, so the summary is the same in a replay.
/// </summary>
internal sealed partial class ControlledRun
{
    // "thread 11 ('rename')", "Thread 11", "flow #7 ('deposit10')", "flow #7": the forms Locksmith's messages use.
    private static readonly Regex s_flowNumber = new(@"\b(?<word>[Tt]hread|[Ff]low) #?(?<id>\d+)(?: \('[^']*'\))?", RegexOptions.CultureInvariant);

    /// <summary>
    /// <paramref name="text"/> (an exception's message) with the run's thread and flow numbers replaced by the flows' names:
    /// <c>thread 11 ('rename')</c> and <c>flow #7</c> become <c>thread 'rename'</c> and <c>flow 'deposit10'</c>. Those
    /// numbers are process-wide and differ from run to run, so without this a replay's summary never equalled the original's.
    /// </summary>
    public string NameFlowsIn(string text)
    {
        lock (_gate)
        {
            return s_flowNumber.Replace(text, match =>
            {
                // A flow's number in messages is its owner id less LockOwner.FlowIdBase; a thread's is its id.
                bool thread = match.Groups["word"].Value is "thread" or "Thread";
                if (!int.TryParse(match.Groups["id"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ||
                    (!thread && id >= LockOwner.FlowIdBase))
                {
                    return match.Value;
                }

                int ownerId = thread ? id : id + LockOwner.FlowIdBase;
                var flow = _flows.Find(f => f.OwnerIds.Contains(ownerId));
                return flow is null ? match.Value : $"{match.Groups["word"].Value} '{flow.Name}'";
            });
        }
    }

    private string DeadlockSummaryLocked(List<WaitForEdge> waits)
    {
        var text = new StringBuilder("deadlock: every live flow is blocked: ").AppendJoin("; ", waits);
        var explained = new HashSet<string>();
        foreach (var flow in _flows)
        {
            // Once a resource, by the first of its waiters that has a story (an earlier one may have none: a condition
            // notified after its wait, the notification taken by another waiter).
            if (flow.Status == FlowStatus.Blocked && !explained.Contains(flow.WaitingName) && ExplainWaitLocked(flow) is { } why)
            {
                explained.Add(flow.WaitingName);
                text.Append(". ").Append(why);
            }
        }

        return text.ToString();
    }

    private string? ExplainWaitLocked(FlowState waiter)
    {
        string target = waiter.WaitingName;
        var c = CultureInfo.InvariantCulture;
        if (waiter.WaitingOn is CountingSemaphore semaphore)
        {
            return ExplainSemaphoreWaitLocked(semaphore, target);
        }

        if (HolderOf(waiter.WaitingOn) is { Status: FlowStatus.Done } finished)
        {
            return string.Create(c, $"'{target}' is held by {finished.Name}, which finished without releasing it");
        }

        if (ExplainParkedOutsideHolderLocked(waiter) is { } throughOutside)
        {
            return throughOutside;
        }

        int waitAt = _trace.FindLastIndex(e => e.Flow == waiter.Name && e.Target == target && e.Operation is "blocked on" or "waits on" or "waits at");
        if (waitAt < 0)
        {
            return null;
        }

        return _trace[waitAt].Operation switch
        {
            "blocked on" when HolderOf(waiter.WaitingOn) is null => ExplainUnreleased(target),
            "waits on" => ExplainMissedNotify(waiter, target, _trace[waitAt].Step, waitAt),
            "waits at" when waiter.WaitingOn is PhaseBarrier barrier => ExplainBarrier(barrier, target),
            _ => null,
        };
    }

    /// <summary>
    /// A wait for permits: who holds them (<see cref="ExplainPermitsLocked"/>), or that no flow does; and, with some free,
    /// that the waiters ask for more than are free (a flow blocks on free permits only then, or behind an async waiter of
    /// code outside the run queued ahead), which the books alone leave a reader to guess.
    /// </summary>
    private string ExplainSemaphoreWaitLocked(CountingSemaphore semaphore, string target)
    {
        var c = CultureInfo.InvariantCulture;
        int free = semaphore.CurrentCount;
        string text = ExplainPermitsLocked(semaphore, target) ?? string.Create(
            c,
            $"'{target}' has {free} of {semaphore.MaxCount} permits free and no flow holds any: no flow is left to release one (a signal that never came)");
        if (free == 0)
        {
            return text;
        }

        var waiters = _flows.FindAll(f => f.Status == FlowStatus.Blocked && ReferenceEquals(f.WaitingOn, semaphore)).ConvertAll(static f => f.Name);
        string who = string.Join(", ", waiters);
        return semaphore.QueuedAsyncWaiterCount != 0
            ? string.Create(c, $"{text}; {who} wait{(waiters.Count == 1 ? "s" : string.Empty)} behind an async waiter of code outside the run queued ahead (the semaphore serves those first)")
            : string.Create(c, $"{text}; {who} {(waiters.Count == 1 ? "asks" : "ask")} for more than the {free} free");
    }

    /// <summary>A barrier short of participants: how many it needs, who waits, and who left without arriving.</summary>
    private string ExplainBarrier(PhaseBarrier barrier, string target)
    {
        var waiting = _flows.FindAll(f => f.Status == FlowStatus.Blocked && ReferenceEquals(f.WaitingOn, barrier)).ConvertAll(f => f.Name);
        var finished = _flows.FindAll(f => f.Status == FlowStatus.Done).ConvertAll(f => f.Name);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"'{target}' ends phase {barrier.CurrentPhase} when {barrier.ParticipantCount} participants arrive; {waiting.Count} wait{(waiting.Count == 1 ? "s" : string.Empty)} at it ({string.Join(", ", waiting)}) and no other flow is left to arrive{(finished.Count == 0 ? string.Empty : $" ({string.Join(", ", finished)} finished)")}: a participant count too high, or a flow that left without arriving for this phase");
    }

    /// <summary>Finished flows that, by the trace, took <paramref name="target"/> more often than they gave it back (a permit, a read lock).</summary>
    private string? ExplainUnreleased(string target)
    {
        var keepers = new List<string>();
        foreach (var flow in _flows)
        {
            if (flow.Status != FlowStatus.Done)
            {
                continue;
            }

            int kept = 0;
            int lastTake = 0;
            foreach (var entry in _trace)
            {
                if (entry.Flow != flow.Name || entry.Target != target)
                {
                    continue;
                }

                switch (entry.Operation)
                {
                    case "acquire" or "acquire read" or "acquire write":
                        kept++;
                        lastTake = entry.Step;
                        break;
                    case "release" or "times out on":
                        kept--;
                        break;
                }
            }

            if (kept > 0)
            {
                keepers.Add(string.Create(CultureInfo.InvariantCulture, $"{flow.Name} (acquired it at step {lastTake} and finished without releasing it)"));
            }
        }

        return keepers.Count == 0 ? null : $"No live flow holds '{target}'; taken and not given back by " + string.Join(", ", keepers);
    }

    /// <summary>
    /// A flow that threw after its last condition wait was notified, while another flow had the wait's lock between the
    /// notification and the flow's own return (an <c>if</c> around <c>Wait</c>): what was announced may be gone. Null
    /// otherwise. Read off the trace, so a replay says the same.
    /// </summary>
    private string? ExplainStaleWakeLocked(FlowState flow)
    {
        int waitAt = _trace.FindLastIndex(e => e.Flow == flow.Name && e.Operation == "waits on");
        if (waitAt < 0)
        {
            return null;
        }

        string condition = _trace[waitAt].Target;
        int releaseAt = _trace.FindIndex(waitAt + 1, e => e.Flow == flow.Name);
        if (releaseAt < 0 || _trace[releaseAt].Operation != "release")
        {
            return null;
        }

        string lockName = _trace[releaseAt].Target;
        int notifyAt = _trace.FindIndex(releaseAt + 1, e => e.Flow != flow.Name && e.Target == condition && e.Operation is "notify" or "notify all");
        int backAt = notifyAt < 0 ? -1 : _trace.FindIndex(notifyAt + 1, e => e.Flow == flow.Name && e.Operation != "wakes on");
        if (backAt < 0 || _trace[backAt].Operation != "acquire" || _trace[backAt].Target != lockName)
        {
            return null; // not woken by a notification (a timeout), or it did something else first
        }

        string notifier = _trace[notifyAt].Flow;
        int otherAt = _trace.FindIndex(notifyAt + 1, backAt - notifyAt - 1, e => e.Flow != flow.Name && e.Flow != notifier && e.Operation == "release" && e.Target == lockName);
        if (otherAt < 0)
        {
            return null;
        }

        var other = _trace[otherAt];
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{flow.Name} waited on '{condition}' (step {_trace[waitAt].Step}) and {notifier} notified it (step {_trace[notifyAt].Step}), but {other.Flow} held '{lockName}' (released it at step {other.Step}) before {flow.Name} had it back (step {_trace[backAt].Step}): what the notification announced may be gone when a wait returns. Check the condition again after every wait, in a loop (while, or WaitUntil)");
    }

    /// <summary>
    /// A condition wait that nothing is left to end: name the notification that came too early, if any. Null when a
    /// notification came after the wait (it woke another waiter).
    /// </summary>
    private string? ExplainMissedNotify(FlowState waiter, string target, int waitStep, int waitAt)
    {
        if (_trace.FindIndex(waitAt + 1, e => e.Target == target && e.Operation is "notify" or "notify all") >= 0)
        {
            return null; // a later notification woke another waiter: the trace tells that story better than a sentence
        }

        int notifyAt = _trace.FindLastIndex(waitAt, e => e.Target == target && e.Operation is "notify" or "notify all");
        var c = CultureInfo.InvariantCulture;
        if (notifyAt < 0)
        {
            return string.Create(c, $"No flow notified '{target}' before or after {waiter.Name} began waiting on it (step {waitStep})");
        }

        var notify = _trace[notifyAt];
        if (notify.Operation == "notify" && ExplainPassedOver(waiter, target, waitStep, notify, notifyAt) is { } passedOver)
        {
            return passedOver;
        }

        return string.Create(
            c,
            $"'{target}' was last notified by {notify.Flow} at step {notify.Step}, before {waiter.Name} began waiting on it (step {waitStep}), and no flow is left to notify it: a missed signal. Check the condition and wait in one hold of the lock, in a loop (or WaitUntil)");
    }

    /// <summary>
    /// The last notification was a <see cref="ConditionVariable.Notify"/> while other flows, blocked still, already waited:
    /// it woke one waiter (the one waiting longest), and they were passed over. Not a missed signal: the wake-up went to a
    /// flow that waits for something else (a producer woken by a producer), which waited again. Null when no waiter was
    /// passed over.
    /// </summary>
    private string? ExplainPassedOver(FlowState waiter, string target, int waitStep, TraceEntry notify, int notifyAt)
    {
        var passedOver = new List<string>();
        foreach (var flow in _flows)
        {
            if (flow.Status != FlowStatus.Blocked || !ReferenceEquals(flow.WaitingOn, waiter.WaitingOn))
            {
                continue;
            }

            // Blocked now, so never signalled since it enlisted: if that was before the notify, the notify went elsewhere.
            int waitAt = _trace.FindLastIndex(notifyAt, e => e.Flow == flow.Name && e.Target == target && e.Operation == "waits on");
            if (waitAt >= 0 && _trace.FindIndex(waitAt + 1, e => e.Flow == flow.Name && e.Target == target && e.Operation == "waits on") < 0)
            {
                passedOver.Add(string.Create(CultureInfo.InvariantCulture, $"{flow.Name} (waiting since step {_trace[waitAt].Step})"));
            }
        }

        if (passedOver.Count == 0)
        {
            return null;
        }

        string woken = _notifyWoke.TryGetValue(waiter.WaitingOn!, out var woke) && woke.Step == notify.Step
            ? ReferenceEquals(woke.Flow, waiter)
                ? string.Create(CultureInfo.InvariantCulture, $"{waiter.Name}, which waited again (step {waitStep})")
                : woke.Flow.Name
            : "another waiter";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"'{target}' was last notified by {notify.Flow} at step {notify.Step} while {string.Join(", ", passedOver)} already waited on it; Notify wakes one waiter, and it woke {woken}, so no flow is left to notify it. Where flows wait on one condition for different states (not full, not empty), call NotifyAll, or give each state a condition of its own");
    }

    /// <summary>
    /// What a flow the run found stuck waits for, when that is a Locksmith lock the run does not control (created before
    /// the run, outside the builder, or by an earlier run: its waits are real ones, no scheduling points): the lock, its
    /// holder and where to create it. Null when the flow waits for no Locksmith lock.
    /// </summary>
    /// <remarks>
    /// Read off the flow's owner records: a thread flow found here blocks its thread in a real wait; an async flow is
    /// queued on the lock (its flow record's wait), awaiting it.
    /// </remarks>
    private string? ExplainUncontrolledWaitLocked(FlowState flow)
    {
        foreach (int id in flow.OwnerIds)
        {
            if ((LockOwner.Find(id) ?? QueuedFlowRecord(id))?.WaitingFor is { } waited)
            {
                var holder = HolderOf(waited);
                return string.Create(
                    CultureInfo.InvariantCulture,
                    $"it waits for '{NameOf(waited, waited.Name)}'{(holder is null ? string.Empty : $", held by {holder.Name},")} a Locksmith lock this run does not control, so its waits are real ones and no scheduling points: it was created before the run (a static field, the test class, an earlier run). Create it in the scenario builder (or in a flow)");
            }
        }

        return null;
    }

    /// <summary>
    /// The record of the async flow <paramref name="ownerId"/> if it is queued on an async lock: flow records are not in
    /// the threads' registry, so they are found in the queues, as the deadlock detector finds them.
    /// </summary>
    private static LockOwner? QueuedFlowRecord(int ownerId)
    {
        if (ownerId < LockOwner.FlowIdBase)
        {
            return null;
        }

        var queued = new List<(LockOwner Flow, LockMode Mode)>();
        foreach (var asyncLock in AsyncOwners.Snapshot())
        {
            queued.Clear();
            asyncLock.AddWaiters(queued);
            foreach (var (waiter, _) in queued)
            {
                if (waiter.OwnerId == ownerId)
                {
                    return waiter;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// A blocked flow whose lock the code running the scenario holds (the builder took it and kept it), if any;
    /// <paramref name="read"/> tells a read from an exclusive hold, <paramref name="async"/> an async lock's hold (by the
    /// caller's flow record) from a thread's.
    /// </summary>
    private FlowState? BlockedOnCallerHoldLocked(out bool read, out bool async)
    {
        // The caller's record, while it is still the caller's: a flow that released the builder's scope (handed to it)
        // may have claimed the idle record since, and then its holds are that flow's.
        var record = _callerRecord is { FlowHoldCount: > 0 } held && !_flows.Exists(f => f.FlowRecords.Contains(held)) ? held : null;
        foreach (var flow in _flows)
        {
            if (flow.Status != FlowStatus.Blocked)
            {
                continue;
            }

            if (flow.WaitingOn is LockPrimitive { ExclusiveOwnerId: > 0 and var owner } && (owner == _callerThreadId || owner == record?.OwnerId))
            {
                read = false;
                async = owner != _callerThreadId;
                return flow;
            }

            // The caller is parked in Execute, so its read records hold still.
            if (flow.WaitingOn is ReadWriteLock rw && _callerReads is { } reads && reads.Holds(rw.Id))
            {
                read = true;
                async = false;
                return flow;
            }

            if (flow.WaitingOn is AsyncReadWriteLock arw && record is not null && record.FlowReads.Holds(arw))
            {
                read = true;
                async = true;
                return flow;
            }
        }

        read = false;
        async = false;
        return null;
    }

    /// <summary>Why a flow waits for ever behind a lock the builder kept, and what to do about it.</summary>
    private static string ExplainCallerHoldLocked(FlowState flow, bool read, bool async) =>
        $"deadlock: flow '{flow.Name}' waits for '{flow.WaitingName}', held{(read ? " for reading" : string.Empty)} by " +
        (async
            ? "the code running the scenario (the builder took the async lock and did not dispose its scope, or the test held it when it started the run, " +
              "or a task the builder started while it held an async lock took it: such a task shares the builder's flow record, unless started under ExecutionContext.SuppressFlow()), "
            : "the thread running the scenario (the test's thread: the builder took the lock and did not release it), ") +
        "which waits for the run to end and so cannot release it while the run goes on: release it in the builder before it returns, or take it in a flow";

    /// <summary>
    /// A blocked flow whose lock is held by an owner that is no flow of this run (a pool thread, a timer) and may still be
    /// released in real time, if any (see <see cref="WaitsForOutsideLocked"/>).
    /// </summary>
    private FlowState? BlockedOnOutsideHolderLocked() => _flows.Find(f => WaitsForOutsideLocked(f));

    /// <summary>
    /// Whether the read-write lock <paramref name="flow"/> waits for has a reader that is no flow's thread. The lock counts
    /// readers, not owners: those beyond the reads the flows' threads record holding are outside the run. Every flow is
    /// parked or done when this is read, so their records hold still.
    /// </summary>
    private bool HasOutsideReader(FlowState flow) => flow.WaitingOn switch
    {
        ReadWriteLock rw => OutsideReaderCount(rw) > 0,
        AsyncReadWriteLock arw => OutsideReaderCount(arw) > 0,
        _ => false,
    };

    /// <summary>
    /// The reads of <paramref name="arw"/> held now beyond those of the flows' records: a read taken in a task outside the
    /// run (a <c>Task.Run</c> body claims a record of its own). A record holds at most one read of a lock (no recursion).
    /// </summary>
    private int OutsideReaderCount(AsyncReadWriteLock arw)
    {
        int readers = arw.CurrentReaderCount;
        var counted = new HashSet<LockOwner>(ReferenceEqualityComparer.Instance);
        foreach (var flow in _flows)
        {
            foreach (var record in flow.FlowRecords)
            {
                if (counted.Add(record) && record.FlowReads.Holds(arw))
                {
                    readers--;
                }
            }
        }

        return readers;
    }

    /// <summary>The reads of <paramref name="rw"/> held now beyond those the flows' threads record holding.</summary>
    private int OutsideReaderCount(ReadWriteLock rw)
    {
        int readers = rw.CurrentReaderCount;

        foreach (var other in _flows)
        {
            foreach (var state in other.ReadStates)
            {
                if (state.Holds(rw.Id))
                {
                    readers--;
                }
            }
        }

        return readers;
    }

    private int OutsideHolderId(FlowState flow) =>
        flow.WaitingOn is LockPrimitive { ExclusiveOwnerId: > 0 and var owner } && !_flows.Exists(f => f.OwnerIds.Contains(owner)) ? owner : 0;

    /// <summary>Why a flow is stuck behind a holder outside the run, and what to do about it.</summary>
    private string ExplainOutsideHolderLocked(FlowState flow)
    {
        // The holder's name, not its number: a thread or flow number changes from run to run, and a replay's summary must not.
        int holderId = OutsideHolderId(flow);
        string held;
        if (holderId == 0 && flow.WaitingOn is ReadWriteLock rw)
        {
            // The count is exact, the names are those of the readers the run saw take the lock.
            int count = OutsideReaderCount(rw);
            var names = OutsideReaderNames(rw);
            string named = names.Count == 0 ? string.Empty : $" ('{string.Join("', '", names)}')";
            held = count <= 1
                ? $"held for reading by a thread that is not a flow of this run{named}, which did not release its read access"
                : $"held for reading by {count} threads that are not flows of this run{named}, which did not release their read access";
        }
        else if (holderId == 0 && flow.WaitingOn is CountingSemaphore semaphore)
        {
            held = DescribeOutsidePermits(OutsidePermitBooksLocked(semaphore, named: true));
        }
        else if (holderId == 0 && flow.WaitingOn is AsyncReadWriteLock arw)
        {
            // An async read names no thread, and the record of a task's flow no name.
            int count = OutsideReaderCount(arw);
            held = count <= 1
                ? "held for reading by an async flow that is not a flow of this run, which did not release its read access"
                : $"held for reading by {count} async flows that are not flows of this run, which did not release their read access";
        }
        else if (holderId >= LockOwner.FlowIdBase)
        {
            // An async lock's holder is a flow record (a task outside the run claimed its own), not a thread. Queued on a
            // lock of the run a flow holds, it waits for that flow: with no timeout nor token that is a deadlock, found
            // before this; so the wait may end, and the summary says so, unless the run was not told of it.
            var queuedOn = QueuedFlowRecord(holderId)?.WaitingFor;
            string canEnd = _outsideQueued.TryGetValue(holderId, out var queued) && queued.Node.CanEndByItself && ReferenceEquals(queued.Resource, queuedOn)
                ? " (a wait with a timeout or a token, which has not ended)"
                : string.Empty;
            // Named as a deadlock through it would be: a lock's holder, a read-write lock's flow readers, a semaphore's takers.
            string waits = queuedOn is not null && WhatItWaitsForLocked(queuedOn) is { } clause ? $", {clause}{canEnd}, and" : ", which";
            held = $"held by an async flow that is not a flow of this run (a task outside it){waits} did not release it";
        }
        else
        {
            string? name = LockOwner.Find(holderId)?.Name;
            held = $"held by a thread that is not a flow of this run{(name is null ? string.Empty : $" ('{name}')")}, which did not release it";
        }

        // A semaphore's permits may be held inside the run as well: name those holders too.
        string inRun = flow.WaitingOn is CountingSemaphore permits && ExplainPermitsLocked(permits, flow.WaitingName) is { } why ? ". " + why : string.Empty;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"flow '{flow.Name}' waits for '{flow.WaitingName}', {held} for {_idleTimeout.TotalSeconds:0.#} s while no flow could run. Code on such a thread (a Task.Run or Parallel body, a timer's callback) runs uncontrolled, and its lock operations are no scheduling points: call it from a flow instead (scenario.Thread or scenario.Flow){inRun}");
    }

    /// <summary>
    /// The names of the threads outside the run that hold a read of <paramref name="rw"/> now, as far as the run saw them
    /// take it (a thread with no name is left out: its number would change from run to run).
    /// </summary>
    private List<string> OutsideReaderNames(ReadWriteLock rw)
    {
        var names = new List<string>();
        lock (_outsideReaders)
        {
            foreach (var (thread, reads) in _outsideReaders)
            {
                if (thread.Name is { } name && reads.Holds(rw.Id))
                {
                    names.Add(name);
                }
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>
    /// A thread outside the run (a task the running flow waits for, most likely) blocked on a lock of this run that a
    /// flow holds: that flow gets no turn while the running one blocks. Null when no such thread waits.
    /// </summary>
    private string? ExplainOutsideWaiterLocked(FlowState running)
    {
        foreach (var owner in LockOwner.Snapshot())
        {
            if (owner.WaitingFor is { } waited && ReferenceEquals(waited.Controller, this) && !_flows.Exists(f => f.OwnerIds.Contains(owner.OwnerId))
                && HolderOf(waited) is { } holder)
            {
                return string.Create(
                    CultureInfo.InvariantCulture,
                    $"a thread that is not a flow of this run{(owner.Name is { } name ? $" ('{name}')" : string.Empty)} waits for '{NameOf(waited, waited.Name)}', held by {holder.Name}, which gets no turn while {running.Name} runs; if {running.Name} waits for that thread (Task.Wait or .Result on a Task.Run, a Parallel loop), neither can go on. Code on such a thread runs uncontrolled: take the lock in the flow itself, not in a task it waits for");
            }
        }

        return null;
    }
}
