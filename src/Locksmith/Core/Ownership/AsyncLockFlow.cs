using System;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Makes the calling async method the owner of the async locks that the helpers it calls next acquire. Use it when a
/// helper returns a scope (<c>var scope = await TakeLedgerAsync();</c>) and the caller holds no async lock yet.
/// </summary>
/// <remarks>
/// <para>A .NET execution context set inside an async method never flows back to its caller, so a helper that takes
/// the flow's first async lock owns it alone: in the caller, <c>IsHeldByCurrentFlow</c> is false, asking for the
/// same lock again waits for the helper's hold instead of throwing <see cref="LockRecursionException"/>, and the
/// global order does not see it. <see cref="Begin"/> claims the flow's ownership in the caller's frame before it calls
/// the helper, so the helper's acquisitions join the caller's flow, exactly as when the caller already holds a lock.</para>
/// <para>Like a held lock, the claim is shared by everything the method awaits, calls or starts while it lasts: two
/// tasks started inside it that take the same lock are the same flow taking it twice, and the second throws
/// <see cref="LockRecursionException"/>. Begin the flow where one logical operation starts, not around work that runs
/// in parallel.</para>
/// </remarks>
public static class AsyncLockFlow
{
    /// <summary>
    /// Claims the current async flow's lock ownership in the calling frame until the returned scope is disposed. Call
    /// it synchronously in the async method that will hold the locks (<c>using var flow = AsyncLockFlow.Begin();</c>),
    /// before the calls that acquire them.
    /// </summary>
    /// <returns>A scope whose <c>Dispose</c> ends the claim (the locks acquired under it stay held until their own scopes are disposed).</returns>
    public static AsyncLockFlowScope Begin()
    {
        var flow = FlowOwnership.Enter();
        return new AsyncLockFlowScope(flow, flow.FlowCurrentView, BeginPeriod(flow));
    }

    /// <summary>Counts one more begun flow on the record; returns the period it belongs to (a new one if none was begun).</summary>
    private static int BeginPeriod(LockOwner flow)
    {
        long begun = Volatile.Read(ref flow.FlowBegun);
        while (true)
        {
            int period = (int)(begun >> 32);
            if ((int)begun == 0)
            {
                period++;
            }

            long next = ((long)period << 32) | (uint)((int)begun + 1);
            long seen = Interlocked.CompareExchange(ref flow.FlowBegun, next, begun);
            if (seen == begun)
            {
                return period;
            }

            begun = seen;
        }
    }
}

/// <summary>
/// The claim <see cref="AsyncLockFlow.Begin"/> made; disposing it ends the claim. A struct, so beginning a flow on a
/// context the thread has claimed on before allocates nothing.
/// </summary>
public readonly struct AsyncLockFlowScope : IDisposable
{
    private readonly LockOwner? _flow;
    private readonly FlowOwnership.ClaimView? _view;
    private readonly int _period;

    internal AsyncLockFlowScope(LockOwner flow, FlowOwnership.ClaimView? view, int period)
    {
        _flow = flow;
        _view = view;
        _period = period;
    }

    /// <summary>The id of the flow the claim belongs to (flow ids start at 2^30, as in <see cref="DeadlockEdge"/>); 0 for the default scope.</summary>
    public int FlowId => _flow?.OwnerId ?? 0;

    /// <summary>Ends the claim. The default scope does nothing.</summary>
    /// <exception cref="SynchronizationLockException">The claim was ended already (the scope, or a copy of it, disposed twice).</exception>
    public void Dispose()
    {
        if (_flow is not { } flow)
        {
            return;
        }

        // The claim is live while the record's current view is the one it began with and it counts holds; a scope
        // disposed twice finds the count of begun flows spent, the claim over, or (the record claimed again through the
        // same view, which comes round every few claims) another period of begun flows, and gives back nothing of another's.
        if (!ReferenceEquals(Volatile.Read(ref flow.FlowCurrentView), _view) || flow.FlowHoldCount == 0 || !TakeBegun(flow, _period))
        {
            ThrowHelper.ThrowAsyncLockFlowEnded(flow.OwnerId);
        }

        FlowOwnership.Released(flow);
    }

    private static bool TakeBegun(LockOwner flow, int period)
    {
        long begun = Volatile.Read(ref flow.FlowBegun);
        while ((int)begun > 0 && (int)(begun >> 32) == period)
        {
            long seen = Interlocked.CompareExchange(ref flow.FlowBegun, begun - 1, begun);
            if (seen == begun)
            {
                return true;
            }

            begun = seen;
        }

        return false;
    }
}
