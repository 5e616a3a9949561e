using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

// The async forms: the same all-or-nothing protocol for async locks, in the same global order, owned by the flow.
public static partial class LockSet
{
    /// <summary>
    /// Acquires two async locks for the current flow in the global order, waiting up to
    /// <see cref="LocksmithPolicy.DefaultTimeout"/>: the common case (a transfer between two accounts).
    /// </summary>
    /// <param name="first">One lock.</param>
    /// <param name="second">The other lock; may be the same as <paramref name="first"/>, which is then taken once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases both.</returns>
    /// <remarks>
    /// Like the sync set, the async set never holds some locks while it waits for others: it waits on one lock, takes
    /// the rest only if they are free, and otherwise releases everything, backs off for a random, growing delay
    /// (without blocking a thread) and tries again. The order check against the locks the flow already holds happens
    /// once, before anything is taken or awaited. An <see cref="AsyncExclusiveLock"/> is taken exclusively, a
    /// <see cref="CountingSemaphore"/> for one permit.
    /// </remarks>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before both could be held together; neither is held.</exception>
    /// <exception cref="LockOrderViolationException">The lower of the two is not above a lock the flow holds; neither is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds one of them and it cannot be re-entered; neither is taken (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; neither is held.</exception>
    /// <exception cref="ArgumentNullException">A lock is null.</exception>
    public static ValueTask<AsyncLockSetScope> AcquireAsync(IAsyncLockSetMember first, IAsyncLockSetMember second, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        LockBuffer buffer = default;
        buffer[0] = AsAsyncMember(first, nameof(first));
        buffer[1] = AsAsyncMember(second, nameof(second));
        return EnterAsyncSet(buffer[..2], TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);
    }

    /// <summary>Acquires every async lock for the current flow, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <remarks>See <see cref="AcquireAsync(IAsyncLockSetMember, IAsyncLockSetMember, CancellationToken)"/>.</remarks>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the flow holds; no lock is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds a member that cannot be re-entered; no lock is taken (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <exception cref="ArgumentException">The set is empty, contains null, or lists a lock twice.</exception>
    public static ValueTask<AsyncLockSetScope> AcquireAsync(IReadOnlyList<IAsyncLockSetMember> locks, CancellationToken cancellationToken = default) =>
        EnterAsyncList(locks, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true, rejectRepeats: true);

    /// <summary>Acquires every async lock for the current flow, waiting at most <paramref name="timeout"/> for all of them together.</summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> keeps trying.</param>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <exception cref="LockTimeoutException">The timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireAsync(IReadOnlyList{IAsyncLockSetMember}, CancellationToken)"/>
    public static ValueTask<AsyncLockSetScope> AcquireAsync(TimeSpan timeout, IReadOnlyList<IAsyncLockSetMember> locks, CancellationToken cancellationToken = default) =>
        EnterAsyncList(locks, SetTimeoutMs(timeout, locks), cancellationToken, throwOnTimeout: true, rejectRepeats: true);

    /// <summary>Tries to acquire every async lock for the current flow within <paramref name="timeout"/>; all or nothing.</summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope holding every lock, or (when the timeout elapsed) one whose <see cref="AsyncLockSetScope.IsAcquired"/> is false.</returns>
    /// <remarks>See <see cref="AcquireAsync(IAsyncLockSetMember, IAsyncLockSetMember, CancellationToken)"/>.</remarks>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the flow holds; no lock is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds a member that cannot be re-entered; no lock is taken (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <exception cref="ArgumentException">The set is empty, contains null, or lists a lock twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static ValueTask<AsyncLockSetScope> TryAcquireAsync(TimeSpan timeout, IReadOnlyList<IAsyncLockSetMember> locks, CancellationToken cancellationToken = default) =>
        EnterAsyncList(locks, SetTimeoutMs(timeout, locks), cancellationToken, throwOnTimeout: false, rejectRepeats: true);

    /// <summary>
    /// Acquires the async locks of several objects for the current flow, some of which may be one object at run time (a
    /// transfer from an account to itself): a lock given more than once is taken once. Otherwise as
    /// <see cref="AcquireAsync(IReadOnlyList{IAsyncLockSetMember}, CancellationToken)"/>.
    /// </summary>
    /// <param name="locks">The locks, in any order; a lock given twice is taken once (for a semaphore: one permit).</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the flow holds; no lock is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds a member that cannot be re-entered; no lock is taken (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <exception cref="ArgumentException">The set is empty or contains null.</exception>
    public static ValueTask<AsyncLockSetScope> AcquireLocksOfAsync(IReadOnlyList<IAsyncLockSetMember> locks, CancellationToken cancellationToken = default) =>
        EnterAsyncList(locks, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true, rejectRepeats: false);

    /// <summary>
    /// Acquires the async locks of several objects, some of which may be one object, waiting at most
    /// <paramref name="timeout"/> for all of them together: a lock given more than once is taken once.
    /// </summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> keeps trying.</param>
    /// <param name="locks">The locks, in any order; a lock given twice is taken once (for a semaphore: one permit).</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the flow holds; no lock is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds a member that cannot be re-entered; no lock is taken (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <exception cref="ArgumentException">The set is empty or contains null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static ValueTask<AsyncLockSetScope> AcquireLocksOfAsync(TimeSpan timeout, IReadOnlyList<IAsyncLockSetMember> locks, CancellationToken cancellationToken = default) =>
        EnterAsyncList(locks, SetTimeoutMs(timeout, locks), cancellationToken, throwOnTimeout: true, rejectRepeats: false);

    /// <summary>
    /// Tries to acquire the async locks of several objects, some of which may be one object, within
    /// <paramref name="timeout"/>; all or nothing, and a lock given more than once is taken once.
    /// </summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="locks">The locks, in any order; a lock given twice is taken once (for a semaphore: one permit).</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope holding every lock, or (when the timeout elapsed) one whose <see cref="AsyncLockSetScope.IsAcquired"/> is false.</returns>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the flow holds; no lock is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds a member that cannot be re-entered; no lock is taken (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <exception cref="ArgumentException">The set is empty or contains null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static ValueTask<AsyncLockSetScope> TryAcquireLocksOfAsync(TimeSpan timeout, IReadOnlyList<IAsyncLockSetMember> locks, CancellationToken cancellationToken = default) =>
        EnterAsyncList(locks, SetTimeoutMs(timeout, locks), cancellationToken, throwOnTimeout: false, rejectRepeats: false);

    /// <summary>Validates a timeout given to an async set; one out of range names the set's members.</summary>
    private static int SetTimeoutMs(TimeSpan timeout, IReadOnlyList<IAsyncLockSetMember> locks)
    {
        if (!TimeoutMath.InRange(timeout, out int ms))
        {
            ThrowHelper.ThrowTimeoutOutOfRangeFor(ThrowHelper.DescribeSet(locks ?? []), timeout);
        }

        return ms;
    }

    /// <summary>A list the caller gave; <paramref name="rejectRepeats"/>: a lock in it twice is an <see cref="ArgumentException"/>, else taken once.</summary>
    private static ValueTask<AsyncLockSetScope> EnterAsyncList(IReadOnlyList<IAsyncLockSetMember> locks, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool rejectRepeats)
    {
        ArgumentNullException.ThrowIfNull(locks);
        int count = locks.Count;
        if (count == 0)
        {
            throw new ArgumentException("A lock set needs at least one lock.", nameof(locks));
        }

        LockBuffer inline = default;
        Span<LockPrimitive?> members = count <= LockBuffer.Capacity ? inline[..count] : new LockPrimitive?[count];
        for (int i = 0; i < count; i++)
        {
            var item = locks[i] ?? throw new ArgumentException("A lock set cannot contain null.", nameof(locks));
            members[i] = AsAsyncMember(item, nameof(locks));
        }

        return EnterAsyncSet(members, timeoutMs, cancellationToken, throwOnTimeout, rejectRepeatsOf: rejectRepeats ? locks : null);
    }

    /// <summary>
    /// Every async set (and an async striped lock's several keys): sort, reject what cannot succeed, check the order,
    /// try all at once; only then, if something was busy, the awaiting loop.
    /// </summary>
    /// <remarks>
    /// <paramref name="rejectRepeatsOf"/>: the caller's list, when a lock in it twice is an error; null when such a lock is
    /// taken once (the two-lock form, a striped lock's keys on one stripe).
    /// </remarks>
    internal static ValueTask<AsyncLockSetScope> EnterAsyncSet(
        Span<LockPrimitive?> members, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, IReadOnlyList<IAsyncLockSetMember>? rejectRepeatsOf = null)
    {
        var ordered = members[..SortDistinct(members, rejectRepeatsOf)];
        if (cancellationToken.IsCancellationRequested)
        {
            // Like each lock's own acquisition: a cancelled token takes nothing, even when every lock is free.
            return ThrowHelper.CanceledWith<AsyncLockSetScope>(ThrowHelper.SetCanceledBeforeAcquiring(ordered, ThrowHelper.CurrentFlow(), cancellationToken));
        }

        // Installed here, in the caller's frame, so the flow's holds are visible to it after the await. The set's own
        // hold on the record (the reservation) keeps it live while the set holds nothing between attempts.
        var flow = FlowOwnership.Enter();
        bool handedOn = false;
        try
        {
            foreach (var member in ordered)
            {
                ((IAsyncSetMember)member!).RejectHeldByFlow(flow);
            }

            if (HasOrdered(ordered))
            {
                FlowOrder.Check(LowestOrdered(ordered), flow, forSet: true);
            }

            timeoutMs = WaitKernel.ResolveTimeout(timeoutMs);
            AsyncScopeBuffer inline = default;
            Span<AsyncLockScope> scopes = ordered.Length <= AsyncScopeBuffer.Capacity ? inline[..ordered.Length] : new AsyncLockScope[ordered.Length];
            int busy = TryTakeAllAsync(ordered, flow, scopes, held: -1);
            if (busy < 0)
            {
                return new ValueTask<AsyncLockSetScope>(AsyncLockSetScope.Of(scopes));
            }

            if (timeoutMs == 0)
            {
                // A try-once that found a member busy records nothing unless it throws, as each lock's own does.
                return throwOnTimeout ? AsyncSetTimedOut(ordered[busy]!, flow, TimeSpan.Zero, throwOnTimeout: true, ordered.Length, busySince: 0) : default;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ThrowHelper.CanceledWith<AsyncLockSetScope>(ThrowHelper.SetCanceledBeforeAcquiring(ordered, ThrowHelper.FlowOnThread(flow), cancellationToken));
            }

            handedOn = true;
            return EnterContendedAsync(ordered.ToArray()!, flow, busy, timeoutMs, cancellationToken, throwOnTimeout);
        }
        finally
        {
            if (!handedOn)
            {
                FlowOwnership.Released(flow);
            }
        }
    }

    /// <summary>
    /// The contended set: wait on the lock that was busy, take the others only if free, else release all and back off.
    /// Backed by a task, not a pooled box: a caller that blocks on the pending set (<c>.Result</c>) waits for it, where a
    /// pooled box would go back to its pool at once, under the running wait, which then took locks nobody could release.
    /// </summary>
    private static async ValueTask<AsyncLockSetScope> EnterContendedAsync(
        LockPrimitive[] ordered, LockOwner flow, int blockOn, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        try
        {
            long start = Stopwatch.GetTimestamp();
            long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
            var scopes = new AsyncLockScope[ordered.Length];
            int backoff = 1;

            // When the set found the member it waits on next busy: a timeout on it with no time left for its wait
            // measures the wait from there (the back-off).
            long busySince = start;
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    throw ThrowHelper.SetWaitCanceled(ordered, ThrowHelper.FlowOnThread(flow), cancellationToken);
                }

                var busy = ordered[blockOn];
                int remaining = TimeoutMath.Remaining(deadline);
                if (remaining == 0)
                {
                    return await AsyncSetTimedOut(busy, flow, Stopwatch.GetElapsedTime(start), throwOnTimeout, ordered.Length, busySince).ConfigureAwait(false);
                }

                // The only wait: on the lock that was busy last time. Its own wait reports a timeout as its result is
                // read, and leaves with that read what the report named, for the exception below.
                var wait = ((IAsyncSetMember)busy).EnterForAsyncSet(flow, remaining, cancellationToken);
                if (!wait.IsCompleted)
                {
                    await new CompletionOf(wait);
                }

                var first = SetMemberTimeout.TakeResult(wait, flow, busy, start, out bool reported, out var holder, out int gaveUpState, out var waited);
                if (!first.IsAcquired)
                {
                    if (throwOnTimeout)
                    {
                        if (!reported)
                        {
                            // No report to follow (a controlled wait the scheduler ended reports nothing): read them now.
                            gaveUpState = GaveUpStateOf(busy);
                            holder = AsyncWaits.HolderAsReported(busy);
                            waited = Stopwatch.GetElapsedTime(start);
                        }

                        // The wait its event gave: the set's whole wait.
                        ThrowSetTimeout(busy, ordered.Length, flow, waited, gaveUpState, holder);
                    }

                    return default;
                }

                scopes[blockOn] = first;
                int failedAt;
                try
                {
                    failedAt = TryTakeAllAsync(ordered, flow, scopes, blockOn);
                }
                catch
                {
                    first.Dispose();
                    throw;
                }

                if (failedAt < 0)
                {
                    return AsyncLockSetScope.Of(scopes);
                }

                first.Dispose();
                blockOn = failedAt;
                busySince = Stopwatch.GetTimestamp();

                // Randomised, growing pause: two sets colliding again at once would otherwise retry in lock-step.
                int pause = Random.Shared.Next(backoff + 1);
                remaining = TimeoutMath.Remaining(deadline);
                try
                {
                    await Task.Delay(BackoffPause(pause, remaining), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Cancelled in the pause: named like a cancellation during a wait, not the delay's bare "A task was canceled".
                    throw ThrowHelper.SetWaitCanceled(ordered, ThrowHelper.FlowOnThread(flow), cancellationToken);
                }
                backoff = Math.Min(backoff * 2, MaxBackoffMilliseconds);
            }
        }
        finally
        {
            // The set's own hold ends. If it was the last, the caller's frame keeps a dead view, which claims from its
            // base on its next acquisition; retired, so no later claim (another flow's) makes it live again.
            FlowOwnership.ReleasedInCallee(flow);
        }
    }

    /// <summary>
    /// Awaits a member's wait without reading its result, so the set reads it through
    /// <see cref="SetMemberTimeout.TakeResult"/>, which keeps what that wait's timeout named for this set alone.
    /// </summary>
    private readonly struct CompletionOf(ValueTask<AsyncLockScope> wait) : ICriticalNotifyCompletion
    {
        private readonly ValueTask<AsyncLockScope> _wait = wait;

        public bool IsCompleted => _wait.IsCompleted;

        public CompletionOf GetAwaiter() => this;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => _wait.ConfigureAwait(false).GetAwaiter().OnCompleted(continuation);

        public void UnsafeOnCompleted(Action continuation) => _wait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(continuation);
    }

    /// <summary>
    /// Takes every member but <paramref name="held"/> without waiting; returns the index of a busy one, or -1. When one
    /// is busy or throws, the ones this call took are released first.
    /// </summary>
    private static int TryTakeAllAsync(ReadOnlySpan<LockPrimitive?> ordered, LockOwner flow, Span<AsyncLockScope> scopes, int held)
    {
        int i = 0;
        try
        {
            for (; i < ordered.Length; i++)
            {
                if (i == held)
                {
                    continue;
                }

                var attempt = ((IAsyncSetMember)ordered[i]!).EnterForAsyncSet(flow, 0, default);
                Debug.Assert(attempt.IsCompleted, "A try-once completes at once.");
                var scope = attempt.Result;
                if (!scope.IsAcquired)
                {
                    ReleaseTakenBefore(scopes, i, held);
                    return i;
                }

                scopes[i] = scope;
            }

            return -1;
        }
        catch
        {
            ReleaseTakenBefore(scopes, i, held);
            throw;
        }
    }

    private static void ReleaseTakenBefore(Span<AsyncLockScope> scopes, int end, int held)
    {
        for (int j = end - 1; j >= 0; j--)
        {
            if (j != held)
            {
                scopes[j].Dispose();
                scopes[j] = default;
            }
        }
    }

    /// <summary>The set gave up at its deadline (or a try-once found a member busy): report it as that member's timeout.</summary>
    /// <remarks>
    /// <paramref name="busySince"/>: when a timed set found the member busy (a <see cref="Stopwatch"/> timestamp), 0 for a
    /// try-once. A timed set records the contention and the wait (from then) that the member's own timed-out wait records
    /// with its timeout; a try-once records neither, as each lock's own.
    /// </remarks>
    private static ValueTask<AsyncLockSetScope> AsyncSetTimedOut(LockPrimitive busy, LockOwner flow, TimeSpan waited, bool throwOnTimeout, int count, long busySince)
    {
        var mode = ModeOf(busy);

        // Read before the event's handler runs: permits it (or anyone) gives back after would contradict the timeout.
        int gaveUpState = GaveUpStateOf(busy);
        var holder = AsyncWaits.HolderAsReported(busy);
        if (busySince != 0)
        {
            LocksmithMetrics.RecordContention(busy, TagOf(mode));
            LocksmithMetrics.RecordWait(busy, TagOf(mode), busySince);
        }

        AsyncWaits.ReportTimeout((IAsyncWaitHost)busy, flow, mode, TagOf(mode), waited, holder);
        if (throwOnTimeout)
        {
            try
            {
                ThrowSetTimeout(busy, count, flow, waited, gaveUpState, holder);
            }
            catch (LockTimeoutException timeout)
            {
                // The set's outcome (a try-once's too): the task's fault, not a throw from the call.
                return ValueTask.FromException<AsyncLockSetScope>(timeout);
            }
        }

        return default;
    }

    /// <summary>
    /// The set's timeout on <paramref name="busy"/>, described as that lock's own timeout would be (its host throws it),
    /// then as the timeout of a set of <paramref name="count"/> locks, none of which is held.
    /// </summary>
    private static void ThrowSetTimeout(LockPrimitive busy, int count, LockOwner flow, TimeSpan waited, int gaveUpState, ReportedHolder holder)
    {
        try
        {
            ((IAsyncWaitHost)busy).ThrowTimeout(flow, ModeOf(busy), waited, scopeTag: 1, gaveUpState, holder);
        }
        catch (LockTimeoutException member)
        {
            throw ThrowHelper.SetTimedOut(member, busy, count);
        }
    }

    /// <summary>
    /// A semaphore member as the set gives up (0 for other locks), for its timeout message: its free permits, and whether
    /// an async waiter is queued, which the set's try-once takes no permit ahead of (held back, not free).
    /// </summary>
    private static int GaveUpStateOf(LockPrimitive busy) =>
        busy is CountingSemaphore semaphore ? semaphore.GaveUpStateNow() : 0;

    private static LockMode ModeOf(LockPrimitive member) => ((IAsyncSetMember)member).SetMode;

    private static string TagOf(LockMode mode) => mode switch
    {
        LockMode.Permit => LockModeTags.Permit,
        LockMode.Write => LockModeTags.Write,
        LockMode.Read => LockModeTags.Read,
        _ => LockModeTags.Exclusive,
    };

    /// <summary>
    /// Sorts the members into the global order in place and drops duplicates; returns how many remain. With
    /// <paramref name="rejectRepeatsOf"/> (the caller's list), a duplicate throws instead, naming both places in it.
    /// </summary>
    private static int SortDistinct(Span<LockPrimitive?> members, IReadOnlyList<IAsyncLockSetMember>? rejectRepeatsOf)
    {
        int count = 0;
        for (int i = 0; i < members.Length; i++)
        {
            var candidate = members[i]!;
            bool duplicate = false;
            for (int j = 0; j < count; j++)
            {
                if (ReferenceEquals(members[j], candidate))
                {
                    duplicate = true;
                    break;
                }
            }

            if (duplicate)
            {
                if (rejectRepeatsOf is not null)
                {
                    int first = 0;
                    while (!ReferenceEquals(rejectRepeatsOf[first], rejectRepeatsOf[i]))
                    {
                        first++;
                    }

                    ThrowHelper.ThrowSetMemberListedTwice(candidate, first, i, ThrowHelper.CurrentFlow(), async: true);
                }

                continue;
            }

            // Insertion sort: sets are small. Reads of the unsorted tail are done before the shift can reach them.
            int at = count;
            while (at > 0 && Precedes(candidate, members[at - 1]!))
            {
                members[at] = members[at - 1];
                at--;
            }

            members[at] = candidate;
            count++;
        }

        return count;
    }

    /// <summary>A member as the lock it is: every <see cref="IAsyncLockSetMember"/> of this library is a primitive with the set's hooks.</summary>
    private static LockPrimitive AsAsyncMember(object member, string paramName)
    {
        if (member is LockPrimitive primitive and IAsyncSetMember and IAsyncWaitHost)
        {
            return primitive;
        }

        ThrowHelper.ThrowNotAnAsyncSetMember(member, paramName);
        return null!;
    }
}
