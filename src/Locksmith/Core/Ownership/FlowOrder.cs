using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The global lock order for async flows: a flow's ordered holds live on its <see cref="LockOwner"/> record, and
/// every acquisition — async in a flow, or sync on a thread that runs a flow — is checked against both the flow's
/// and the thread's holds before it waits.
/// </summary>
/// <remarks>
/// A flow's holds sit in a small array of entries on its record (<see cref="OrderedHolds"/>): an acquisition claims
/// a free entry with one compare-and-swap (tasks a flow starts share its record and may take locks at once), a
/// release clears its entry with a plain store, and a check takes the highest level among the entries in use. Holds
/// beyond the array go to the record's <see cref="LockOwner.Held"/> stack under a tiny spin gate.
/// </remarks>
internal static class FlowOrder
{
    private const int InlineHolds = 8;

    private static volatile bool s_inUse;

    /// <summary>Whether any flow ever took an ordered async lock; until then sync checks never look at flows.</summary>
    public static bool InUse
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_inUse;
    }

    /// <summary>Notes that flows hold ordered locks, so sync checks start looking at them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MarkInUse()
    {
        if (!s_inUse)
        {
            s_inUse = true;
        }
    }

    /// <summary>The highest level <paramref name="flow"/> holds, or <see cref="int.MinValue"/> (a snapshot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MaxLevel(LockOwner flow)
    {
        int max = flow.Held.MaxLevel;
        var entries = flow.FlowOrdered.Entries;
        if (entries is not null)
        {
            int used = Volatile.Read(ref flow.FlowOrdered.Used);
            for (int i = 0; i < used && i < entries.Length; i++)
            {
                if (Volatile.Read(ref entries[i].Lock) is { } held && held.OrderLevel > max)
                {
                    max = held.OrderLevel;
                }
            }
        }

        return max;
    }

    /// <summary>Whether <paramref name="flow"/> has an entry for <paramref name="lockPrimitive"/> (a snapshot).</summary>
    public static bool Holds(LockOwner flow, LockPrimitive lockPrimitive)
    {
        if (flow.FlowOrdered.Entries is { } entries)
        {
            int used = Volatile.Read(ref flow.FlowOrdered.Used);
            for (int i = 0; i < used && i < entries.Length; i++)
            {
                if (ReferenceEquals(Volatile.Read(ref entries[i].Lock), lockPrimitive))
                {
                    return true;
                }
            }
        }

        EnterGate(flow);
        bool held = flow.Held.Contains(lockPrimitive);
        Volatile.Write(ref flow.FlowHeldGate, 0);
        return held;
    }

    /// <summary>Checks an ordered async acquisition by <paramref name="flow"/> before it waits.</summary>
    /// <param name="requested">The lock asked for.</param>
    /// <param name="flow">The flow asking.</param>
    /// <param name="requestedName">What a violation names as asked for, when more than the lock (a keyed lock's key).</param>
    /// <param name="forSet">Whether <paramref name="requested"/> is the lowest member of a lock set being taken.</param>
    /// <param name="mode">The <c>lock.mode</c> a violation is reported with, when the lock's kind does not tell (a read).</param>
    public static void Check(LockPrimitive requested, LockOwner flow, string? requestedName = null, bool forSet = false, string? mode = null)
    {
        if (!s_inUse)
        {
            s_inUse = true;
        }

        int level = requested.OrderLevel;
        if (level <= MaxLevel(flow))
        {
            OnOutOfOrder(flow, Highest(flow), requested, requestedName: requestedName, forSet: forSet, mode: mode);
        }

        var thread = LockOwner.CurrentOrNull;
        if (thread is not null && level <= thread.Held.MaxLevel)
        {
            OnOutOfOrder(flow, thread.Held.Highest()!, requested, heldByThread: thread, requestedName: requestedName, forSet: forSet, mode: mode);
        }
    }

    /// <summary><see cref="Check"/> for a read of a read-write lock: a violation is reported as a read (its metric's mode, its advice).</summary>
    public static void CheckRead(LockPrimitive requested, LockOwner flow, string? requestedName = null) =>
        Check(requested, flow, requestedName, forSet: false, LockModeTags.Read);

    /// <summary>Checks a sync acquisition against the async locks held by the flow the thread is running.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CheckSyncInFlow(LockPrimitive requested, LockOwner thread, bool forSet = false) =>
        CheckSyncInFlowCore(requested, thread, forSet, mode: null);

    /// <summary><see cref="CheckSyncInFlow(LockPrimitive, LockOwner, bool)"/> for a sync read: a violation is reported as a read.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CheckSyncReadInFlow(LockPrimitive requested, LockOwner thread) =>
        CheckSyncInFlowCore(requested, thread, forSet: false, LockModeTags.Read);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckSyncInFlowCore(LockPrimitive requested, LockOwner thread, bool forSet, string? mode)
    {
        var flow = FlowOwnership.CurrentOrNull;
        if (flow is null)
        {
            return;
        }

        int flowMax = MaxLevel(flow);
        if (requested.OrderLevel <= flowMax)
        {
            OnOutOfOrder(flow, Highest(flow), requested, forSet: forSet, mode: mode);
        }
        else if (flowMax != int.MinValue && thread.Held.MaxLevel == int.MinValue && LockNesting.Active)
        {
            // The thread holds nothing, so its own stack records no nesting: the flow's latest lock is the outer one.
            RecordUnderFlow(flow, requested);
        }
    }

    /// <summary>
    /// Records a sync lock taken while the thread holds <paramref name="threadTop"/> (statistics on): under the later of
    /// that lock and the highest async lock of the flow the thread runs, both taken in rising levels.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RecordSyncNesting(LockPrimitive threadTop, LockPrimitive requested)
    {
        var outer = threadTop;
        if (s_inUse && FlowOwnership.CurrentOrNull is { } flow && Highest(flow) is { } flowHighest && flowHighest.OrderLevel > threadTop.OrderLevel)
        {
            outer = flowHighest;
        }

        LockNesting.Record(outer, requested);
    }

    private static void RecordUnderFlow(LockOwner flow, LockPrimitive requested)
    {
        // Ordered holds are taken in rising levels, so the flow's highest lock is the one it took last.
        if (Highest(flow) is { } outer)
        {
            LockNesting.Record(outer, requested);
        }
    }

    /// <summary>
    /// Records the nesting of an async lock under the lock taken last: the flow's, or a sync lock of the thread it runs
    /// on. Both are taken in rising levels, so the higher of the two is the later.
    /// </summary>
    private static void RecordUnderFlowOrThread(LockOwner flow, LockPrimitive requested)
    {
        var outer = Highest(flow);
        if (LockOwner.AnyThreadRecords && LockOwner.CurrentOrNull?.Held.Top is { } threadOuter && (outer is null || threadOuter.OrderLevel > outer.OrderLevel))
        {
            outer = threadOuter;
        }

        if (outer is not null)
        {
            LockNesting.Record(outer, requested);
        }
    }

    /// <summary>Records an ordered async lock the flow now holds.</summary>
    public static void Push(LockOwner flow, LockPrimitive lockPrimitive)
    {
        if (LockNesting.Active)
        {
            RecordUnderFlowOrThread(flow, lockPrimitive);
        }

        var entries = flow.FlowOrdered.Entries ?? CreateEntries(flow);
        for (int i = 0; i < entries.Length; i++)
        {
            ref var entry = ref entries[i];
            if (entry.Lock is null && Interlocked.CompareExchange(ref entry.Lock, lockPrimitive, null) is null)
            {
                // The high-water mark only grows, once per entry per record: it bounds what a check reads.
                if (i >= Volatile.Read(ref flow.FlowOrdered.Used))
                {
                    RaiseUsed(flow, i + 1);
                }

                return;
            }
        }

        // Past the entries, the holds go on a stack; its own nesting count would repeat the one made above.
        EnterGate(flow);
        flow.Held.PushUnrecorded(lockPrimitive);
        Volatile.Write(ref flow.FlowHeldGate, 0);
    }

    /// <summary>
    /// Records the first ordered async lock of a flow whose acquisition just claimed its record: nothing else can reach
    /// the record yet, so a plain store into the first entry is enough.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PushFirst(LockOwner flow, LockPrimitive lockPrimitive)
    {
        var entries = flow.FlowOrdered.Entries;
        if (entries is null || LockNesting.Active || entries[0].Lock is not null)
        {
            Push(flow, lockPrimitive);
            return;
        }

        Volatile.Write(ref entries[0].Lock, lockPrimitive);
        if (flow.FlowOrdered.Used == 0)
        {
            Volatile.Write(ref flow.FlowOrdered.Used, 1);
        }
    }

    /// <summary>
    /// Forgets an ordered async lock the flow released, one it holds at most once (an exclusive hold or a write): only
    /// its own release can clear its entry, so a store does. A lock held more than once, or a read (a task of the same
    /// flow may read again before the release clears its entry), uses <see cref="RemoveOneOf"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Remove(LockOwner flow, LockPrimitive lockPrimitive)
    {
        // The first entry is where a flow's first ordered hold goes (see PushFirst). Any entry naming the lock will
        // do: entries only say which levels the flow holds.
        if (flow.FlowOrdered.Entries is { } entries && ReferenceEquals(entries[0].Lock, lockPrimitive))
        {
            Volatile.Write(ref entries[0].Lock, null);
            return;
        }

        RemoveSlow(flow, lockPrimitive);
    }

    private static void RemoveSlow(LockOwner flow, LockPrimitive lockPrimitive)
    {
        var entries = flow.FlowOrdered.Entries;
        if (entries is not null)
        {
            // Each entry is the hold of the one acquisition that claimed it, so its release clears it with a store.
            for (int i = System.Math.Min(Volatile.Read(ref flow.FlowOrdered.Used), entries.Length) - 1; i >= 0; i--)
            {
                if (ReferenceEquals(entries[i].Lock, lockPrimitive))
                {
                    Volatile.Write(ref entries[i].Lock, null);
                    return;
                }
            }
        }

        EnterGate(flow);
        flow.Held.Remove(lockPrimitive);
        Volatile.Write(ref flow.FlowHeldGate, 0);
    }

    /// <summary>
    /// Forgets one hold of a lock a flow may hold more than once (a semaphore's permits, each an entry of its own). Two
    /// of its holds released at once see the same entries, so each clears one by a compare-and-swap, and the loser goes
    /// on to the next: a plain store, as <see cref="Remove"/> makes, would let both clear one entry and leave the other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RemoveOneOf(LockOwner flow, LockPrimitive lockPrimitive)
    {
        // The first entry is where a flow's first ordered hold goes: one swap there, as Remove's store, in the common case.
        if (flow.FlowOrdered.Entries is { } first && ReferenceEquals(first[0].Lock, lockPrimitive) &&
            ReferenceEquals(Interlocked.CompareExchange(ref first[0].Lock, null, lockPrimitive), lockPrimitive))
        {
            return;
        }

        RemoveOneOfSlow(flow, lockPrimitive);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RemoveOneOfSlow(LockOwner flow, LockPrimitive lockPrimitive)
    {
        var entries = flow.FlowOrdered.Entries;
        if (entries is not null)
        {
            for (int i = System.Math.Min(Volatile.Read(ref flow.FlowOrdered.Used), entries.Length) - 1; i >= 0; i--)
            {
                if (ReferenceEquals(entries[i].Lock, lockPrimitive) &&
                    ReferenceEquals(Interlocked.CompareExchange(ref entries[i].Lock, null, lockPrimitive), lockPrimitive))
                {
                    return;
                }
            }
        }

        EnterGate(flow);
        flow.Held.Remove(lockPrimitive);
        Volatile.Write(ref flow.FlowHeldGate, 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Entry[] CreateEntries(LockOwner flow)
    {
        Interlocked.CompareExchange(ref flow.FlowOrdered.Entries, new Entry[InlineHolds], null);
        return flow.FlowOrdered.Entries!;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RaiseUsed(LockOwner flow, int used)
    {
        int seen = Volatile.Read(ref flow.FlowOrdered.Used);
        while (seen < used)
        {
            int previous = Interlocked.CompareExchange(ref flow.FlowOrdered.Used, used, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    /// <summary>The held lock with the highest level (the most recent one among equals), for messages.</summary>
    private static LockPrimitive? Highest(LockOwner flow)
    {
        EnterGate(flow);
        var highest = flow.Held.Highest();
        Volatile.Write(ref flow.FlowHeldGate, 0);
        if (flow.FlowOrdered.Entries is { } entries)
        {
            foreach (var entry in entries)
            {
                if (entry.Lock is { } held && (highest is null || held.OrderLevel >= highest.OrderLevel))
                {
                    highest = held;
                }
            }
        }

        return highest;
    }

    // Only the holds beyond the array: tasks a flow starts share its record and may take or release them at once.
    private static void EnterGate(LockOwner flow)
    {
        var spinner = default(SpinWait);
        while (Interlocked.Exchange(ref flow.FlowHeldGate, 1) != 0)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private static void OnOutOfOrder(
        LockOwner flow, LockPrimitive? held, LockPrimitive requested, LockOwner? heldByThread = null, string? requestedName = null, bool forSet = false,
        string? mode = null)
    {
        var action = LocksmithPolicy.OrderViolationAction;
        if (held is null || action == OrderViolationAction.Ignore || ReferenceEquals(held, requested))
        {
            return;
        }

        OrderGuard.Report(flow, held, requested, action, heldByThread, requestedName, forSet, mode);
    }

    /// <summary>A flow's ordered holds (a field of its <see cref="LockOwner"/>, never copied).</summary>
    internal struct OrderedHolds
    {
        /// <summary>The entries, made at the record's first ordered hold and kept with it.</summary>
        public Entry[]? Entries;

        /// <summary>How many entries from the start were ever used: a check reads only those.</summary>
        public int Used;
    }

    /// <summary>One ordered hold; a struct array, so a compare-and-swap on it needs no covariance check.</summary>
    internal struct Entry
    {
        public LockPrimitive? Lock;
    }
}
