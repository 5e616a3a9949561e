using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Which async flow owns what: while a flow holds async locks, its execution context carries a <em>claim view</em> of
/// a mutable <see cref="LockOwner"/> record; the record counts the flow's holds and keeps its ordered locks.
/// </summary>
/// <remarks>
/// <para>Every acquisition starts with <see cref="Enter()"/>, which reserves one hold on the flow's record: the record
/// the context's live view names, or else a record claimed in the calling frame (synchronously, in <c>AcquireAsync</c>,
/// before any await), so the claim is visible in that method and in everything it awaits, calls or starts while it
/// holds a lock; a helper called by a flow that holds a lock shares its record, so what the helper takes, the caller
/// holds. The reservation becomes the hold, or is given back with <see cref="Released"/> if nothing was taken. When the
/// count drops to 0 the claim is over for good (nothing counts up from 0 but a new claim): the frame's context goes
/// back to the one before the claim and the record goes to a small per-thread cache, keyed by that context. A claim
/// from a context with no cached record takes a new one while the cache has room, else moves the least recently
/// cached one to its context (a request's flow has a context of its own, so its first claim is such a claim).</para>
/// <para>A claim costs no interlocked operation: a record in a thread's cache is idle and only that thread takes it,
/// so claiming it is plain stores; sharing a live record is one compare-and-swap, releasing one decrement. Nothing
/// allocates in steady state: each record rotates through a few views, each made for one context (before, after), so
/// a claim and its end are two <see cref="ExecutionContext.Restore"/>s of cached contexts. The rotation is also what
/// keeps flows apart: a task started inside a hold carries that hold's view, and once the claim ends that view is
/// dead, so the task is a flow of its own rather than a sharer of someone else's locks, until a later claim of the
/// record on the context the view was made for (every 4th) makes it live again: then such a task shares that claim's
/// holds. Nothing can tell which views a task captured, so only a fresh view per claim (an allocation) would close
/// this; README documents it, and SuppressFlow as the way out. Tasks started while the flow holds nothing carry no
/// live view.</para>
/// <para>Once a first claim has shown that the thread's context field holds exactly what <see cref="ExecutionContext.Capture"/>
/// and <see cref="ExecutionContext.Restore"/> read and write, a claim from a context the thread's latest cached record was
/// claimed on (a context carrying no view), a share of the thread's latest claim from its own context, and the end of a
/// claim in the frame that made it, read and swap that field directly: the same two contexts, with one thread-static read instead of several. The two contexts differ only in this
/// class's async local, which has no change handler, so skipping <c>Restore</c>'s change notifications skips nothing.</para>
/// </remarks>
internal static class FlowOwnership
{
    private const int ViewCount = 4;
    private const int CacheSize = 4;
    private const int SpacerBytes = 128;

    private static readonly AsyncLocal<ClaimView?> s_flow = new();

    // What the thread's context field holds for the default context, which it stores as null.
    private static readonly object s_defaultOnThread = new();

    // 1 once a claim showed that the thread's context field is what Capture and Restore read and write, -1 if it is
    // not (or the field is missing from this runtime), 0 before the first claim.
    private static int s_directContext;

    [ThreadStatic]
    private static ThreadClaims? t_claims;

    /// <summary>Whether claims read and swap the thread's context field directly (a first claim showed it is safe here).</summary>
    internal static bool ReadsTheThreadContextDirectly => Volatile.Read(ref s_directContext) > 0;

    /// <summary>The current flow's record while it holds async locks, else null.</summary>
    public static LockOwner? CurrentOrNull
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_flow.Value is { Owner: var owner } view && ReferenceEquals(owner.FlowCurrentView, view) && owner.FlowHoldCount != 0 ? owner : null;
    }

    /// <summary>
    /// Takes the claim the current context carries out of it and returns it (null if none), so that a thread or task
    /// started next is a flow of its own, not a sharer of the holds of the code that starts it; <see cref="Reattach"/>
    /// puts it back. For the controlled scheduler, which starts a run's flows from the thread that built the scenario.
    /// </summary>
    internal static ClaimView? Detach()
    {
        var view = s_flow.Value;
        if (view is not null)
        {
            s_flow.Value = null;
        }

        return view;
    }

    /// <summary>Puts back a claim <see cref="Detach"/> took out of the current context.</summary>
    internal static void Reattach(ClaimView? view)
    {
        if (view is not null)
        {
            s_flow.Value = view;
        }
    }

    /// <summary>
    /// The current flow's record with one hold reserved on it, claimed in the calling frame if the flow holds nothing
    /// yet. Called synchronously by <c>AcquireAsync</c>, before any await, so the caller's frame carries the claim. The
    /// caller keeps the reservation as its hold, or gives it back with <see cref="Released"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LockOwner Enter() => Enter(out _);

    /// <inheritdoc cref="Enter()"/>
    /// <param name="claimed">
    /// True when the record was claimed by this call: nothing else can reach it until the caller's acquisition returns,
    /// so the caller may record its hold with plain stores.
    /// </param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LockOwner Enter(out bool claimed) => s_directContext > 0 ? EnterDirect(out claimed) : EnterThroughContext(out claimed);

    /// <summary><see cref="Enter(out bool)"/> through the public context API: the async local, Capture and Restore.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner EnterThroughContext(out bool claimed)
    {
        var view = s_flow.Value;
        if (view is { Owner: var owner } && TryShare(owner, view))
        {
            claimed = false;
            return owner;
        }

        claimed = true;
        return EnterSlow(view);
    }

    /// <summary>
    /// One more hold on the record <paramref name="view"/> names, while that view is its live claim. The count never
    /// rises from 0, and a view that stopped being the record's claim meanwhile gives the hold straight back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryShare(LockOwner owner, ClaimView view)
    {
        long holds = Volatile.Read(ref owner.FlowHolds);
        while ((int)holds > 0 && ReferenceEquals(owner.FlowCurrentView, view))
        {
            long seen = Interlocked.CompareExchange(ref owner.FlowHolds, holds + 1, holds);
            if (seen == holds)
            {
                if (ReferenceEquals(owner.FlowCurrentView, view))
                {
                    return true;
                }

                // The claim ended and the record was claimed again in between: not this flow's record any more.
                Released(owner);
                return false;
            }

            holds = seen;
        }

        return false;
    }

    /// <summary>
    /// <see cref="Enter(out bool)"/> reading the thread's context field, for the two cases most acquisitions are: the
    /// context is the one the thread's latest cached record was claimed on and carries no view (nothing in it can be
    /// shared, and the record's next view was made for it), or the context is the live view of the thread's latest
    /// claim (share it). Anything else goes the general way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LockOwner EnterDirect(out bool claimed)
    {
        if (t_claims is { } claims)
        {
            ref var field = ref ThreadContextField(claims.Thread);
            var onThread = field;
            if (claims.Cache[0] is { FlowBaseViewless: true } owner && ReferenceEquals(owner.FlowBaseOnThread, onThread ?? s_defaultOnThread))
            {
                int index = NextViewIndex(owner);
                if (ReusableView(owner, index, owner.FlowBase) is { } view)
                {
                    claims.Cache[0] = null;
                    owner.FlowViewIndex = index;
                    field = view.To;
                    MakeLive(owner, view);
                    claims.NoteClaim(owner);
                    claimed = true;
                    return owner;
                }
            }
            else if (onThread is not null && claims.LatestClaim is { FlowCurrentView: { } latest } latestOwner && ReferenceEquals(latest.To, onThread) && TryShare(latestOwner, latest))
            {
                claimed = false;
                return latestOwner;
            }
            else
            {
                return EnterFromOlderCached(claims, ref field, onThread, out claimed);
            }
        }

        return EnterThroughContext(out claimed);
    }

    /// <summary>
    /// <see cref="EnterDirect"/> when the thread's latest cached record is not for this context: the others in its
    /// cache, the same way. Flows that take turns on one thread (a holder stepped by its waiter, two request flows
    /// interleaving on a pool thread) each find their own record here instead of going the general way.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner EnterFromOlderCached(ThreadClaims claims, ref ExecutionContext? field, ExecutionContext? onThread, out bool claimed)
    {
        var cache = claims.Cache;
        object before = onThread ?? s_defaultOnThread;
        for (int i = 1; i < cache.Length; i++)
        {
            if (cache[i] is { FlowBaseViewless: true } owner && ReferenceEquals(owner.FlowBaseOnThread, before))
            {
                int index = NextViewIndex(owner);
                if (ReusableView(owner, index, owner.FlowBase) is not { } view)
                {
                    break;
                }

                cache[i] = null;
                owner.FlowViewIndex = index;
                field = view.To;
                MakeLive(owner, view);
                claims.NoteClaim(owner);
                OlderCachedClaimForTests?.Invoke();
                claimed = true;
                return owner;
            }
        }

        return EnterThroughContext(out claimed);
    }

    /// <summary>For tests: called on the claiming thread when a claim took a record from the cache's older entries directly.</summary>
    internal static Action? OlderCachedClaimForTests;

    /// <summary>Claims a record in the calling frame: the context holds no live view.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner EnterSlow(ClaimView? view)
    {
        var current = ExecutionContext.Capture();
        if (current is null)
        {
            // Flow suppressed: a record of its own for this acquisition, never cached.
            var lone = NewRecord();
            lone.FlowCurrentView = new ClaimView(lone, null);
            lone.FlowHolds = ClaimedHolds(lone);
            return lone;
        }

        // A context that carries a dead view is its base with that view: claim as from the base, so a frame whose
        // claim ended in a callee (which restored only its own context) reuses the same cached records and views.
        var based = view is not null && ReferenceEquals(current, view.To) && view.From is { } from ? from : current;
        var claims = ClaimsOfThread();
        var owner = TakeCached(claims, based) ?? NewRecord();
        // Read before the claim changes the field: the base as the thread holds it (what a context is on the thread, and
        // whether it carries a view, never change, so a record claimed on the same base again keeps both).
        bool sameBase = ReferenceEquals(owner.FlowBase, based);
        object? onThread = s_directContext >= 0 && ReferenceEquals(based, current) ? ThreadContextFieldOrMissing(claims.Thread) : null;
        Claim(owner, based, current);
        claims.NoteClaim(owner);
        if (onThread is not null)
        {
            owner.FlowBaseOnThread = onThread;
            owner.FlowBaseViewless = view is null;
            if (s_directContext == 0)
            {
                ProbeDirectContext(claims, owner);
            }
        }
        else if (!sameBase)
        {
            owner.FlowBaseOnThread = null;
            owner.FlowBaseViewless = false;
        }

        return owner;
    }

    /// <summary>
    /// The first claim's check that the thread's context field is what <see cref="ExecutionContext.Capture"/> and
    /// <see cref="ExecutionContext.Restore"/> use: after the claim it must hold the claim's context.
    /// </summary>
    private static void ProbeDirectContext(ThreadClaims claims, LockOwner owner)
    {
        if (ReferenceEquals(ThreadContextFieldOrMissing(claims.Thread), owner.FlowCurrentView!.To))
        {
            Interlocked.CompareExchange(ref s_directContext, 1, 0);
        }
        else
        {
            s_directContext = -1;
        }
    }

    /// <summary>
    /// The thread's context field (null for the default context, as <see cref="ExecutionContext.Restore"/> stores it),
    /// or the marker for the default context when null; null when this runtime has no such field.
    /// </summary>
    private static object? ThreadContextFieldOrMissing(Thread thread)
    {
        try
        {
            return ThreadContextField(thread) ?? s_defaultOnThread;
        }
        catch (MissingFieldException)
        {
            s_directContext = -1;
            return null;
        }
    }

    /// <summary>The field <see cref="ExecutionContext.Capture"/> reads and <see cref="ExecutionContext.Restore"/> writes.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_executionContext")]
    private static extern ref ExecutionContext? ThreadContextField(Thread thread);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ThreadClaims ClaimsOfThread() => t_claims ?? NewClaimsOfThread();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ThreadClaims NewClaimsOfThread() => t_claims = new ThreadClaims(Thread.CurrentThread);

    private static LockOwner NewRecord()
    {
        var owner = LockOwner.CreateFlow();
        owner.FlowViews = new ClaimView?[ViewCount];

        // Allocated right after the record and kept by it (a compacting GC keeps the order), so another flow's record
        // never lands on the cache lines this flow writes on every acquisition.
        owner.FlowSpacer = new byte[SpacerBytes];
        return owner;
    }

    /// <summary>Claims an idle record nobody else can reach (fresh, or from this thread's cache): plain stores.</summary>
    private static void Claim(LockOwner owner, ExecutionContext based, ExecutionContext current)
    {
        int index = NextViewIndex(owner);
        owner.FlowViewIndex = index;
        var view = ReusableView(owner, index, based);
        if (view is null)
        {
            // A view belongs to one base context for good, so an old context carrying it can only come alive again
            // through a claim on that same base.
            view = new ClaimView(owner, based);
            owner.FlowViews![index] = view;
            if (!ReferenceEquals(current, based))
            {
                ExecutionContext.Restore(based);
            }

            s_flow.Value = view;
            view.To = ExecutionContext.Capture();
        }
        else
        {
            ExecutionContext.Restore(view.To!); // ReusableView returns only views with a context.
        }

        if (!ReferenceEquals(owner.FlowBase, based))
        {
            // A record from the cache was found by its base already: the store (and its GC barrier) is only for new ones.
            owner.FlowBase = based;
        }

        MakeLive(owner, view);
    }

    /// <summary>The slot of the record's next claim: the views rotate, so a claim's view is not the one before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NextViewIndex(LockOwner owner) => (owner.FlowViewIndex + 1) & (ViewCount - 1);

    /// <summary>The view in slot <paramref name="index"/> if a claim on <paramref name="based"/> can reuse it (made for that base, with its context).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ClaimView? ReusableView(LockOwner owner, int index, ExecutionContext? based) =>
        owner.FlowViews![index] is { To: not null } view && ReferenceEquals(view.From, based) ? view : null;

    /// <summary>Makes <paramref name="view"/> the record's live claim: the view, then the hold word, whose store makes it live.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MakeLive(LockOwner owner, ClaimView view)
    {
        owner.FlowCurrentView = view;
        Volatile.Write(ref owner.FlowHolds, ClaimedHolds(owner));
    }

    /// <summary>
    /// A new claim's hold word: one hold (the reservation) and, in the high half, the token a read taken right after the
    /// claim will carry. It is set here, in the one store that makes the claim live, because a task started inside an
    /// earlier claim may carry a view this claim reuses and share the record from then on: after this store, the claim
    /// only changes the word with interlocked operations.
    /// </summary>
    private static long ClaimedHolds(LockOwner owner) => ((long)owner.FlowReads.NextFirstToken() << 32) | 1;

    /// <summary>One more hold for a flow that already has one (a set's members): the record stays live meanwhile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Held(LockOwner owner) => Interlocked.Increment(ref owner.FlowHolds);

    /// <summary>The flow released a hold (or gave back a reservation). When it holds none, its claim ends.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Released(LockOwner owner)
    {
        if ((int)Interlocked.Decrement(ref owner.FlowHolds) == 0)
        {
            Unclaim(owner);
        }
    }

    /// <summary>The token of the claim's first read (set when the claim was made), for a read taken right after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FirstReadToken(LockOwner owner) => (int)(Volatile.Read(ref owner.FlowHolds) >> 32);

    /// <summary>
    /// Takes back the read hold that carries the claim's <see cref="FirstReadToken"/>, if <paramref name="token"/> is still it, in one
    /// compare-and-swap: a scope released twice (even from two threads at once) finds it gone. When it is the flow's
    /// only hold, the same swap counts it out and <paramref name="claimEnded"/> is true: nothing else can reach the
    /// record then, and the caller ends the claim with <see cref="ClaimEnded"/> once it is done with the record;
    /// otherwise the hold is still counted and the caller gives it back with <see cref="Released"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TakeBackFirstRead(LockOwner owner, int token, out bool claimEnded)
    {
        long holds = Volatile.Read(ref owner.FlowHolds);
        while ((int)(holds >> 32) == token)
        {
            bool last = (int)holds == 1;
            long seen = Interlocked.CompareExchange(ref owner.FlowHolds, last ? 0 : (uint)holds, holds);
            if (seen == holds)
            {
                claimEnded = last;
                return true;
            }

            holds = seen;
        }

        claimEnded = false;
        return false;
    }

    /// <summary>Ends a claim whose count <see cref="TakeBackFirstRead"/> took to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ClaimEnded(LockOwner owner) => Unclaim(owner);

    /// <summary>An acquisition that ended without a hold gives back its reservation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NotHeld(LockOwner owner) => Released(owner);

    /// <summary>
    /// <see cref="Released"/> from an async method the acquisition handed on to (a contended lock set, a distributed
    /// lock's round trips): if the claim ends here, the frame that made it still carries its view, which this method's
    /// context cannot restore, so that view is retired for good instead of coming round again.
    /// </summary>
    public static void ReleasedInCallee(LockOwner owner)
    {
        if ((int)Interlocked.Decrement(ref owner.FlowHolds) == 0)
        {
            Unclaim(owner, retireView: true);
        }
    }

    /// <inheritdoc cref="ReleasedInCallee"/>
    public static void NotHeldInCallee(LockOwner owner) => ReleasedInCallee(owner);

    /// <summary>
    /// Ends a claim. Mostly in the frame that made it, on a thread whose context field holds the claim's view: put the
    /// context before the claim back into that field, and the record into the thread's cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Unclaim(LockOwner owner)
    {
        if (s_directContext > 0 && owner.FlowBaseOnThread is { } beforeOnThread && owner.FlowCurrentView is { } view && t_claims is { } claims)
        {
            ref var field = ref ThreadContextField(claims.Thread);
            if (ReferenceEquals(field, view.To))
            {
                field = ReferenceEquals(beforeOnThread, s_defaultOnThread) ? null : (ExecutionContext)beforeOnThread;
                Cache(claims, owner);
                return;
            }
        }

        Unclaim(owner, retireView: false);
    }

    private static void Unclaim(LockOwner owner, bool retireView)
    {
        // The count reached 0 exactly once for this claim, here: nobody else touches the record until it is claimed again.
        var view = owner.FlowCurrentView;
        if (view?.From is not { } before)
        {
            return;
        }

        var claims = ClaimsOfThread();
        if (ReferenceEquals(ExecutionContext.Capture(), view.To))
        {
            ExecutionContext.Restore(before);
        }
        else if (ReferenceEquals(s_flow.Value, view))
        {
            // The frame set an async local during the hold (a logging scope, an Activity) or released under
            // SuppressFlow, so its context is no longer one of ours to swap back: take the dead view out of it instead,
            // or the frame and what it starts next would share this record's claims made through the same view later.
            // A new context, as that change made.
            s_flow.Value = null;
        }
        else
        {
            // Released where the view is not (another flow, or a task's completion callback): the claiming frame still
            // carries it. Were it made live again by a later claim of this record, maybe another flow's from the cache,
            // that frame would share the other flow's holds.
            retireView = true;
        }

        if (retireView)
        {
            // The dead view is never made live again: this slot gets a new view (an allocation) when its turn comes.
            Array.Clear(owner.FlowViews!, owner.FlowViewIndex, 1);
        }

        Cache(claims, owner);
    }

    /// <summary>
    /// An idle record of this thread's: the one last claimed on <paramref name="based"/> if it is cached; else, when
    /// the cache is full, the least recently cached one, which the claim moves to the new base (a view and a context
    /// for it, not a record); else none, and the caller makes a record, which joins the cache when its claim ends.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LockOwner? TakeCached(ThreadClaims claims, ExecutionContext based)
    {
        var cache = claims.Cache;
        bool full = true;
        for (int i = 0; i < cache.Length; i++)
        {
            var owner = cache[i];
            if (owner is null)
            {
                full = false;
            }
            else if (ReferenceEquals(owner.FlowBase, based))
            {
                cache[i] = null;
                return owner;
            }
        }

        if (!full)
        {
            return null;
        }

        // A record's views are made for its base; on another base its claims replace them slot by slot as the rotation
        // comes round, so a view is still only ever made live again by a claim on the context it was made for.
        var moved = cache[^1];
        cache[^1] = null;
        return moved;
    }

    /// <summary>
    /// Caches an idle record at the front, shifting the others back over the first free slot, or out at the end: the
    /// bases a thread claims on often stay, and one no flow uses any more leaves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Cache(ThreadClaims claims, LockOwner owner)
    {
        var cache = claims.Cache;
        var carried = owner;
        for (int i = 0; i < cache.Length && carried is not null; i++)
        {
            (cache[i], carried) = (carried, cache[i]);
        }
    }

    /// <summary>A thread's idle records (most recently cached first), and the thread, whose context field claims read.</summary>
    private sealed class ThreadClaims(Thread thread)
    {
        public readonly Thread Thread = thread;

        public readonly LockOwner?[] Cache = new LockOwner?[CacheSize];

        /// <summary>
        /// The record of the latest claim made on this thread: a context that is its current view's <c>To</c> carries that
        /// view, so a flow acquiring again inside its hold finds what to share without the async local's look-up.
        /// </summary>
        public LockOwner? LatestClaim;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void NoteClaim(LockOwner owner)
        {
            // Mostly the same record claim after claim: the store (and its GC barrier) only when it changes.
            if (!ReferenceEquals(LatestClaim, owner))
            {
                LatestClaim = owner;
            }
        }
    }

    /// <summary>What a flow's context carries while it holds locks: one of its record's few views.</summary>
    internal sealed class ClaimView(LockOwner owner, ExecutionContext? from)
    {
        public readonly LockOwner Owner = owner;

        /// <summary>The context the view was made on (the flow's context before the claim).</summary>
        public readonly ExecutionContext? From = from;

        /// <summary>That context with this view: the flow's context during the claim.</summary>
        public ExecutionContext? To;
    }
}
