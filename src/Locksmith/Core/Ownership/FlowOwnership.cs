using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Which async flow owns what: a mutable <see cref="LockOwner"/> record carried by an <see cref="AsyncLocal{T}"/>,
/// installed in the acquiring method's frame when the flow takes its first async lock and set aside when it holds
/// none again.
/// </summary>
/// <remarks>
/// <para>The record is installed synchronously by the (non-async) <c>AcquireAsync</c> call, so it is visible in the
/// acquiring method and in everything that method awaits or calls afterwards, tasks it starts included. A flow that
/// already has a record when it calls a helper shares it with the helper: a lock the helper takes is then held by
/// the caller too.</para>
/// <para>When the flow's last async lock is released in the frame that installed the record, the record is taken
/// off again (the execution context goes back to the one it was installed on), so tasks the flow starts later get
/// records of their own and never read as owning each other's locks. The record and its context are kept in a
/// thread-static slot and installed again by the next acquisition on the same base context, so a loop of
/// acquisitions allocates nothing.</para>
/// </remarks>
internal static class FlowOwnership
{
    private static readonly AsyncLocal<LockOwner?> s_current = new();

    [ThreadStatic]
    private static LockOwner? t_spare;

    /// <summary>The current flow's record, or null when it holds no async lock.</summary>
    public static LockOwner? CurrentOrNull
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var owner = s_current.Value;
            return owner is not null && Volatile.Read(ref owner.FlowInUse) != 0 ? owner : null;
        }
    }

    /// <summary>
    /// The current flow's record, installed in the calling frame if the flow has none. Called synchronously by
    /// <c>AcquireAsync</c>, before any await, so the caller's frame carries it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LockOwner Enter()
    {
        var owner = s_current.Value;
        return owner is not null && Volatile.Read(ref owner.FlowInUse) != 0 ? owner : Install(owner);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner Install(LockOwner? stale)
    {
        var baseContext = ExecutionContext.Capture();

        // A record this frame set aside (its last lock was released in a frame it called): take it back as it is.
        if (stale is not null && Interlocked.CompareExchange(ref stale.FlowInUse, 1, 0) == 0)
        {
            if (ReferenceEquals(t_spare, stale))
            {
                t_spare = null;
            }

            stale.FlowActivity = Activity.Current;
            return stale;
        }

        var spare = t_spare;
        if (spare is not null)
        {
            t_spare = null;
            if (baseContext is not null && ReferenceEquals(spare.FlowBaseContext, baseContext) &&
                spare.FlowInstalledContext is { } installed && Interlocked.CompareExchange(ref spare.FlowInUse, 1, 0) == 0)
            {
                // The same base context as last time: the context that carries the record is still valid, so reuse it.
                ExecutionContext.Restore(installed);
                spare.FlowActivity = Activity.Current;
                return spare;
            }
        }

        var owner = LockOwner.CreateFlow();
        owner.FlowInUse = 1;
        owner.FlowActivity = Activity.Current;
        s_current.Value = owner;
        owner.FlowBaseContext = baseContext;
        owner.FlowInstalledContext = ExecutionContext.Capture();
        return owner;
    }

    /// <summary>The flow took a lock: one more hold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Held(LockOwner owner) => Interlocked.Increment(ref owner.FlowHoldCount);

    /// <summary>
    /// The flow released a lock (or failed to take one). When it holds none and the current frame is the one that
    /// installed its record, the record is taken off and kept for reuse.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Released(LockOwner owner)
    {
        if (Interlocked.Decrement(ref owner.FlowHoldCount) == 0)
        {
            SetAsideIfIdle(owner);
        }
    }

    /// <summary>An acquisition that ended without a hold: the record may go if the flow holds nothing.</summary>
    public static void NotHeld(LockOwner owner)
    {
        if (Volatile.Read(ref owner.FlowHoldCount) == 0)
        {
            SetAsideIfIdle(owner);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SetAsideIfIdle(LockOwner owner)
    {
        var installed = owner.FlowInstalledContext;
        if (installed is null || !ReferenceEquals(ExecutionContext.Capture(), installed) || owner.FlowBaseContext is not { } baseContext)
        {
            // Released in another frame (or the flow changed its context since): the record stays with the frame
            // that installed it, which takes it back on its next acquisition.
            return;
        }

        if (Interlocked.CompareExchange(ref owner.FlowInUse, 0, 1) == 1)
        {
            owner.FlowActivity = null;
            ExecutionContext.Restore(baseContext);
            t_spare = owner;
        }
    }
}
