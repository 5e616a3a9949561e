using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

// ReadWriteLock's misuse messages: each names the lock, the thread and the mode.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowPolicyDeclaredTwice(string lockDescription, ReadWritePolicy built, string declaredName, ReadWritePolicy declared) =>
        throw new InvalidOperationException(
            $"Lock {lockDescription} was constructed with ReadWritePolicy.{built} but '{declaredName}' is in a [ReadMostly] type that " +
            $"declares ReadWritePolicy.{declared}" + (declared == ReadWritePolicy.WriterPreferred ? " (set explicitly, or the attribute's default when Policy is not set)" : "") +
            $". Give the policy in one place only: [ReadMostly(Policy = ReadWritePolicy.{built})], or create the lock without a policy (its constructor, or its registration: AddReadWriteLock, AddAsyncReadWriteLock or AddStripedReadWriteLock with no policy argument).");

    [DoesNotReturn]
    public static void ThrowReadRecursion(LockPrimitive lockPrimitive) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} tried to acquire the read lock of {lockPrimitive.Describe()}, which it already holds. " +
            $"{NotReentrant(lockPrimitive, "ReadWriteLock")}: a nested read would queue behind a waiting writer, which waits for the outer read, " +
            "so it would deadlock. Keep one read scope open instead of nesting them.");

    [DoesNotReturn]
    public static void ThrowReadWhileWriting(LockPrimitive lockPrimitive) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} tried to acquire the read lock of {lockPrimitive.Describe()} while it holds the write lock. " +
            $"{NotReentrant(lockPrimitive, "ReadWriteLock")} and has no downgrade; the write lock already allows reading.");

    [DoesNotReturn]
    public static void ThrowWriteRecursion(LockPrimitive lockPrimitive) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} tried to acquire the write lock of {lockPrimitive.Describe()}, which it already holds. " +
            $"{NotReentrant(lockPrimitive, "ReadWriteLock")}, so waiting would deadlock. {StripeHintOr(lockPrimitive, "AcquireManyWrite", "Release it before acquiring it again.")}");

    [DoesNotReturn]
    public static void ThrowUpgrade(LockPrimitive lockPrimitive) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} tried to acquire the write lock of {lockPrimitive.Describe()} while it holds the read lock. " +
            "Upgrading deadlocks: the writer waits for every reader to leave, this thread included. " +
            $"{NoUpgrade(lockPrimitive)}: release the read lock, acquire the write lock, then re-check what you read.");

    /// <summary>Why a read lock cannot become a write lock, naming what the user built (a stripe by its striped lock).</summary>
    private static string NoUpgrade(LockPrimitive lockPrimitive) =>
        lockPrimitive.StripedParent is { } striped
            ? $"{StripeOf(striped)}, and a stripe has no upgradeable mode"
            : "ReadWriteLock has no upgradeable mode";

    [DoesNotReturn]
    public static void ThrowReadNotHeld(LockPrimitive lockPrimitive, bool holdsWrite) =>
        throw new SynchronizationLockException(
            $"Thread {ThreadNames.Current()} tried to release the read lock of {lockPrimitive.Describe()}, which it does not hold" +
            (holdsWrite ? " (it holds the write lock: release that with ReleaseWrite). " : ". ") +
            "Only a thread that acquired the read lock may release it; dispose the scope AcquireRead returned on that thread.");

    [DoesNotReturn]
    public static void ThrowWriteNotHeld(LockPrimitive lockPrimitive, int writerThreadId) =>
        throw new SynchronizationLockException(
            $"Thread {ThreadNames.Current()} tried to release the write lock of {lockPrimitive.Describe()}, which it does not hold " +
            (writerThreadId == 0 ? "(no thread holds it). " : $"(it is held by thread {ThreadNames.Of(writerThreadId)}). ") +
            "Only the writing thread may release it; dispose the scope AcquireWrite returned on the thread that acquired it.");
}
