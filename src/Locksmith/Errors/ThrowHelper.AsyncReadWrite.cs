using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

// AsyncReadWriteLock's misuse messages: each names the lock, the flow and the mode.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowAsyncReadRecursion(LockPrimitive lockPrimitive, LockOwner flow) =>
        throw new LockRecursionException(
            $"{FlowStartingASentence(flow)} tried to acquire the read lock of {lockPrimitive.Describe()}, which it already holds (a flow shares " +
            "its holds with everything it awaits, calls or starts). AsyncReadWriteLock is not reentrant: a nested read would queue " +
            "behind a waiting writer, which waits for the outer read, so it would deadlock. Keep one read scope open instead; a " +
            "task that should wait for it must be started under ExecutionContext.SuppressFlow(), or after the scope is disposed in the method that took it.");

    [DoesNotReturn]
    public static void ThrowAsyncUpgrade(LockPrimitive lockPrimitive, LockOwner flow) =>
        throw new LockRecursionException(
            $"{FlowStartingASentence(flow)} tried to acquire the write lock of {lockPrimitive.Describe()} while it holds the read lock. " +
            "Upgrading deadlocks: the writer waits for every reader to leave, this flow included. AsyncReadWriteLock has no " +
            "upgradeable mode: release the read lock, acquire the write lock, then re-check what you read.");
}
