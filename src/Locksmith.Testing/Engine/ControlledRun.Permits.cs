using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith.Testing.Engine;

/// <summary>
/// Who holds a <see cref="CountingSemaphore"/>'s permits. A permit names no holder and any thread may give it back, so
/// the run keeps the books itself, from what the semaphore reports: the permits each acquisition took (none for a failed
/// try, a timeout or a cancellation; two for <c>Acquire(2)</c>) and each release gave back. A flow's are counted on the
/// flow; those of code outside the run (a <c>Task.Run</c> body, a timer's callback) by the async flow or thread that
/// took them, so an async hold given back on another pool thread still cancels out; and code outside the run never
/// counts as holding more than the semaphore misses from its pool (the most permits the run saw free) beyond the flows'
/// and the builder's permits.
/// </summary>
internal sealed partial class ControlledRun
{
    // Outside the run: permits held and acquisitions under way, by semaphore and taker. Under its own lock, which is taken
    // under the scheduler's gate and under a semaphore's (a grant), and takes neither: such threads call in at any time.
    private readonly object _permitGate = new();
    // By semaphore weakly, as a flow's books: a signal's giver outside the run keeps an entry below zero for good.
    private readonly ConditionalWeakTable<CountingSemaphore, Dictionary<object, OutsideTaker>> _outsidePermits = [];

    // The thread that asked for each async flow record's permits: a grant is made on the releasing thread, and a report
    // names the thread that asked. Weakly: a task outside the run may claim a new record in every round of a long loop.
    private readonly ConditionalWeakTable<LockOwner, Thread> _outsideAskers = [];

    void ISchedulingController.PermitsTaken(CountingSemaphore semaphore, int count, LockOwner? grantee)
    {
        if (CurrentFlow() is null)
        {
            _poolNoteObserver?.Invoke(semaphore);
        }

        // Free before this take (more if permits came back since, which only makes the pool larger: never a deadlock).
        NotePool(semaphore, semaphore.CurrentCount + count);

        // A grant goes to a queued async waiter, always outside the run (a flow waits for its turn, never in the queue).
        if (grantee is null && CurrentFlow() is { } flow)
        {
            lock (_gate)
            {
                flow.Permits.Add(semaphore, count);
            }

            return;
        }

        lock (_permitGate)
        {
            var taker = OutsideTakerLocked(semaphore, grantee ?? OutsideKey(), grantee is null ? Thread.CurrentThread : (_outsideAskers.TryGetValue(grantee, out var asker) ? asker : null));
            taker.Held += count;
            ForgetIfSettledLocked(semaphore, grantee ?? OutsideKey(), taker);

            // The attempt that took them is over as an attempt, in the same step: counted both ways meanwhile, one
            // permit would count twice. Its end, still to come, then finds it settled.
            if (grantee is null && TakerOrNullLocked(semaphore, Thread.CurrentThread) is { Attempts: > 0 } attempt)
            {
                attempt.Attempts--;
                attempt.Settled++;
            }
        }

        if (grantee is null)
        {
            _outsidePermitsTakenObserver?.Invoke(this, semaphore);
        }
    }

    void ISchedulingController.AcquireEnded(CountingSemaphore semaphore)
    {
        if (CurrentFlow() is not null)
        {
            return;
        }

        // An attempt begins and ends on one thread, in one call: keyed by the thread, whatever the flow record did meanwhile.
        lock (_permitGate)
        {
            if (TakerOrNullLocked(semaphore, Thread.CurrentThread) is { } taker)
            {
                if (taker.Settled > 0)
                {
                    taker.Settled--;
                }
                else if (taker.Attempts > 0)
                {
                    taker.Attempts--;
                }

                ForgetIfSettledLocked(semaphore, Thread.CurrentThread, taker);
            }
        }

        // The scheduler may be waiting for what this attempt would take: if it took nothing, a flow waiting for a permit
        // with every flow blocked is a deadlock now, not after the idle period. Never under a semaphore's gate here.
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    void ISchedulingController.PermitsReturned(CountingSemaphore semaphore, int count, int freeAfter)
    {
        if (CurrentFlow() is null)
        {
            _poolNoteObserver?.Invoke(semaphore);
        }

        // What the release's own compare-and-swap left free: its permits and any that were free or added just before.
        // Read now, the count may be lower already: waiters outside the run take their permits on their own threads (or
        // are handed them on the releasing one), and each of their notes, read after the others took, may see fewer free
        // too; two releases at the same instant whose permits such waiters took before either looked would each read one.
        // A pool read low counts their permits as back and a flow's wait for them as a deadlock.
        NotePool(semaphore, Math.Max(semaphore.CurrentCount, freeAfter));
        if (CurrentFlow() is { } flow)
        {
            lock (_gate)
            {
                // Beyond all that the flows and the builder hold by the books, a flow gives back a permit code outside the
                // run took (handed to the flow to give back), or adds one (a signal, which the pool counts): that frees none
                // of the flows' for outside code to hold, so it is not booked below zero.
                int inRun = FlowsNetPermitsLocked(semaphore) + CallerPermitsKept(semaphore);
                flow.Permits.Add(semaphore, -Math.Min(count, Math.Max(0, inRun)));
            }

            return;
        }

        // The gate first, as everywhere (a return outside the run holds no lock of the semaphore's here): the flows' books
        // say whether a permit given back beyond the taker's own was a flow's.
        lock (_gate)
        {
            lock (_permitGate)
            {
                object key = OutsideKey();
                var taker = OutsideTakerLocked(semaphore, key, Thread.CurrentThread);
                GrowPoolIfOwnCameBackLocked(semaphore, Math.Min(count, Math.Max(0, taker.Held)), count);
                int beyond = count - Math.Max(0, taker.Held);
                int flowsOwn = FlowsNetPermitsLocked(semaphore);
                if (beyond > 0 && flowsOwn > 0)
                {
                    // What this taker gives back beyond its own was a flow's (handed to it), or, when other code outside
                    // the run holds some too, maybe theirs: the run cannot tell, and counts it as the flows', since counted
                    // as theirs, a permit taken outside since would read as a flow's, and a wait for it as a deadlock.
                    // The flow's books still count it: keep it apart.
                    int flows = Math.Min(beyond, flowsOwn);
                    _flowPermitsBackOutside.GetOrCreateValue(semaphore).Value += flows;
                    taker.Held -= count - flows;
                }
                else
                {
                    taker.Held -= count;
                }

                ForgetIfSettledLocked(semaphore, key, taker);
            }
        }
    }

    /// <summary>
    /// Before a taker outside the run gives back <paramref name="own"/> permits it holds by the books: when the books hold
    /// more permits outside than the semaphore misses, the run read some as come back by other code (a return beyond its
    /// giver's own, which it counts as a give-back, not as a signal). If this taker's were among them, its release now is
    /// one beyond what it holds, a signal; if that earlier return was a signal, the pool grew then. Either way the pool is
    /// that much larger than the run read, and read low it would count permits other takers still hold as back and a
    /// flow's wait for them as a deadlock (two signals each taken before the next: the run never saw two free at once).
    /// Under the gate and the permit gate.
    /// </summary>
    private void GrowPoolIfOwnCameBackLocked(CountingSemaphore semaphore, int own, int count)
    {
        if (own <= 0)
        {
            return;
        }

        int booked = 0;
        int caller = 0;
        foreach (var (key, other) in TakersLocked(semaphore))
        {
            if (IsCallerTaker(key, other))
            {
                caller += Math.Max(0, other.Held);
            }
            else
            {
                booked += Math.Max(0, other.Held);
            }
        }

        // As the books read just before this release (its permits are in the count already).
        int pool = PoolOf(semaphore);
        int missing = pool - (semaphore.CurrentCount - count) - FlowsNetPermitsLocked(semaphore) - caller;
        int cameBack = booked - Math.Max(0, missing);
        if (cameBack > 0)
        {
            NotePool(semaphore, pool + Math.Min(own, cameBack));
        }
    }

    // By semaphore, weakly: the flows' permits that code outside the run gave back (a flow handed its permit to a task or
    // thread to release), which the flows' books still count. Under the gate.
    private readonly ConditionalWeakTable<CountingSemaphore, StrongBox<int>> _flowPermitsBackOutside = [];

    // By semaphore, weakly: the most permits the run has seen free (first seen before any acquisition took one: every
    // acquisition's scheduling point notes it first). The semaphore's pool, where MaxCount is only its bound: a semaphore
    // made with fewer free than its maximum misses only what was taken from its pool.
    private readonly ConditionalWeakTable<CountingSemaphore, StrongBox<int>> _pools = [];

    /// <summary>
    /// Notes <paramref name="free"/> permits of <paramref name="semaphore"/> free, or once free (a count read before an
    /// acquisition that took some). The first note of a semaphore reads its count itself, before anything took from it.
    /// Any thread, any lock.
    /// </summary>
    private void NotePool(CountingSemaphore semaphore, int free)
    {
        var pool = _pools.GetValue(semaphore, static s => new StrongBox<int>(s.CurrentCount));
        int seen = Volatile.Read(ref pool.Value);
        while (free > seen)
        {
            int was = Interlocked.CompareExchange(ref pool.Value, free, seen);
            if (was == seen)
            {
                break;
            }

            seen = was;
        }
    }

    /// <summary>
    /// The pool of <paramref name="semaphore"/>: the most permits the run has seen free, at most its maximum. Permits
    /// taken from it and not back are missing; a release beyond it (a signal) grew it.
    /// </summary>
    private int PoolOf(CountingSemaphore semaphore)
    {
        NotePool(semaphore, semaphore.CurrentCount);
        return Math.Min(semaphore.MaxCount, _pools.TryGetValue(semaphore, out var pool) ? Volatile.Read(ref pool.Value) : semaphore.MaxCount);
    }

    /// <summary>The permits of <paramref name="semaphore"/> the flows hold by their books, less those code outside the run gave back for them.</summary>
    private int FlowsNetPermitsLocked(CountingSemaphore semaphore)
    {
        int held = 0;
        foreach (var flow in _flows)
        {
            held += flow.Permits.GetValueOrDefault(semaphore);
        }

        return _flowPermitsBackOutside.TryGetValue(semaphore, out var back) ? held - back.Value : held;
    }

    /// <summary>
    /// Forgets a taker outside the run that holds none, asks none and has no attempt to settle: an entry of zeros counts as
    /// none in every sum, and short-lived semaphores or takers would otherwise stay in the books for the whole run.
    /// </summary>
    private void ForgetIfSettledLocked(CountingSemaphore semaphore, object key, OutsideTaker taker)
    {
        if (taker is { Held: 0, Attempts: 0, Settled: 0 } && _outsidePermits.TryGetValue(semaphore, out var takers))
        {
            takers.Remove(key);
            if (takers.Count == 0)
            {
                _outsidePermits.Remove(semaphore);
            }
        }
    }

    /// <summary>The takers outside the run of <paramref name="semaphore"/>, by async flow record or thread (none: empty). Under the permit gate.</summary>
    private Dictionary<object, OutsideTaker> TakersLocked(CountingSemaphore semaphore) =>
        _outsidePermits.TryGetValue(semaphore, out var takers) ? takers : s_noTakers;

    private static readonly Dictionary<object, OutsideTaker> s_noTakers = [];

    /// <summary>The taker <paramref name="key"/> of <paramref name="semaphore"/> outside the run, if booked. Under the permit gate.</summary>
    private OutsideTaker? TakerOrNullLocked(CountingSemaphore semaphore, object key) =>
        TakersLocked(semaphore).TryGetValue(key, out var taker) ? taker : null;

    /// <summary>A thread outside the run is about to try for permits of <paramref name="semaphore"/>.</summary>
    private void OutsideAttemptBegins(CountingSemaphore semaphore)
    {
        lock (_permitGate)
        {
            OutsideTakerLocked(semaphore, Thread.CurrentThread, Thread.CurrentThread).Attempts++;
            if (FlowOwnership.CurrentOrNull is { } record)
            {
                _outsideAskers.AddOrUpdate(record, Thread.CurrentThread);
            }
        }
    }

    /// <summary>The flow of this run the calling thread runs, if any.</summary>
    private FlowState? CurrentFlow() => s_current.Value is { } flow && ReferenceEquals(flow.Run, this) ? flow : null;

    /// <summary>
    /// Who takes or gives back permits outside the run: the async flow holding locks here (its hold may be given back on
    /// another pool thread, within the same flow), else the thread.
    /// </summary>
    private static object OutsideKey() => FlowOwnership.CurrentOrNull ?? (object)Thread.CurrentThread;

    private OutsideTaker OutsideTakerLocked(CountingSemaphore semaphore, object key, Thread? thread)
    {
        var takers = _outsidePermits.GetValue(semaphore, static _ => new Dictionary<object, OutsideTaker>(ReferenceEqualityComparer.Instance));
        if (!takers.TryGetValue(key, out var taker))
        {
            taker = new OutsideTaker();
            takers[key] = taker;
        }

        taker.Thread = thread ?? taker.Thread;
        return taker;
    }

    /// <summary>Whether the semaphore <paramref name="flow"/> waits for has permits that code outside the run holds.</summary>
    private bool HasOutsidePermits(FlowState flow) => flow.WaitingOn is CountingSemaphore semaphore && OutsidePermitsKept(semaphore) > 0;

    /// <summary>
    /// The permits of <paramref name="semaphore"/> code outside the run holds now, counting an acquisition still under way
    /// (not one parked in its wait, which holds nothing yet) as one, and never more held than the semaphore misses beyond
    /// the flows' and the builder's. The builder's thread is no thread outside the run: it waits for the run's end. Under
    /// the gate (it reads the flows' books).
    /// </summary>
    private int OutsidePermitsKept(CountingSemaphore semaphore)
    {
        var books = OutsidePermitBooksLocked(semaphore, named: false);
        return books.Held + books.Attempting;
    }

    /// <summary>
    /// What code outside the run holds of <paramref name="semaphore"/>, as <see cref="OutsidePermitsKept(CountingSemaphore)"/>
    /// counts it, with the permits before the cap, and (when <paramref name="named"/>) the names of the takers and askers.
    /// </summary>
    private OutsidePermitBooks OutsidePermitBooksLocked(CountingSemaphore semaphore, bool named)
    {
        int taken = 0;
        int takers = 0;
        int attempting = 0;
        var holders = new List<string>();
        var attempters = new List<string>();

        // What the semaphore itself misses from its pool is the ground truth: a permit booked under one taker and given
        // back under another (a sync Acquire in an async method holding no async lock, released after an await on another
        // thread) must not count as held once it is back. The flows' books are net of what they handed each other, and of
        // what code outside the run gave back for them, so as never to count fewer missing permits than code outside the
        // run may hold: too few would call a wait for them a deadlock. A flow's give-back beyond all theirs is not booked:
        // it is an outside taker's permit come back, or a signal, which grew the pool.
        int missing = PoolOf(semaphore) - semaphore.CurrentCount - FlowsNetPermitsLocked(semaphore);
        var asking = new List<(Thread Thread, int Attempts, string? Name)>();
        lock (_permitGate)
        {
            foreach (var (key, taker) in TakersLocked(semaphore))
            {
                if (IsCallerTaker(key, taker))
                {
                    missing -= Math.Max(0, taker.Held);
                    continue;
                }

                // Per taker: one that only gave back (a signal) holds none; the sum is capped by what is missing below.
                string? name = named ? taker.Thread?.Name : null;
                if (taker.Held > 0)
                {
                    taken += taker.Held;
                    takers++;
                    AddName(holders, name);
                }

                if (taker.Attempts > 0 && key is Thread thread)
                {
                    asking.Add((thread, taker.Attempts, name));
                }
            }
        }

        // An attempt parked in the semaphore's queue holds nothing; one that reads as waiting there may have been woken
        // and taken its permits (not booked until it returns). Asked after the permit gate: the check takes the semaphore's.
        foreach (var (thread, attempts, name) in asking)
        {
            if (!ParkedInQueueLocked(thread.ManagedThreadId, semaphore))
            {
                attempting += attempts;
                AddName(attempters, name);
            }
        }

        holders.Sort(StringComparer.Ordinal);
        attempters.Sort(StringComparer.Ordinal);
        return new OutsidePermitBooks(Math.Min(taken, Math.Max(0, missing)), taken, takers, holders, attempting, attempters);

        static void AddName(List<string> names, string? name)
        {
            if (name is not null && !names.Contains(name))
            {
                names.Add(name);
            }
        }
    }

    /// <summary>For tests: the permits of <paramref name="semaphore"/> code outside the run holds now, as a wait would count them.</summary>
    internal int OutsidePermitsKeptNow(CountingSemaphore semaphore)
    {
        lock (_gate)
        {
            return OutsidePermitsKept(semaphore);
        }
    }

    /// <summary>
    /// Who outside the run has permits of a semaphore a flow waits for, as a clause after its name: the takers of the
    /// permits counted, then the acquisitions under way (counted because they may take one any moment; they hold none yet).
    /// When the semaphore's count cut the takers' permits, it cannot tell whose came back: it names them as "one of" (or
    /// "some of") the takers and says how the count came about, so it never names more holders than permits.
    /// </summary>
    private static string DescribeOutsidePermits(OutsidePermitBooks books)
    {
        var c = CultureInfo.InvariantCulture;
        const string Queued = "holding none and not yet waiting in the semaphore's queue,";
        string asking = books.Attempting == 1
            ? $"a thread that is not a flow of this run{Named(books.Askers)} was acquiring"
            : $"threads that are not flows of this run{Named(books.Askers)} were acquiring";
        if (books.Held == 0)
        {
            return $"whose permit{(books.Attempting == 1 ? string.Empty : "s")} {asking}, {Queued}";
        }

        string who = books.Takers <= 1
            ? "a thread that is not a flow of this run"
            : books.Takers > books.Held
                ? (books.Held == 1 ? "one of the threads" : "some of the threads") + " that are not flows of this run"
                : "threads that are not flows of this run";
        string count = books.Held < books.Taken
            ? string.Create(c, $" ({(books.Held == 1 ? string.Empty : $"{books.Held} permits: ")}{(books.Takers <= 1 ? "it" : "they")} took {books.Taken}, and {books.Taken - books.Held} came back by other code)")
            : books.Held == 1 ? string.Empty : string.Create(c, $" ({books.Held} permits)");
        string took = $"whose permit{(books.Held == 1 ? string.Empty : "s")} {who}{Named(books.Holders)} took and did not give back{count}";
        return books.Attempting == 0 ? took : $"{took}, while {asking} {(books.Attempting == 1 ? "one" : "some")}, {Queued}";

        static string Named(List<string> names) => names.Count == 0 ? string.Empty : $" ('{string.Join("', '", names)}')";
    }

    /// <summary>The permits of <paramref name="semaphore"/> the code running the scenario holds (the builder took them).</summary>
    private int CallerPermitsKept(CountingSemaphore semaphore)
    {
        int kept = 0;
        lock (_permitGate)
        {
            foreach (var (key, taker) in TakersLocked(semaphore))
            {
                if (IsCallerTaker(key, taker))
                {
                    kept += taker.Held;
                }
            }
        }

        return Math.Max(0, kept);
    }

    private bool IsCallerTaker(object key, OutsideTaker taker) =>
        ReferenceEquals(key, _callerRecord) || (key is Thread thread ? thread : taker.Thread)?.ManagedThreadId == _callerThreadId;

    /// <summary>The live flows holding permits of <paramref name="semaphore"/>, blocked ones first (a cycle goes through them).</summary>
    private List<FlowState> PermitHoldersLocked(CountingSemaphore semaphore)
    {
        var holders = _flows.FindAll(f => f.Status != FlowStatus.Done && f.Permits.GetValueOrDefault(semaphore) > 0);
        holders.Sort(static (x, y) => (x.Status != FlowStatus.Blocked).CompareTo(y.Status != FlowStatus.Blocked) is var byStatus and not 0 ? byStatus : x.Index.CompareTo(y.Index));
        return holders;
    }

    /// <summary>Who holds <paramref name="resource"/>, as a wait's edge names it: every live flow holding a semaphore's permits.</summary>
    private string? HolderNameOf(object? resource) =>
        resource is CountingSemaphore semaphore
            ? PermitHoldersLocked(semaphore) is { Count: > 0 } holders ? string.Join(", ", holders.ConvertAll(static f => f.Name)) : null
            : HolderOf(resource)?.Name;

    /// <summary>
    /// Where the permits of a semaphore a flow waits for are: the live flows holding them, with how many, the builder's,
    /// and those of flows that finished without giving them back. Null when the run knows of none.
    /// </summary>
    private string? ExplainPermitsLocked(CountingSemaphore semaphore, string target)
    {
        var c = CultureInfo.InvariantCulture;
        var live = PermitHoldersLocked(semaphore).ConvertAll(f => string.Create(c, $"{f.Name} holds {f.Permits[semaphore]}"));
        int booked = 0;
        foreach (var flow in _flows)
        {
            booked += Math.Max(0, flow.Permits.GetValueOrDefault(semaphore));
        }

        var finished = new List<string>();
        foreach (var flow in _flows)
        {
            if (flow.Status == FlowStatus.Done && flow.Permits.GetValueOrDefault(semaphore) is > 0 and var kept)
            {
                int takeAt = _trace.FindLastIndex(e => e.Flow == flow.Name && e.Target == target && e.Operation == "acquire");
                string step = takeAt < 0 ? string.Empty : string.Create(c, $"acquired it at step {_trace[takeAt].Step} and ");
                finished.Add(string.Create(c, $"{flow.Name} ({(kept == 1 ? string.Empty : $"{kept} permits; ")}{step}finished without releasing it)"));
            }
        }

        int caller = CallerPermitsKept(semaphore);
        booked += caller;
        if (caller > 0)
        {
            live.Add(string.Create(c, $"the thread running the scenario holds {caller} (the builder took {(caller == 1 ? "it" : "them")} and did not give {(caller == 1 ? "it" : "them")} back: give {(caller == 1 ? "it" : "them")} back in the builder, or take {(caller == 1 ? "it" : "them")} in a flow)"));
        }

        // A permit booked to a taker may have come back by other code (a thread outside the run, a signal): the books then
        // name more permits than the semaphore misses, and cannot tell whose came back. Say so, rather than name more holders.
        int missing = PoolOf(semaphore) - semaphore.CurrentCount;
        string backElsewhere = booked > missing && missing >= 0
            ? string.Create(c, $" (by the books; {booked - missing} of these came back by other code, so {missing} {(missing == 1 ? "is" : "are")} held)")
            : string.Empty;
        if (live.Count == 0)
        {
            return finished.Count == 0 ? null : $"No live flow holds '{target}'; taken and not given back by " + string.Join(", ", finished) + backElsewhere;
        }

        string text = string.Create(c, $"'{target}' has {semaphore.CurrentCount} of {semaphore.MaxCount} permits free: {string.Join("; ", live)}");
        return (finished.Count == 0 ? text : text + "; taken and not given back by " + string.Join(", ", finished)) + backElsewhere;
    }

    /// <summary>
    /// What code outside the run holds of one semaphore: <paramref name="Held"/> permits (capped by what the semaphore
    /// misses), <paramref name="Taken"/> before the cap, by <paramref name="Takers"/> threads or async flows (the named
    /// ones in <paramref name="Holders"/>), and <paramref name="Attempting"/> acquisitions under way (<paramref name="Askers"/>).
    /// </summary>
    private readonly record struct OutsidePermitBooks(int Held, int Taken, int Takers, List<string> Holders, int Attempting, List<string> Askers);

    /// <summary>What code outside the run took of one semaphore, by one async flow or thread.</summary>
    private sealed class OutsideTaker
    {
        /// <summary>Permits taken less given back (below zero for a taker that only gave back: a signal).</summary>
        public int Held { get; set; }

        /// <summary>Acquisitions under way on this thread (keyed by the thread), which may take permits any moment.</summary>
        public int Attempts { get; set; }

        /// <summary>Attempts on this thread that took their permits (no longer counted as attempts) and have yet to end.</summary>
        public int Settled { get; set; }

        /// <summary>The thread seen taking them, for the report's name.</summary>
        public Thread? Thread { get; set; }
    }
}
