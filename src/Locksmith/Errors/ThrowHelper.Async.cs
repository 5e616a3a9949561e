using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

internal static partial class ThrowHelper
{
    /// <summary>The current thread, or the async flow it runs when that flow holds async locks.</summary>
    public static string CurrentFlowOrThread() =>
        FlowOwnership.CurrentOrNull is { } flow ? FlowOnThread(flow) : $"thread {ThreadNames.Current()}";

    /// <summary><see cref="CurrentFlowOrThread"/> as the subject of a message: <c>Thread 4 ('worker') tried …</c>, <c>Flow #3 (on thread 4) tried …</c>.</summary>
    public static string CurrentFlowOrThreadStartingASentence() => SentenceStart(CurrentFlowOrThread());

    /// <summary>
    /// The current async flow, for an async acquisition's messages: <c>flow #3 ('GET /orders') (on thread 4)</c> while it
    /// holds async locks; else <c>the current async flow ('GET /orders') (on thread 4)</c>, since a flow gets its record, and
    /// so its id, only with its first hold (the Activity's name is read here, in the flow, when one is current).
    /// </summary>
    public static string CurrentFlow()
    {
        if (FlowOwnership.CurrentOrNull is { } flow)
        {
            return FlowOnThread(flow);
        }

        string? activity = System.Diagnostics.Activity.Current?.DisplayName;
        return string.IsNullOrEmpty(activity)
            ? $"the current async flow (on thread {ThreadNames.Current()})"
            : $"the current async flow ('{activity}') (on thread {ThreadNames.Current()})";
    }

    /// <summary>
    /// <see cref="CurrentFlow"/> as the subject of a misuse message: <c>Flow #3 (on thread 4) tried to release …</c>, <c>The
    /// current async flow (on thread 4) tried to release …</c>.
    /// </summary>
    public static string CurrentFlowStartingASentence() => SentenceStart(CurrentFlow());

    /// <summary><see cref="FlowOnThread"/> as the subject of a misuse message: <c>Flow #3 ('GET /orders') (on thread 4) tried …</c>.</summary>
    public static string FlowStartingASentence(LockOwner flow) => SentenceStart(FlowOnThread(flow));

    /// <summary>A flow with a record, as async messages name it: <c>flow #3 ('GET /orders') (on thread 4)</c>.</summary>
    public static string FlowOnThread(LockOwner flow) => $"{flow.Describe()} (on thread {ThreadNames.Current()})";

    [DoesNotReturn]
    public static void ThrowAsyncRecursion(LockPrimitive lockPrimitive, LockOwner flow) =>
        throw new LockRecursionException(
            $"{FlowStartingASentence(flow)} tried to acquire {lockPrimitive.Describe()}, which it already holds (a flow shares its holds " +
            $"with everything it awaits, calls or starts). {NotReentrant(lockPrimitive, lockPrimitive.GetType().Name)}, so waiting would " +
            "deadlock. " + StripeHintOr(lockPrimitive, "AcquireManyAsync", "Release it before acquiring it again, or pass the work that needs it to the code that holds it.") +
            " A task that should wait for it instead must be started under ExecutionContext.SuppressFlow(), or after the scope is disposed in the method that took it.");

    /// <summary>
    /// A caller blocked on an acquisition's <c>ValueTask</c> before it completed; the wait was withdrawn, so the lock is
    /// not handed to a waiter nobody reads.
    /// </summary>
    public static InvalidOperationException BlockedOnPendingAcquisition(string who, string what) =>
        new($"{who} read the result of its wait for {what} before the wait completed (.Result or .GetAwaiter().GetResult() " +
            "on the ValueTask of a pending acquisition, which a ValueTask does not support). The wait was withdrawn; nothing " +
            "is held. Await the acquisition, or call .AsTask() on it first where code must block.");

    /// <summary>
    /// The <c>ValueTask</c> of a queued acquisition was read again after its result was taken (awaited twice, or
    /// <c>.AsTask()</c> after an await). Its wait node went back to the pool at the first read and may serve another
    /// lock's wait by now, so the lock it was for cannot be named.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowAcquisitionConsumed() =>
        throw new InvalidOperationException(
            $"{CurrentFlowStartingASentence()} read the ValueTask of an async lock acquisition that was read already (awaited twice, " +
            "or .AsTask() or .Result after an await). A ValueTask is consumed by its first read, which returned the scope or " +
            "threw the acquisition's exception; this read changes nothing. Await the acquisition once, or call .AsTask() once " +
            "and await that task as often as needed.");

    [DoesNotReturn]
    public static void ThrowAsyncNotHeld(LockPrimitive lockPrimitive, int scopeOwnerId, string? holder) =>
        throw new SynchronizationLockException(
            $"{CurrentFlowStartingASentence()} tried to release {lockPrimitive.Describe()} through a scope of {StaleScopeOwner(scopeOwnerId)} that no " +
            $"longer holds it (" + (holder is null ? "the lock is not held" : $"it is held by {holder}") + "). " +
            "Each scope releases once: dispose it once, in the flow that acquired it.");

    /// <summary>
    /// A stale scope of an exclusive hold: when the lock's holder now is the scope's own flow record (reused by a later
    /// acquisition in the same context), the message says so rather than naming the same flow twice.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowAsyncNotHeld(LockPrimitive lockPrimitive, int scopeOwnerId, LockOwner? holder) =>
        ThrowAsyncNotHeld(lockPrimitive, scopeOwnerId,
            holder is null ? null
            : holder.OwnerId == scopeOwnerId ? LaterHoldOf(holder)
            : holder.Describe());

    /// <summary>
    /// A read scope whose lock its flow no longer reads and that no live read-write lock matches (collected since): the
    /// message names the flow, since it cannot name the lock.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowAsyncReadNotHeldOfGoneLock(int scopeOwnerId) =>
        throw new SynchronizationLockException(
            $"{CurrentFlowStartingASentence()} tried to release a read lock through a scope of {StaleScopeOwner(scopeOwnerId)} that no longer " +
            "holds it, and the lock is no longer alive. Each scope releases once: dispose it once, in the flow that acquired it.");

    /// <summary>An <see cref="AsyncLockFlowScope"/> disposed after its claim ended.</summary>
    [DoesNotReturn]
    public static void ThrowAsyncLockFlowEnded(int flowId) =>
        throw new SynchronizationLockException(
            $"{CurrentFlowStartingASentence()} ended the claim AsyncLockFlow.Begin() made for {StaleScopeOwner(flowId)}, but that claim " +
            "had ended already (its scope, or a copy of it, was disposed before). Dispose the scope once, with 'using'.");

    /// <summary>How a stale scope's message names a holder that is the scope's own flow record, reused by a later acquisition.</summary>
    public static string LaterHoldOf(LockOwner holder) => $"a later hold of {holder.Describe()}, which took the lock again after this scope's hold ended";

    /// <summary>
    /// The flow a stale scope was taken by, by id only: its ownership record may carry another flow's claim by now, whose
    /// activity is not the one that took the scope.
    /// </summary>
    public static string StaleScopeOwner(int ownerId) => LockOwner.DescribeFlow(ownerId, null);

    [DoesNotReturn]
    public static void ThrowAsyncTimeout(LockPrimitive lockPrimitive, LockOwner waiter, LockMode mode, ReportedHolder holder, TimeSpan waited) =>
        throw new LockTimeoutException(lockPrimitive.Name, holder.Id, holder.Name, waited,
            $"{FlowStartingASentence(waiter)} timed out after {waited.TotalMilliseconds:0.#} ms waiting for {LockKindNames.Of(mode)} access to " +
            $"{lockPrimitive.Describe()}, " +
            (holder.Id == 0 ? NoHolderNamed(mode)
                : holder.Id >= LockOwner.FlowIdBase ? $"held by {holder.Name}." : $"held by thread {ThreadNames.Format(holder.Id, holder.Name)}."));

    /// <summary>A striped lock asked for no keys at once (an empty list): names the lock and who asked.</summary>
    [DoesNotReturn]
    public static void ThrowNoKeys(LockPrimitive striped, bool async) =>
        throw new ArgumentException(
            $"{(async ? CurrentFlowStartingASentence() : CurrentFlowOrThreadStartingASentence())} asked striped lock {striped.Describe()} for no keys: " +
            $"{(async ? "AcquireManyAsync and TryAcquireManyAsync need" : "AcquireMany and TryAcquireMany need")} at least one key.", "keys");

    [DoesNotReturn]
    public static void ThrowNotForSyncSet(LockPrimitive lockPrimitive) =>
        throw new InvalidOperationException($"{lockPrimitive.Describe()} is an async lock: take it with AcquireAsync or an async LockSet.");
}
