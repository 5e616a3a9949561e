using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Which async flow owns what: while a flow holds async locks, its execution context carries a <em>claim view</em> of
/// a mutable <see cref="LockOwner"/> record; the record counts the flow's holds and keeps its ordered locks.
/// </summary>
/// <remarks>
/// <para>The acquiring method claims a record synchronously (in <c>AcquireAsync</c>, before any await), so the claim
/// is visible in that method and in everything it awaits, calls or starts while it holds a lock; a helper called by a
/// flow that holds a lock shares its record, so what the helper takes, the caller holds. When the flow's last lock
/// is released in the frame that claimed, the context goes back to the one before the claim and the record goes to a
/// small per-thread cache, keyed by that context.</para>
/// <para>Nothing allocates in steady state: each record rotates through a few claim views, and each view caches the
/// pair of contexts (before, after) it was made for, so a claim and its end are two <see cref="ExecutionContext.Restore"/>s
/// of cached contexts. The rotation is also what keeps flows apart: a task started inside a hold carries that hold's
/// view, and once the record is claimed again (by its flow or, from the cache, by another) that view is stale, so the
/// task is a flow of its own rather than a sharer of someone else's locks. Tasks started while the flow holds nothing
/// carry no view at all.</para>
/// </remarks>
internal static class FlowOwnership
{
    private const int ViewCount = 4;
    private const int CacheSize = 4;

    private static readonly AsyncLocal<ClaimView?> s_flow = new();

    [ThreadStatic]
    private static LockOwner?[]? t_cache;

    /// <summary>The current flow's record while it holds async locks, else null.</summary>
    public static LockOwner? CurrentOrNull
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_flow.Value is { Owner: var owner } view && ReferenceEquals(owner.FlowCurrentView, view) && Volatile.Read(ref owner.FlowInUse) != 0 ? owner : null;
    }

    /// <summary>
    /// The current flow's record, claimed in the calling frame if the flow holds nothing yet. Called synchronously by
    /// <c>AcquireAsync</c>, before any await, so the caller's frame carries the claim.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LockOwner Enter()
    {
        var view = s_flow.Value;
        return view is { Owner: var owner } && ReferenceEquals(owner.FlowCurrentView, view) && Volatile.Read(ref owner.FlowInUse) != 0
            ? owner
            : EnterSlow(view);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner EnterSlow(ClaimView? view)
    {
        if (view is { Owner: var previous } && ReferenceEquals(previous.FlowCurrentView, view) &&
            Interlocked.CompareExchange(ref previous.FlowInUse, 1, 0) == 0)
        {
            if (ReferenceEquals(previous.FlowCurrentView, view))
            {
                // This frame's claim, whose last lock was released in a frame it called: claim it again as it is.
                return previous;
            }

            // Taken and let go by another flow in between: this view is stale after all.
            Volatile.Write(ref previous.FlowInUse, 0);
        }

        var current = ExecutionContext.Capture();
        var owner = TakeCached(current) ?? NewRecord();
        Claim(owner, current);
        return owner;
    }

    private static LockOwner NewRecord()
    {
        var owner = LockOwner.CreateFlow();
        owner.FlowInUse = 1;
        owner.FlowViews = new ClaimView?[ViewCount];
        return owner;
    }

    private static void Claim(LockOwner owner, ExecutionContext? current)
    {
        int index = (owner.FlowViewIndex + 1) & (ViewCount - 1);
        owner.FlowViewIndex = index;
        var view = owner.FlowViews![index] ??= new ClaimView(owner);
        owner.FlowCurrentView = view;
        owner.FlowBase = current;
        if (current is not null && ReferenceEquals(view.From, current) && view.To is { } claimed)
        {
            ExecutionContext.Restore(claimed);
            return;
        }

        s_flow.Value = view;
        view.From = current;
        view.To = ExecutionContext.Capture();
    }

    /// <summary>The flow took a lock: one more hold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Held(LockOwner owner) => Interlocked.Increment(ref owner.FlowHoldCount);

    /// <summary>The flow released a lock. When it holds none, its claim ends.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Released(LockOwner owner)
    {
        if (Interlocked.Decrement(ref owner.FlowHoldCount) == 0)
        {
            Unclaim(owner);
        }
    }

    /// <summary>An acquisition that ended without a hold: the claim ends if the flow holds nothing.</summary>
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
        var view = owner.FlowCurrentView;
        if (view is null || Interlocked.CompareExchange(ref owner.FlowInUse, 0, 1) != 1)
        {
            return;
        }

        var current = ExecutionContext.Capture();
        if (current is null)
        {
            return;
        }

        if (ReferenceEquals(current, view.To) && view.From is { } before)
        {
            ExecutionContext.Restore(before);
            Cache(owner);
        }
        else if (ReferenceEquals(s_flow.Value, view))
        {
            // The frame changed its context during the hold: take the view off so tasks it starts now hold nothing.
            s_flow.Value = null;
        }

        // Otherwise released in a frame the claiming frame called: that frame still carries the view and claims the
        // record again on its next acquisition, unless another flow took the record from the cache first.
    }

    private static LockOwner? TakeCached(ExecutionContext? current)
    {
        var cache = t_cache;
        if (cache is null || current is null)
        {
            return null;
        }

        for (int i = 0; i < cache.Length; i++)
        {
            var owner = cache[i];
            if (owner is not null && ReferenceEquals(owner.FlowBase, current))
            {
                cache[i] = null;
                if (Interlocked.CompareExchange(ref owner.FlowInUse, 1, 0) == 0)
                {
                    return owner;
                }
            }
        }

        return null;
    }

    private static void Cache(LockOwner owner)
    {
        var cache = t_cache ??= new LockOwner?[CacheSize];
        int free = -1;
        for (int i = 0; i < cache.Length; i++)
        {
            if (ReferenceEquals(cache[i], owner))
            {
                return;
            }

            if (free < 0 && (cache[i] is null || Volatile.Read(ref cache[i]!.FlowInUse) != 0))
            {
                free = i;
            }
        }

        cache[free < 0 ? (int)((uint)owner.OwnerId % CacheSize) : free] = owner;
    }

    /// <summary>What a flow's context carries while it holds locks: one of its record's few views.</summary>
    internal sealed class ClaimView(LockOwner owner)
    {
        public readonly LockOwner Owner = owner;

        /// <summary>The context the view was made on (the flow's context before the claim).</summary>
        public ExecutionContext? From;

        /// <summary>That context with this view: the flow's context during the claim.</summary>
        public ExecutionContext? To;
    }
}
