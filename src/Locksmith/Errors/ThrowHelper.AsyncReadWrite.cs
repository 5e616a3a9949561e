using System;
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

    /// <summary>
    /// A read that timed out while no writer held the lock: it waited behind <paramref name="writersAhead"/> queued
    /// writers, as <paramref name="policy"/> has readers do; "held in a shared mode" would blame what a reader shares.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowAsyncReadTimeoutBehindWriters(LockPrimitive lockPrimitive, LockOwner waiter, TimeSpan waited, int writersAhead, ReadWritePolicy policy) =>
        throw new LockTimeoutException(lockPrimitive.Name, 0, null, waited, ReadTimeoutBehindWriters(FlowStartingASentence(waiter), lockPrimitive, waited, writersAhead, policy));

    /// <summary><see cref="ThrowAsyncReadTimeoutBehindWriters"/> for a thread's read of a <see cref="ReadWriteLock"/>.</summary>
    [DoesNotReturn]
    public static void ThrowReadTimeoutBehindWriters(LockPrimitive lockPrimitive, TimeSpan waited, int writersAhead, ReadWritePolicy policy) =>
        throw new LockTimeoutException(lockPrimitive.Name, 0, null, waited,
            ReadTimeoutBehindWriters($"Thread {ThreadNames.Current()}", lockPrimitive, waited, writersAhead, policy));

    private static string ReadTimeoutBehindWriters(string who, LockPrimitive lockPrimitive, TimeSpan waited, int writersAhead, ReadWritePolicy policy) =>
        $"{who} timed out after {waited.TotalMilliseconds:0.#} ms waiting for read access to {lockPrimitive.Describe()}, " +
        $"held in a shared mode with {writersAhead} writer{(writersAhead == 1 ? string.Empty : "s")} queued ahead of it, and under {policy} a reader " +
        "waits behind a queued writer. Look for the hold that keeps the writer waiting (a long read), or choose ReadWritePolicy.ReaderPreferred " +
        "if readers should pass waiting writers.";

    [DoesNotReturn]
    public static void ThrowAsyncUpgrade(LockPrimitive lockPrimitive, LockOwner flow) =>
        throw new LockRecursionException(
            $"{FlowStartingASentence(flow)} tried to acquire the write lock of {lockPrimitive.Describe()} while it holds the read lock. " +
            "Upgrading deadlocks: the writer waits for every reader to leave, this flow included. AsyncReadWriteLock has no " +
            "upgradeable mode: release the read lock, acquire the write lock, then re-check what you read.");
}
