using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

// LockSet's messages: each names the lock, the thread and what to do instead.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowSetMemberHeld(LockPrimitive member, string held, string why) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} asked LockSet for {member.Describe()}, but it already holds {held}. {why} " +
            "Nothing was taken. Release it before acquiring the set, or leave it out of the set and take only the other locks.");

    [DoesNotReturn]
    public static void ThrowNotASetMember(object member, string paramName) =>
        throw new ArgumentException(
            $"A lock set can take only Locksmith's own locks; '{member.GetType().FullName}' implements ILockSetMember but is not one.",
            paramName);
}
