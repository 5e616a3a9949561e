using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

// LockSet's messages: each names the lock, the thread and what to do instead.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowSetMemberHeld(LockPrimitive member, string held, string why, bool holdsARead = false) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} {AskedSetFor(member)}, but it already holds {held}. {StripedSetReason(member, holdsARead) ?? why} " +
            (member.StripedParent is null
                ? "Nothing was taken. Release it before acquiring the set, or leave it out of the set and take only the other locks."
                : "Nothing was taken. Release the key it holds on that stripe first, or take every key it needs in one call."));

    /// <summary>
    /// For a stripe, why the set cannot take it, naming the striped lock the user built rather than the stripe's own type
    /// (which the caller's <c>why</c> names); null for any other lock.
    /// </summary>
    private static string? StripedSetReason(LockPrimitive member, bool holdsARead) =>
        member.StripedParent is not { } striped ? null
        : holdsARead
            ? $"{StripeOf(striped)}, and the set takes its write lock, which waits for every reader to leave, this thread included: a stripe has no upgrade."
            : $"{StripeOf(striped)}, and a stripe is not reentrant, so the set would wait for this thread itself.";

    /// <summary>What asked for the member as part of a set: a striped lock's several keys at once (AcquireMany…), or LockSet.</summary>
    private static string AskedSetFor(LockPrimitive member) =>
        member.StripedParent is { } striped
            ? $"asked '{striped.Name}' for several keys at once, {member.Describe()} among them"
            : $"asked LockSet for {member.Describe()}";

    /// <summary>
    /// A list given to a set names one lock twice: a slip, or a semaphore meant to give two permits (a set takes one).
    /// Either way taking it once would hide it.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowSetMemberListedTwice(LockPrimitive member, int first, int again, string caller, bool async)
    {
        string pair = async ? "LockSet.AcquireAsync(first, second)" : "LockSet.Acquire(first, second)";
        string locksOf = async ? "LockSet.AcquireLocksOfAsync" : "LockSet.AcquireLocksOf";
        string permits = async ? "AcquireAsync(count)" : "Acquire(count)";
        throw new ArgumentException(
            $"{char.ToUpperInvariant(caller[0])}{caller[1..]} listed {member.Describe()} twice in a lock set, as locks[{first}] and locks[{again}]; nothing was taken. " +
            $"List each lock once. A set takes one permit of a CountingSemaphore: for several, call the semaphore's {permits} instead. " +
            $"For the locks of objects that may be one object at run time (a transfer from an account to itself), call {pair} or {locksOf}, which take a lock given twice once.",
            "locks");
    }

    /// <summary>
    /// A set's timeout: the busy member's own timeout, as that lock's wait describes it (its holder, or a semaphore's
    /// permits), then that it held up a set, of how many locks, none of which is held (all or nothing). Sync and async alike.
    /// </summary>
    public static LockTimeoutException SetTimedOut(LockTimeoutException member, LockPrimitive busy, int count) =>
        new(member.LockName, member.OwnerThreadId, member.OwnerThreadName, member.Waited, $"{member.Message} {HeldUpASet(busy, count)}");

    private static string HeldUpASet(LockPrimitive busy, int count) =>
        (busy.StripedParent is { } striped
            ? $"'{busy.Name}' held up striped lock '{striped.Name}' taking several keys ({count} stripe(s)), "
            : $"'{busy.Name}' held up a LockSet of {count} lock(s), ") +
        "which takes all or none: none of them is held.";

    [DoesNotReturn]
    public static void ThrowNotASetMember(object member, string paramName) =>
        throw new ArgumentException(
            $"A lock set can take only Locksmith's own locks; '{member.GetType().FullName}' implements ILockSetMember but is not one.",
            paramName);
}
