using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The global lock order for async flows: a flow's ordered holds live on its <see cref="LockOwner"/> record, and
/// every acquisition — async in a flow, or sync on a thread that runs a flow — is checked against both the flow's
/// and the thread's holds before it waits.
/// </summary>
internal static class FlowOrder
{
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

    /// <summary>Checks an ordered async acquisition by <paramref name="flow"/> before it waits.</summary>
    public static void Check(LockPrimitive requested, LockOwner flow)
    {
        if (!s_inUse)
        {
            s_inUse = true;
        }

        int level = requested.OrderLevel;
        if (level <= flow.Held.MaxLevel)
        {
            OnOutOfOrder(flow, Highest(flow), requested);
        }

        var thread = LockOwner.CurrentOrNull;
        if (thread is not null && level <= thread.Held.MaxLevel)
        {
            OnOutOfOrder(flow, thread.Held.Highest()!, requested);
        }
    }

    /// <summary>Checks a sync acquisition against the async locks held by the flow the thread is running.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CheckSyncInFlow(LockPrimitive requested, LockOwner thread)
    {
        var flow = FlowOwnership.CurrentOrNull;
        if (flow is null)
        {
            return;
        }

        int flowMax = flow.Held.MaxLevel;
        if (requested.OrderLevel <= flowMax)
        {
            OnOutOfOrder(flow, Highest(flow), requested);
        }
        else if (flowMax != int.MinValue && thread.Held.MaxLevel == int.MinValue && LockNesting.Active)
        {
            // The thread holds nothing, so its own stack records no nesting: the flow's latest lock is the outer one.
            RecordUnderFlow(flow, requested);
        }
    }

    private static void RecordUnderFlow(LockOwner flow, LockPrimitive requested)
    {
        Enter(flow);
        var outer = flow.Held.Top;
        Volatile.Write(ref flow.FlowHeldGate, 0);
        if (outer is not null)
        {
            LockNesting.Record(outer, requested);
        }
    }

    /// <summary>Records an ordered async lock the flow now holds.</summary>
    public static void Push(LockOwner flow, LockPrimitive lockPrimitive)
    {
        Enter(flow);
        flow.Held.Push(lockPrimitive);
        Volatile.Write(ref flow.FlowHeldGate, 0);
    }

    /// <summary>Forgets an ordered async lock the flow released.</summary>
    public static void Remove(LockOwner flow, LockPrimitive lockPrimitive)
    {
        Enter(flow);
        flow.Held.Remove(lockPrimitive);
        Volatile.Write(ref flow.FlowHeldGate, 0);
    }

    private static LockPrimitive Highest(LockOwner flow)
    {
        Enter(flow);
        var highest = flow.Held.Highest();
        Volatile.Write(ref flow.FlowHeldGate, 0);
        return highest!;
    }

    // Tasks a flow starts share its record and may take or release ordered locks at once: a tiny spin keeps the
    // stack whole. It is uncontended unless they do.
    private static void Enter(LockOwner flow)
    {
        var spinner = default(SpinWait);
        while (Interlocked.Exchange(ref flow.FlowHeldGate, 1) != 0)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private static void OnOutOfOrder(LockOwner flow, LockPrimitive? held, LockPrimitive requested)
    {
        var action = LocksmithPolicy.OrderViolationAction;
        if (held is null || action == OrderViolationAction.Ignore || ReferenceEquals(held, requested))
        {
            return;
        }

        OrderGuard.Report(flow, held, requested, action);
    }
}
