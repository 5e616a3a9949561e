using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace Locksmith.Postgres;

/// <summary>
/// One waiting acquisition of a distributed lock: what <see cref="PostgresLock.WaitingCount"/> counts, and what the flow's
/// wait slot (<see cref="LockOwner.WaitingFor"/>) shows while it is the flow's latest. Tasks of one flow may wait at once
/// (for two keys, or two locks), so the books keep an entry per acquisition, never one per flow; the deadlock detector and
/// <see cref="DeadlockDetector.CurrentWaits"/> read every entry (<see cref="IAcquisitionWaits"/>), not only the slot's.
/// </summary>
internal sealed class PostgresWait
{
    // Each flow's live waits through any provider, in the order they began, and the one its slot shows. A wait is a slow
    // path (a round trip to the server at least), so one gate for the process costs nothing that counts.
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<LockOwner, FlowWaits> s_byFlow = new();

    private PostgresWait(PostgresLock lockPrimitive, LockOwner flow, AdvisoryKey key, string description, LockMode mode, long since, Thread begunOn)
    {
        Lock = lockPrimitive;
        Flow = flow;
        Key = key;
        Description = description;
        Mode = mode;
        Since = since;
        BegunOn = begunOn;
    }

    public PostgresLock Lock { get; }

    public LockOwner Flow { get; }

    public AdvisoryKey Key { get; }

    /// <summary>What the acquisition names (a keyed lock's <c>'name'[key]</c>).</summary>
    public string Description { get; }

    public LockMode Mode { get; }

    /// <summary>When the wait began (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public long Since { get; }

    /// <summary>The thread the wait began on, as the in-process async waits record it.</summary>
    public Thread BegunOn { get; }

    /// <summary>
    /// Records a wait of <paramref name="flow"/> for <paramref name="key"/>: in its lock's entries, and in the flow's slot,
    /// which shows the latest wait (the runtime keeps one per flow).
    /// </summary>
    public static PostgresWait Begin(PostgresLock lockPrimitive, LockOwner flow, AdvisoryKey key, string description, LockMode mode, long since)
    {
        var wait = new PostgresWait(lockPrimitive, flow, key, description, mode, since, Thread.CurrentThread);
        lock (s_gate)
        {
            if (!s_byFlow.TryGetValue(flow, out var waits))
            {
                s_byFlow[flow] = waits = new FlowWaits();
            }

            waits.Live.Add(wait);
            lockPrimitive.AddWait(wait);
            Show(waits, wait);
        }

        return wait;
    }

    /// <summary>
    /// The wait is over: its entry goes, and when the flow's slot shows it, the slot shows the flow's latest wait still under
    /// way (a sibling's), or nothing. A slot an in-process lock's wait of the flow took since is left to that wait.
    /// </summary>
    public void End()
    {
        lock (s_gate)
        {
            // Begun, and not ended yet: a finally ends each wait once, and nothing else takes a flow's entry out.
            bool found = s_byFlow.TryGetValue(Flow, out var waits);
            Debug.Assert(found, "A wait ends once, after it began.");
            if (waits is null)
            {
                return;
            }

            waits.Live.Remove(this);
            if (ReferenceEquals(waits.Shown, this))
            {
                waits.Shown = null;
                if (ReferenceEquals(Flow.WaitingFor, Lock))
                {
                    if (waits.Live.Count > 0)
                    {
                        Show(waits, waits.Live[^1]);
                    }
                    else
                    {
                        Flow.WaitingFor = null;
                    }
                }
            }

            // After the slot moved on, so a wait listed meanwhile still finds its entry.
            Lock.RemoveWait(this);
            if (waits.Live.Count == 0)
            {
                s_byFlow.Remove(Flow);
            }
        }
    }

    /// <summary>
    /// <paramref name="flow"/>'s wait for <paramref name="lockPrimitive"/> as its slot names it (for a reader of the slot,
    /// which the detector reads only for waits no lock records): the one the slot shows, else its latest for that lock;
    /// null when it waits for none.
    /// </summary>
    public static PostgresWait? Of(LockOwner flow, PostgresLock lockPrimitive)
    {
        lock (s_gate)
        {
            if (!s_byFlow.TryGetValue(flow, out var waits))
            {
                return null;
            }

            if (waits.Shown is { } shown && ReferenceEquals(shown.Lock, lockPrimitive))
            {
                return shown;
            }

            for (int i = waits.Live.Count - 1; i >= 0; i--)
            {
                if (ReferenceEquals(waits.Live[i].Lock, lockPrimitive))
                {
                    return waits.Live[i];
                }
            }

            return null;
        }
    }

    // The start, mode and thread before the lock, as the in-process waits write them: the detector reads the lock first.
    private static void Show(FlowWaits waits, PostgresWait wait)
    {
        var flow = wait.Flow;
        flow.WaitingMode = wait.Mode;
        flow.WaitingSince = wait.Since;
        if (!ReferenceEquals(flow.WaitBegunOn, wait.BegunOn))
        {
            flow.WaitBegunOn = wait.BegunOn;
        }

        flow.WaitingFor = wait.Lock;
        waits.Shown = wait;
    }

    private sealed class FlowWaits
    {
        public readonly List<PostgresWait> Live = new(2);

        public PostgresWait? Shown;
    }
}
