using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Which async flow owns what: a mutable <see cref="LockOwner"/> record carried by an <see cref="AsyncLocal{T}"/>,
/// installed in the acquiring method's frame when the flow takes its first async lock, and *claimed* while the flow
/// holds locks.
/// </summary>
/// <remarks>
/// <para>The context carries either the record itself (the flow holds nothing) or the record's claim view (it holds
/// locks). Both contexts are made once per record and cached on it, so moving between them is a
/// <see cref="ExecutionContext.Restore"/> of a cached context: a loop of acquisitions allocates nothing.</para>
/// <para>The claim view is what makes a lock "held by the current flow": the acquiring method and everything it
/// awaits, calls or starts while it holds a lock see the claim view. A task started while the flow held nothing sees
/// the idle record; when it acquires and finds the record claimed by another task, it is a flow of its own and gets a
/// new record, so sibling tasks never read as owning each other's locks.</para>
/// </remarks>
internal static class FlowOwnership
{
    private static readonly AsyncLocal<object?> s_flow = new();

    /// <summary>The current flow's record while it holds async locks, else null.</summary>
    public static LockOwner? CurrentOrNull
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_flow.Value is ClaimView { Owner: var owner } && Volatile.Read(ref owner.FlowInUse) != 0 ? owner : null;
    }

    /// <summary>
    /// The current flow's record, claimed (and installed, if the flow has none) in the calling frame. Called
    /// synchronously by <c>AcquireAsync</c>, before any await, so the caller's frame carries it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LockOwner Enter() =>
        s_flow.Value is ClaimView { Owner: var owner } && Volatile.Read(ref owner.FlowInUse) != 0 ? owner : EnterSlow();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner EnterSlow()
    {
        var value = s_flow.Value;
        if (value is ClaimView { Owner: var stale })
        {
            // This frame claimed the record and its last lock was released in a frame it called: claim it again.
            if (Interlocked.CompareExchange(ref stale.FlowInUse, 1, 0) == 0)
            {
                return stale;
            }

            return Install();
        }

        if (value is LockOwner idle && Interlocked.CompareExchange(ref idle.FlowInUse, 1, 0) == 0)
        {
            var current = ExecutionContext.Capture();
            if (current is not null && ReferenceEquals(current, idle.FlowIdleContext) && idle.FlowClaimedContext is { } claimed)
            {
                ExecutionContext.Restore(claimed);
            }
            else
            {
                // The flow changed its context since: cache the pair for this one.
                idle.FlowIdleContext = current;
                s_flow.Value = idle.FlowClaimView;
                idle.FlowClaimedContext = ExecutionContext.Capture();
            }

            return idle;
        }

        // No record, or one another task of the flow has claimed: a flow of its own.
        return Install();
    }

    private static LockOwner Install()
    {
        var owner = LockOwner.CreateFlow();
        owner.FlowInUse = 1;
        owner.FlowClaimView = new ClaimView(owner);
        s_flow.Value = owner;
        owner.FlowIdleContext = ExecutionContext.Capture();
        s_flow.Value = owner.FlowClaimView;
        owner.FlowClaimedContext = ExecutionContext.Capture();
        return owner;
    }

    /// <summary>The flow took a lock: one more hold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Held(LockOwner owner) => Interlocked.Increment(ref owner.FlowHoldCount);

    /// <summary>The flow released a lock. When it holds none, its record goes back to idle.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Released(LockOwner owner)
    {
        if (Interlocked.Decrement(ref owner.FlowHoldCount) == 0)
        {
            Unclaim(owner);
        }
    }

    /// <summary>An acquisition that ended without a hold: the record goes back to idle if the flow holds nothing.</summary>
    public static void NotHeld(LockOwner owner)
    {
        if (Volatile.Read(ref owner.FlowHoldCount) == 0)
        {
            Unclaim(owner);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Unclaim(LockOwner owner)
    {
        if (Interlocked.CompareExchange(ref owner.FlowInUse, 0, 1) != 1)
        {
            return;
        }

        var current = ExecutionContext.Capture();
        if (current is null)
        {
            return;
        }

        if (ReferenceEquals(current, owner.FlowClaimedContext) && owner.FlowIdleContext is { } idle)
        {
            ExecutionContext.Restore(idle);
        }
        else if (s_flow.Value is ClaimView view && ReferenceEquals(view.Owner, owner))
        {
            // The frame changed its context during the hold: tasks it starts from now on must see the idle record.
            s_flow.Value = owner;
        }
    }

    /// <summary>What the context carries while its flow holds locks.</summary>
    private sealed class ClaimView(LockOwner owner)
    {
        public readonly LockOwner Owner = owner;
    }
}
