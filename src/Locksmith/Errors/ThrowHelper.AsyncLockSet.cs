using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

// The async LockSet's messages: each names the lock, the flow and what to do instead.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowAsyncSetMemberHeld(LockPrimitive member, LockOwner flow) =>
        throw new LockRecursionException(
            $"{FlowStartingASentence(flow)} {AskedSetFor(member)}, which it already holds (a flow shares its holds with " +
            $"everything it awaits, calls or starts). {NotReentrant(member, member.GetType().Name)}, so the set would wait for this " +
            "flow itself. Nothing was taken. " +
            (member.StripedParent is null
                ? "Release it before acquiring the set, or leave it out of the set."
                : "Release the key it holds on that stripe first, or take every key it needs in one call."));

    [DoesNotReturn]
    public static void ThrowNotAnAsyncSetMember(object member, string paramName) =>
        throw new ArgumentException(
            $"An async lock set can take only Locksmith's own async locks; '{member.GetType().FullName}' implements " +
            "IAsyncLockSetMember but is not one.",
            paramName);
}
