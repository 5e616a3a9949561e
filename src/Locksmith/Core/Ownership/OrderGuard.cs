using System;
using System.Runtime.CompilerServices;

namespace Locksmith;

/// <summary>
/// Global lock-order enforcement. Primitives call it only for ordered locks
/// (<see cref="LockPrimitive.IsOrdered"/>): a check before blocking (which hands back the owner record the
/// caller pushes the lock onto) and a pop on release.
/// </summary>
internal static class OrderGuard
{
    /// <summary>
    /// The order check that also hands back the current owner record, so the caller records the acquisition
    /// without a second thread-static lookup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LockOwner Check(LockPrimitive lockPrimitive) => Check(lockPrimitive, read: false);

    /// <summary>
    /// <see cref="Check(LockPrimitive)"/> for a read of a read-write lock: a violation is reported as a read (its
    /// metric's mode, its advice).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LockOwner CheckRead(LockPrimitive lockPrimitive) => Check(lockPrimitive, read: true);

    /// <summary>Both checks: <paramref name="read"/> is a constant at each inlined call, so only its branch is compiled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LockOwner Check(LockPrimitive lockPrimitive, bool read)
    {
        var owner = LockOwner.Current;
        if (lockPrimitive.OrderLevel <= owner.Held.MaxLevel)
        {
            if (read)
            {
                OnOutOfOrderRead(owner, lockPrimitive);
            }
            else
            {
                OnOutOfOrder(owner, lockPrimitive);
            }
        }

        // One global order across sync and async: a thread running an async flow also answers for the flow's locks.
        if (FlowOrder.InUse)
        {
            if (read)
            {
                FlowOrder.CheckSyncReadInFlow(lockPrimitive, owner);
            }
            else
            {
                FlowOrder.CheckSyncInFlow(lockPrimitive, owner);
            }
        }

        return owner;
    }

    /// <summary>
    /// The order check of a lock set, for its lowest ordered member: a violation's advice fits a set (whose members
    /// are in order among themselves) rather than saying to use one.
    /// </summary>
    public static void BeforeAcquireSet(LockPrimitive lowest)
    {
        var owner = LockOwner.Current;
        if (lowest.OrderLevel <= owner.Held.MaxLevel)
        {
            OnOutOfOrder(owner, lowest, forSet: true);
        }

        if (FlowOrder.InUse)
        {
            FlowOrder.CheckSyncInFlow(lowest, owner, forSet: true);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Released(LockPrimitive lockPrimitive)
    {
        var owner = LockOwner.CurrentOrNull;
        if (owner is not null)
        {
            owner.Held.Remove(lockPrimitive);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void OnOutOfOrder(LockOwner owner, LockPrimitive requested, bool forSet = false, string? mode = null)
    {
        var action = LocksmithPolicy.OrderViolationAction;
        // Asking again for a lock already held is recursion, not an inversion: the primitive decides.
        if (action == OrderViolationAction.Ignore || owner.Held.Contains(requested))
        {
            return;
        }

        Report(owner, owner.Held.Highest()!, requested, action, forSet: forSet, mode: mode);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void OnOutOfOrderRead(LockOwner owner, LockPrimitive requested) => OnOutOfOrder(owner, requested, mode: LockModeTags.Read);

    /// <summary>
    /// Advice where the usual one does not fit: a lock of the flow's thread rather than the flow; two stripes of one
    /// striped lock (one call takes both); a stripe and another lock (no LockSet takes a stripe); distributed locks, which <c>LockSet</c> cannot take (another key of a keyed
    /// lock goes with the others in one call, two distributed locks in a <c>PostgresLockSet</c>, a mix only in order); a
    /// synchronous lock and an async one, which no LockSet takes together.
    /// </summary>
    private static string? RemedyFor(LockPrimitive held, LockPrimitive requested, LockOwner? heldByThread, bool forSet, bool read)
    {
        if (heldByThread is not null)
        {
            // The flow itself holds nothing at that level: a thread-affine lock of the thread it runs on is in the way.
            return $"'{held.Name}' is held by this flow's thread, {heldByThread.Describe()}, not by the flow: take '{requested.Name}' before it, " +
                $"and if this code did not take '{held.Name}', it was left held on the thread (a synchronous lock must be released " +
                "on the thread that took it, before an await; hold one across awaits as an async lock).";
        }

        if (held.StripedParent is { } striped && ReferenceEquals(striped, requested.StripedParent))
        {
            // "Acquire the other first" cannot help: every stripe has the striped lock's level.
            string takeMany = striped.Kind == LockKind.AsyncStriped ? "with AcquireManyAsync"
                : striped is IReadWriteAccessLock ? "with AcquireManyWrite (write locks: to read several keys, read them one at a time)"
                : "with AcquireMany";
            return $"'{held.Name}' and '{requested.Name}' are stripes of '{striped.Name}' and share its level, so take the keys together, " +
                $"{takeMany}, which takes their stripes in stripe order.";
        }

        bool heldDistributed = IsDistributed(held), requestedDistributed = IsDistributed(requested);
        if (ReferenceEquals(held, requested) && requestedDistributed)
        {
            return $"the keys of '{requested.Name}' share its level, so take them together, with AcquireManyAsync or a PostgresLockSet, " +
                "which take them in key order.";
        }

        if (heldDistributed && requestedDistributed && string.Equals(held.Name, requested.Name, StringComparison.Ordinal))
        {
            // Two objects of one name (two providers, two containers) share its level, so "acquire it first" cannot help.
            // The same key through both is a recursion the provider refuses before the order; what reaches here is another
            // key of a keyed lock (two advisory locks), or the same name on another server.
            string levelShared = requested.Kind == LockKind.DistributedKeyed
                ? "; its keys share its level, so take the keys together through one object, with AcquireManyAsync or a PostgresLockSet, " +
                  "which take them in key order"
                : ", at the same level, so acquiring it first cannot help";
            return $"'{held.Name}' is held by this flow through another lock object of the same name (made by another PostgresLockProvider " +
                $"or container){levelShared}. Use one provider per server; " +
                "to stand in for a second process (in a test), acquire from a flow of its own, started under ExecutionContext.SuppressFlow().";
        }

        if (heldDistributed && requestedDistributed)
        {
            return $"acquire '{requested.Name}' first, or take both with a PostgresLockSet (LockSet takes in-process locks only).";
        }

        if (heldDistributed || requestedDistributed)
        {
            return $"acquire '{requested.Name}' first (a lock set cannot mix in-process and distributed locks).";
        }

        if (!forSet && (requested.StripedParent is not null || held.StripedParent is not null))
        {
            // A stripe is no LockSet member (its striped lock takes its keys), so "use LockSet" cannot be followed.
            return requested.StripedParent is { } asked
                ? $"take the key of '{asked.Name}' before '{held.Name}' (a stripe cannot be put in a LockSet)."
                : $"acquire '{requested.Name}' before the key of '{held.StripedParent!.Name}' (a stripe cannot be put in a LockSet).";
        }

        if (forSet && held.StripedParent is { } heldKeys)
        {
            return $"release '{held.Name}' before taking the set, or take the set before the key of '{heldKeys.Name}' (a stripe cannot be put in a LockSet).";
        }

        if (forSet && requested.StripedParent is { } keys)
        {
            // Several keys of a striped lock at once: no set of the user's to put the held lock in.
            return $"release '{held.Name}' before taking several keys of '{keys.Name}', or take those keys before '{held.Name}'.";
        }

        if (!forSet && held.OrderLevel == requested.OrderLevel && !ReferenceEquals(held, requested))
        {
            // "Acquire it first" cannot help two locks of one level: either one taken while the other is held breaks the order.
            // A LockSet takes a read-write lock for writing only, so it cannot take a read.
            string together = read ? string.Empty
                : held is IAsyncLockSetMember && requested is IAsyncLockSetMember
                ? "take both together with LockSet.AcquireAsync, which takes locks of one level in a fixed order, or "
                : held is ILockSetMember && requested is ILockSetMember
                    ? "take both together with LockSet.Acquire, which takes locks of one level in a fixed order, or "
                    : string.Empty;
            return $"'{held.Name}' and '{requested.Name}' share level {requested.OrderLevel}, so acquiring either first cannot help: " +
                $"{together}give them different levels.";
        }

        if (!forSet && !(held is ILockSetMember && requested is ILockSetMember) && !(held is IAsyncLockSetMember && requested is IAsyncLockSetMember))
        {
            // "Use LockSet" cannot be followed: no set takes a synchronous lock and an async one together.
            return $"acquire '{requested.Name}' first (no LockSet takes both '{held.Name}' ({held.GetType().Name}) and '{requested.Name}' " +
                $"({requested.GetType().Name}): LockSet.Acquire takes synchronous locks only, LockSet.AcquireAsync async locks and semaphores only).";
        }

        if (read)
        {
            // A LockSet takes a read-write lock in write mode: "use LockSet" would turn the read into a write.
            return $"acquire '{requested.Name}' first, or give the locks levels that match this nesting (a LockSet cannot take " +
                $"'{requested.Name}' for reading: it takes a read-write lock in write mode).";
        }

        // A set takes its own members in order; what breaks the order is a lock held before it.
        return forSet
            ? $"release '{held.Name}' before taking the set, or take it in the same set, which takes its locks in the global order."
            : null;
    }

    /// <summary>
    /// The mode an acquisition of <paramref name="lockPrimitive"/> is in when no read entry said otherwise: a permit of a
    /// semaphore, a write of a read-write lock (as a LockSet takes one too), else exclusive; the tags its other instruments use.
    /// </summary>
    private static string DefaultModeTag(LockPrimitive lockPrimitive) => lockPrimitive.Kind switch
    {
        LockKind.Semaphore => LockModeTags.Permit,
        LockKind.ReadWrite or LockKind.AsyncReadWrite or LockKind.DistributedReadWrite => LockModeTags.Write,
        _ => LockModeTags.Exclusive,
    };

    private static bool IsDistributed(LockPrimitive lockPrimitive) =>
        lockPrimitive.Kind is LockKind.DistributedExclusive or LockKind.DistributedReadWrite or LockKind.DistributedKeyed;

    /// <summary>Records and raises a violation: <paramref name="owner"/> holds <paramref name="held"/> and asks for <paramref name="requested"/>.</summary>
    /// <param name="owner">The thread or flow acquiring.</param>
    /// <param name="held">Its highest held lock at or above the requested level.</param>
    /// <param name="requested">The lock asked for.</param>
    /// <param name="action">What the policy says to do.</param>
    /// <param name="heldByThread">The thread that holds <paramref name="held"/>, when it is not <paramref name="owner"/> (a flow running on it).</param>
    /// <param name="requestedName">What is asked for, when more than the lock (a keyed lock's key: <c>accounts[2]</c>).</param>
    /// <param name="forSet">Whether <paramref name="requested"/> is the lowest member of a lock set being taken.</param>
    /// <param name="mode">The <c>lock.mode</c> tag of the acquisition, when its lock does not tell (a read); else the mode its kind is taken in.</param>
    public static void Report(
        LockOwner owner, LockPrimitive held, LockPrimitive requested, OrderViolationAction action, LockOwner? heldByThread = null, string? requestedName = null,
        bool forSet = false, string? mode = null)
    {
        mode ??= DefaultModeTag(requested);
        // Named from the owner record, not the current thread: the owner may be an async flow.
        var violation = new LockOrderViolation(
            held.OrderNameHeldBy(heldByThread ?? owner), held.OrderLevel, requestedName ?? requested.Name, requested.OrderLevel, owner.OwnerId, owner.Name)
        {
            Remedy = RemedyFor(held, requested, heldByThread, forSet, read: string.Equals(mode, LockModeTags.Read, StringComparison.Ordinal)),
            FlowThread = owner.OwnerId >= LockOwner.FlowIdBase ? ThreadNames.Current() : null,
        };

        LocksmithMetrics.RecordOrderViolation(requested, mode);
        LocksmithPolicy.OrderViolationReported?.Invoke(violation);
        if (action == OrderViolationAction.Throw)
        {
            throw new LockOrderViolationException(violation);
        }
    }
}
