using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Acquires several locks at once in the global lock order — level, then <see cref="LockPrimitive.Id"/> — so
/// two threads locking the same accounts in opposite argument order can never deadlock.
/// </summary>
/// <remarks>
/// <para>The set is all-or-nothing: it blocks only on one lock at a time, and takes the others only if they are
/// free. When one is taken it releases everything it holds, backs off for a random, growing pause, and retries,
/// blocking next on the lock that was busy. Holding some locks while waiting for others (hold-and-wait) never
/// happens, which is what makes a timeout clean: at the deadline it holds nothing and throws
/// <see cref="LockTimeoutException"/>. The same holds for every other way out: whatever a member throws
/// (cancellation, a misuse it detects), the locks the set took before it are released before the exception leaves.</para>
/// <para>Before anything is taken, a set that can never succeed is rejected with <see cref="LockRecursionException"/>:
/// one naming an <see cref="ExclusiveLock"/> or <see cref="SpinGate"/> the calling thread holds, or a
/// <see cref="ReadWriteLock"/> whose write or read lock it holds (the set takes the write lock; there is no upgrade).
/// A <see cref="ReentrantLock"/> the caller holds is entered once more, as its own <c>Acquire</c> would, and released
/// once with the set. A <see cref="CountingSemaphore"/> has no owner: the set takes one more permit.</para>
/// <para>The whole set is checked once against the locks the thread already holds: its lowest level must be
/// greater than every ordered lock held. Locks of one level may share a set (that is how two accounts are locked
/// together). A list that names one lock twice is an <see cref="ArgumentException"/> naming it and both places; the
/// two-lock forms (<c>Acquire(first, second)</c>) and <c>AcquireLocksOf</c>, made for the locks of objects that may be one
/// object (a transfer from an account to itself), take it once. Each lock is taken exclusively (write mode, one permit).
/// Members are <see cref="ILockSetMember"/>s, so a striped lock (taken by key, through its own <c>AcquireMany</c>)
/// cannot be passed at all.</para>
/// </remarks>
public static partial class LockSet
{
    private const int MaxBackoffMilliseconds = 16;

    /// <summary>Acquires every lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds; no lock is taken.</exception>
    /// <exception cref="LockRecursionException">The thread already holds a member that cannot be re-entered (an
    /// <see cref="ExclusiveLock"/>, a <see cref="SpinGate"/>, or the write or read lock of a <see cref="ReadWriteLock"/>);
    /// no lock is taken.</exception>
    /// <exception cref="ArgumentException">The set is empty, contains null, or lists a lock twice.</exception>
    public static LockSetScope Acquire(params ReadOnlySpan<ILockSetMember> locks)
    {
        EnterSet(locks, TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, rejectRepeats: true, out var scope);
        return scope;
    }

    /// <summary>
    /// Acquires two locks in the global order, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>: the
    /// common case (a transfer between two accounts) without sorting a span.
    /// </summary>
    /// <param name="first">One lock.</param>
    /// <param name="second">The other lock; may be the same as <paramref name="first"/>, which is then taken once.</param>
    /// <returns>A scope that releases both.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before both could be held together; neither is held.</exception>
    /// <exception cref="LockOrderViolationException">The lower of the two is not above a lock the thread holds; neither is taken.</exception>
    /// <exception cref="LockRecursionException">The thread already holds one of them and it cannot be re-entered (an
    /// <see cref="ExclusiveLock"/>, a <see cref="SpinGate"/>, or the write or read lock of a <see cref="ReadWriteLock"/>);
    /// neither is taken.</exception>
    /// <exception cref="ArgumentNullException">A lock is null.</exception>
    public static LockSetScope Acquire(ILockSetMember first, ILockSetMember second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var a = AsPrimitive(first, nameof(first));
        var b = AsPrimitive(second, nameof(second));
        if (Precedes(b, a))
        {
            (a, b) = (b, a);
        }

        bool same = ReferenceEquals(a, b);
        int threadId = CurrentThreadId.Value;
        RejectHeldByCaller(a, threadId);
        if (!same)
        {
            RejectHeldByCaller(b, threadId);
        }

        if (b.IsOrdered)
        {
            OrderGuard.BeforeAcquireSet(a.IsOrdered ? a : b);
        }

        if (TryEnterMember(a))
        {
            if (same || TryEnterSecond(a, b))
            {
                return LockSetScope.Of(a, same ? null : b);
            }

            ExitMember(a);
        }

        ReadOnlySpan<LockPrimitive> both = [a, b];
        Enter(both, TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, out var scope);
        return scope;
    }

    /// <summary>Acquires every lock, waiting at most <paramref name="timeout"/> for all of them together.</summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> keeps trying.</param>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <exception cref="LockTimeoutException">The timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="Acquire(ReadOnlySpan{ILockSetMember})"/>
    public static LockSetScope Acquire(TimeSpan timeout, params ReadOnlySpan<ILockSetMember> locks)
    {
        EnterSet(locks, SetTimeoutMs(timeout, locks), default, throwOnTimeout: true, rejectRepeats: true, out var scope);
        return scope;
    }

    /// <summary>Acquires every lock, waiting at most <paramref name="timeout"/> or until cancelled.</summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> keeps trying.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <inheritdoc cref="Acquire(TimeSpan, ReadOnlySpan{ILockSetMember})"/>
    public static LockSetScope Acquire(TimeSpan timeout, CancellationToken cancellationToken, params ReadOnlySpan<ILockSetMember> locks)
    {
        EnterSet(locks, SetTimeoutMs(timeout, locks), cancellationToken, throwOnTimeout: true, rejectRepeats: true, out var scope);
        return scope;
    }

    /// <summary>Tries to acquire every lock within <paramref name="timeout"/>; all or nothing.</summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="scope">The scope holding every lock, or an empty scope.</param>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <returns>Whether every lock is held.</returns>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds; no lock is taken.</exception>
    /// <exception cref="LockRecursionException">The thread already holds a member that cannot be re-entered (an
    /// <see cref="ExclusiveLock"/>, a <see cref="SpinGate"/>, or the write or read lock of a <see cref="ReadWriteLock"/>);
    /// no lock is taken.</exception>
    /// <exception cref="ArgumentException">The set is empty, contains null, or lists a lock twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static bool TryAcquire(TimeSpan timeout, out LockSetScope scope, params ReadOnlySpan<ILockSetMember> locks) =>
        EnterSet(locks, SetTimeoutMs(timeout, locks), default, throwOnTimeout: false, rejectRepeats: true, out scope);

    /// <summary>Tries to acquire every lock within <paramref name="timeout"/>, or until cancelled; all or nothing.</summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <param name="scope">The scope holding every lock, or an empty scope.</param>
    /// <param name="locks">The locks, in any order, each once.</param>
    /// <returns>Whether every lock is held.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds; no lock is taken.</exception>
    /// <exception cref="LockRecursionException">The thread already holds a member that cannot be re-entered (an
    /// <see cref="ExclusiveLock"/>, a <see cref="SpinGate"/>, or the write or read lock of a <see cref="ReadWriteLock"/>);
    /// no lock is taken.</exception>
    /// <exception cref="ArgumentException">The set is empty, contains null, or lists a lock twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken, out LockSetScope scope, params ReadOnlySpan<ILockSetMember> locks) =>
        EnterSet(locks, SetTimeoutMs(timeout, locks), cancellationToken, throwOnTimeout: false, rejectRepeats: true, out scope);

    /// <summary>
    /// Acquires the locks of several objects, some of which may be one object at run time (a transfer from an account to
    /// itself): a lock given more than once is taken once. Otherwise as <see cref="Acquire(ReadOnlySpan{ILockSetMember})"/>.
    /// </summary>
    /// <param name="locks">The locks, in any order; a lock given twice is taken once (for a semaphore: one permit).</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds; no lock is taken.</exception>
    /// <exception cref="LockRecursionException">The thread already holds a member that cannot be re-entered; no lock is taken.</exception>
    /// <exception cref="ArgumentException">The set is empty or contains null.</exception>
    public static LockSetScope AcquireLocksOf(params ReadOnlySpan<ILockSetMember> locks)
    {
        EnterSet(locks, TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, rejectRepeats: false, out var scope);
        return scope;
    }

    /// <summary>
    /// Acquires the locks of several objects, some of which may be one object, waiting at most <paramref name="timeout"/>
    /// for all of them together: a lock given more than once is taken once.
    /// </summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> keeps trying.</param>
    /// <param name="locks">The locks, in any order; a lock given twice is taken once (for a semaphore: one permit).</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed before all locks could be held together; no lock is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds; no lock is taken.</exception>
    /// <exception cref="LockRecursionException">The thread already holds a member that cannot be re-entered; no lock is taken.</exception>
    /// <exception cref="ArgumentException">The set is empty or contains null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static LockSetScope AcquireLocksOf(TimeSpan timeout, params ReadOnlySpan<ILockSetMember> locks)
    {
        EnterSet(locks, SetTimeoutMs(timeout, locks), default, throwOnTimeout: true, rejectRepeats: false, out var scope);
        return scope;
    }

    /// <summary>
    /// Tries to acquire the locks of several objects, some of which may be one object, within <paramref name="timeout"/>;
    /// all or nothing, and a lock given more than once is taken once.
    /// </summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="scope">The scope holding every lock, or an empty scope.</param>
    /// <param name="locks">The locks, in any order; a lock given twice is taken once (for a semaphore: one permit).</param>
    /// <returns>Whether every lock is held.</returns>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds; no lock is taken.</exception>
    /// <exception cref="LockRecursionException">The thread already holds a member that cannot be re-entered; no lock is taken.</exception>
    /// <exception cref="ArgumentException">The set is empty or contains null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static bool TryAcquireLocksOf(TimeSpan timeout, out LockSetScope scope, params ReadOnlySpan<ILockSetMember> locks) =>
        EnterSet(locks, SetTimeoutMs(timeout, locks), default, throwOnTimeout: false, rejectRepeats: false, out scope);

    /// <summary>Validates a timeout given to a set; one out of range names the set's members.</summary>
    private static int SetTimeoutMs(TimeSpan timeout, scoped ReadOnlySpan<ILockSetMember> locks)
    {
        if (!TimeoutMath.InRange(timeout, out int ms))
        {
            ThrowHelper.ThrowTimeoutOutOfRangeFor(ThrowHelper.DescribeSet(locks.ToArray()), timeout);
        }

        return ms;
    }

    /// <summary>The set of several stripes of a striped lock (or the fallback of the two-lock fast path).</summary>
    /// <remarks>Stripes of two keys may coincide (and the two-lock path's pair may be one lock): each is taken once.</remarks>
    internal static bool Enter(scoped ReadOnlySpan<LockPrimitive?> locks, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, out LockSetScope scope) =>
        EnterSet(locks, timeoutMs, cancellationToken, throwOnTimeout, rejectRepeats: false, out scope);

    /// <summary>
    /// Every span path: collect and sort, reject what cannot succeed, check the order, then take all or nothing. On
    /// any way out but success — false or an exception — the scope's rented buffer goes back and the scope is empty;
    /// the taking steps below release what they took before they return false or let an exception pass.
    /// </summary>
    /// <remarks>
    /// <paramref name="rejectRepeats"/>: a lock listed twice is an <see cref="ArgumentException"/> (a list the caller
    /// wrote); otherwise it is taken once (the locks of objects that may be one object, a striped lock's stripes).
    /// </remarks>
    private static bool EnterSet<T>(scoped ReadOnlySpan<T?> locks, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool rejectRepeats, out LockSetScope scope)
        where T : class
    {
        scope = default;
        bool acquired = false;
        try
        {
            int count = Collect(locks, rejectRepeats, ref scope);
            Span<LockPrimitive?> ordered = scope.Locks[..count];
            if (cancellationToken.IsCancellationRequested)
            {
                // Like each lock's own acquisition (and before its recursion check): a cancelled token takes nothing,
                // even when every lock is free.
                ThrowHelper.ThrowSetCanceledBeforeAcquiring(ordered, $"Thread {ThreadNames.Current()}", cancellationToken);
            }

            RejectHeldByCaller(ordered);

            if (HasOrdered(ordered))
            {
                OrderGuard.BeforeAcquireSet(LowestOrdered(ordered));
            }

            acquired = TryTakeAllFree(ordered);
            if (!acquired)
            {
                if (timeoutMs == TimeoutMathDefaults.UseDefault)
                {
                    timeoutMs = TimeoutMath.ToMilliseconds(LocksmithPolicy.DefaultTimeout);
                }

                acquired = EnterContended(ordered, timeoutMs, cancellationToken, throwOnTimeout);
            }

            if (acquired)
            {
                scope.SetCount(count);
            }

            return acquired;
        }
        finally
        {
            if (!acquired)
            {
                scope.ReturnBuffer();
                scope = default;
            }
        }
    }

    /// <summary>Copies the distinct locks into the scope's buffer, sorted by the global order.</summary>
    private static int Collect<T>(scoped ReadOnlySpan<T?> locks, bool rejectRepeats, ref LockSetScope scope)
        where T : class
    {
        if (locks.IsEmpty)
        {
            throw new ArgumentException("A lock set needs at least one lock.", nameof(locks));
        }

        scope.EnsureCapacity(locks.Length);
        Span<LockPrimitive?> buffer = scope.Locks;
        int count = 0;
        for (int index = 0; index < locks.Length; index++)
        {
            var item = locks[index];
            if (item is null)
            {
                throw new ArgumentException("A lock set cannot contain null.", nameof(locks));
            }

            var candidate = AsPrimitive(item, nameof(locks));

            // Insertion sort: sets are small, and this keeps the common two-lock case branch-light.
            int at = count;
            bool duplicate = false;
            for (int i = 0; i < count; i++)
            {
                if (ReferenceEquals(buffer[i], candidate))
                {
                    duplicate = true;
                    break;
                }
            }

            if (duplicate)
            {
                if (rejectRepeats)
                {
                    ThrowListedTwice(locks, candidate, index);
                }

                continue;
            }

            while (at > 0 && Precedes(candidate, buffer[at - 1]!))
            {
                buffer[at] = buffer[at - 1];
                at--;
            }

            buffer[at] = candidate;
            count++;
        }

        return count;
    }

    /// <summary>A caller's list names <paramref name="member"/> again at <paramref name="again"/>: name both places.</summary>
    [DoesNotReturn]
    private static void ThrowListedTwice<T>(scoped ReadOnlySpan<T?> locks, LockPrimitive member, int again)
        where T : class
    {
        int first = 0;
        while (!ReferenceEquals(AsPrimitive(locks[first]!, nameof(locks)), member))
        {
            first++;
        }

        ThrowHelper.ThrowSetMemberListedTwice(member, first, again, $"Thread {ThreadNames.Current()}", async: false);
    }

    /// <summary>The global order: unordered locks first, then by level, then by id.</summary>
    internal static bool Precedes(LockPrimitive a, LockPrimitive b)
    {
        if (a.IsOrdered != b.IsOrdered)
        {
            return !a.IsOrdered;
        }

        if (a.IsOrdered && a.OrderLevel != b.OrderLevel)
        {
            return a.OrderLevel < b.OrderLevel;
        }

        return a.Id < b.Id;
    }

    private static bool HasOrdered(Span<LockPrimitive?> ordered) => ordered[^1]!.IsOrdered;

    private static LockPrimitive LowestOrdered(Span<LockPrimitive?> ordered)
    {
        foreach (var lockPrimitive in ordered)
        {
            if (lockPrimitive!.IsOrdered)
            {
                return lockPrimitive;
            }
        }

        return ordered[0]!;
    }

    /// <summary>The uncontended case: every lock free, taken in order without waiting; all or nothing.</summary>
    private static bool TryTakeAllFree(Span<LockPrimitive?> ordered)
    {
        int taken = 0;
        try
        {
            for (; taken < ordered.Length; taken++)
            {
                if (!TryEnterMember(ordered[taken]!))
                {
                    ReleaseFirst(ordered, taken);
                    return false;
                }
            }

            return true;
        }
        catch
        {
            // A member threw while trying: give back the ones before it, which this attempt took.
            ReleaseFirst(ordered, taken);
            throw;
        }
    }

    private static bool EnterContended(Span<LockPrimitive?> ordered, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        long start = Stopwatch.GetTimestamp();
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        int blockOn = 0;
        int backoff = 1;

        // When the set found the member it blocks on next busy: a timeout on it with no time left for its wait measures
        // the wait from there (the back-off).
        long busySince = start;
        while (true)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                ThrowHelper.ThrowSetWaitCanceled(ordered, cancellationToken);
            }

            var busy = ordered[blockOn]!;
            // Block on the lock that was busy last time (it is the likely bottleneck); this is the only wait.
            // A timeout here was reported by that lock's own wait, unless no time was left: then the wait was a
            // try-once, which reports nothing, and the set reports its timeout itself (a try-once only if it throws).
            int remaining = TimeoutMath.Remaining(deadline);
            ReportedTimeout.Clear();

            // Its timeout event gives the set's whole wait (armed on this thread for this wait only).
            var outer = SetMemberTimeout.ArmSync(busy, start);
            bool entered, reported;
            TimeSpan reportedWait;
            try
            {
                entered = busy.EnterForSet(remaining, cancellationToken);
            }
            finally
            {
                reported = SetMemberTimeout.DisarmSync(outer, out reportedWait);
            }

            if (!entered)
            {
                if (remaining == 0 && (timeoutMs != 0 || throwOnTimeout))
                {
                    return TimedOutBetweenAttempts(busy, Stopwatch.GetElapsedTime(start), throwOnTimeout, ordered.Length, timeoutMs != 0 ? busySince : 0);
                }

                if (throwOnTimeout)
                {
                    // The wait its event gave; a wait that reported none (a controlled one) is measured now.
                    ThrowMembersTimeout(busy, reported ? reportedWait : Stopwatch.GetElapsedTime(start), ordered.Length);
                }

                return false;
            }

            int failedAt;
            try
            {
                failedAt = TryTakeOthers(ordered, blockOn);
            }
            catch
            {
                // TryTakeOthers gave back what it took; the lock this attempt blocked on is still held.
                busy.ExitForSet();
                throw;
            }

            if (failedAt < 0)
            {
                return true;
            }

            busy.ExitForSet();
            blockOn = failedAt;
            busySince = Stopwatch.GetTimestamp();
            int left = TimeoutMath.Remaining(deadline);
            if (left == 0)
            {
                if (timeoutMs == 0 && !throwOnTimeout)
                {
                    // A try-once that returns false did not wait: it reports nothing, as each lock's own try-once.
                    return false;
                }

                return TimedOutBetweenAttempts(ordered[failedAt]!, Stopwatch.GetElapsedTime(start), throwOnTimeout, ordered.Length, timeoutMs != 0 ? busySince : 0);
            }

            // Randomised, growing pause: two sets colliding again at once would otherwise retry in lock-step.
            Thread.Sleep(BackoffPause(Random.Shared.Next(backoff + 1), left));
            backoff = Math.Min(backoff * 2, MaxBackoffMilliseconds);
        }
    }

    /// <summary>
    /// The back-off pause: <paramref name="drawn"/> (the randomised, growing pause), but never past the deadline, so a
    /// timed set does not return up to <see cref="MaxBackoffMilliseconds"/> late. <paramref name="remaining"/> is the time
    /// left (<see cref="TimeoutMath.Remaining"/>: -1 for no deadline). The async set pauses as long.
    /// </summary>
    internal static int BackoffPause(int drawn, int remaining) => remaining < 0 ? drawn : Math.Min(drawn, remaining);

    /// <summary>
    /// The deadline passed while backing off (or no time was left for the wait): report it as the timeout of the lock that
    /// was busy, in the mode the set takes it in, as that lock's own wait reports its timeouts.
    /// </summary>
    /// <remarks>
    /// <paramref name="busySince"/>: when a timed set found the lock busy (a <see cref="Stopwatch"/> timestamp), 0 for a
    /// try-once. A timed set records the contention and the wait (from then) that a single lock's timed-out wait records
    /// with its timeout, one that ran out before it queued included; a try-once records neither, as each lock's own.
    /// </remarks>
    private static bool TimedOutBetweenAttempts(LockPrimitive busy, TimeSpan waited, bool throwOnTimeout, int count, long busySince)
    {
        // The holder and its name read once, for the event and the exception.
        int ownerThreadId = busy.ExclusiveOwnerId;
        string? ownerThreadName = ThreadNames.NameOf(ownerThreadId);

        // Read before the event's handler runs: permits it (or anyone) gives back after would contradict the timeout.
        var gaveUp = GaveUpOf(busy);
        var mode = SetModeOf(busy);
        if (busySince != 0)
        {
            LocksmithMetrics.RecordContention(busy, TagOf(mode));
            LocksmithMetrics.RecordWait(busy, TagOf(mode), busySince);
        }

        LocksmithMetrics.RecordTimeout(busy, TagOf(mode));
        LocksmithPolicy.TimeoutOccurred?.Invoke(new LockTimeoutEvent(busy.Name, mode, waited, CurrentThreadId.Value, ownerThreadId)
        {
            OwnerThreadName = ownerThreadName,
        });
        if (throwOnTimeout)
        {
            ThrowSetTimeout(busy, ownerThreadId, ownerThreadName, gaveUp, waited, count);
        }

        return false;
    }

    /// <summary>
    /// The member's own wait timed out and reported it: the set's exception names the holder that report named, and for a
    /// semaphore the permits its wait saw free as it gave up (read again now, the holder may have left, its thread ended,
    /// or permits come back, during the report's handler).
    /// </summary>
    [DoesNotReturn]
    private static void ThrowMembersTimeout(LockPrimitive busy, TimeSpan waited, int count)
    {
        if (ReportedTimeout.TryTake(busy, out var reported))
        {
            ThrowSetTimeout(busy, reported.OwnerThreadId, reported.OwnerThreadName, SemaphoreGaveUp.Unpack(reported.GaveUpState), waited, count);
        }

        // No report to follow (a controlled wait the scheduler ended reports nothing): read the holder now.
        int ownerThreadId = busy.ExclusiveOwnerId;
        ThrowSetTimeout(busy, ownerThreadId, ThreadNames.NameOf(ownerThreadId), GaveUpOf(busy), waited, count);
    }

    /// <summary>
    /// A semaphore member's free permits (none for other locks), for the set's timeout message: held back while an async
    /// waiter is queued, which a thread takes no permit ahead of.
    /// </summary>
    private static SemaphoreGaveUp GaveUpOf(LockPrimitive busy) =>
        busy is CountingSemaphore semaphore ? SemaphoreGaveUp.Unpack(semaphore.GaveUpStateNow()) : default;

    /// <summary>
    /// The set's timeout on <paramref name="busy"/>, described as that lock's own timeout would be, then as the timeout of
    /// a set of <paramref name="count"/> locks, none of which is held.
    /// </summary>
    [DoesNotReturn]
    private static void ThrowSetTimeout(LockPrimitive busy, int ownerThreadId, string? ownerThreadName, SemaphoreGaveUp gaveUp, TimeSpan waited, int count)
    {
        try
        {
            if (busy is CountingSemaphore semaphore)
            {
                ThrowHelper.ThrowSemaphoreTimeout(semaphore, 1, gaveUp, semaphore.MaxCount, waited);
            }

            ThrowHelper.ThrowTimeout(busy, SetModeOf(busy), ownerThreadId, ownerThreadName, waited);
        }
        catch (LockTimeoutException member)
        {
            throw ThrowHelper.SetTimedOut(member, busy, count);
        }
    }

    /// <summary>The mode a sync set takes <paramref name="member"/> in: one permit of a semaphore, a read-write lock's write lock, else the lock.</summary>
    private static LockMode SetModeOf(LockPrimitive member) => member.Kind switch
    {
        LockKind.Semaphore => LockMode.Permit,
        LockKind.ReadWrite => LockMode.Write,
        _ => LockMode.Exclusive,
    };

    /// <summary>
    /// Takes every lock but <paramref name="held"/> without waiting; returns the index of a busy one, or -1. When one is
    /// busy or throws, the ones it took are released first (<paramref name="held"/> stays held: the caller owns it).
    /// </summary>
    private static int TryTakeOthers(Span<LockPrimitive?> ordered, int held)
    {
        int i = 0;
        try
        {
            for (; i < ordered.Length; i++)
            {
                if (i != held && !ordered[i]!.EnterForSet(0, default))
                {
                    ReleaseTakenBefore(ordered, i, held);
                    return i;
                }
            }

            return -1;
        }
        catch
        {
            ReleaseTakenBefore(ordered, i, held);
            throw;
        }
    }

    private static void ReleaseTakenBefore(Span<LockPrimitive?> ordered, int end, int held)
    {
        for (int j = end - 1; j >= 0; j--)
        {
            if (j != held)
            {
                ordered[j]!.ExitForSet();
            }
        }
    }

    /// <summary>Takes the second lock of the two-lock fast path; if it throws, the first is released before the exception leaves.</summary>
    private static bool TryEnterSecond(LockPrimitive first, LockPrimitive second)
    {
        try
        {
            return TryEnterMember(second);
        }
        catch
        {
            ExitMember(first);
            throw;
        }
    }

    /// <summary>A member as the lock it is: every <see cref="ILockSetMember"/> of this library is a <see cref="LockPrimitive"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LockPrimitive AsPrimitive(object member, string paramName)
    {
        if (member is LockPrimitive primitive)
        {
            return primitive;
        }

        ThrowHelper.ThrowNotASetMember(member, paramName);
        return null!;
    }

    /// <summary>
    /// Rejects, before anything is taken, a set that could never be held: a member the calling thread already holds
    /// and cannot enter again. Waiting for it would wait for this thread itself (or, for a read lock held, an upgrade).
    /// </summary>
    private static void RejectHeldByCaller(Span<LockPrimitive?> ordered)
    {
        int threadId = CurrentThreadId.Value;
        foreach (var member in ordered)
        {
            RejectHeldByCaller(member!, threadId);
        }
    }

    /// <summary>
    /// The held-by-caller check of one member. The exclusive lock is tested inline (one owner read); the other kinds
    /// go through a type switch over what each primitive already exposes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RejectHeldByCaller(LockPrimitive member, int threadId)
    {
        if (member is ExclusiveLock exclusive)
        {
            if (exclusive.OwnerThreadId == threadId)
            {
                ThrowHelper.ThrowSetMemberHeld(exclusive, "it",
                    "ExclusiveLock is not reentrant, so the set would wait for this thread itself.");
            }
        }
        else
        {
            RejectOtherHeldByCaller(member, threadId);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RejectOtherHeldByCaller(LockPrimitive member, int threadId)
    {
        switch (member)
        {
            case SpinGate gate when gate.OwnerThreadId == threadId:
                ThrowHelper.ThrowSetMemberHeld(gate, "it", "SpinGate is not reentrant, so the set would spin on this thread itself.");
                break;
            case ReadWriteLock readWrite when readWrite.WriterThreadId == threadId:
                ThrowHelper.ThrowSetMemberHeld(readWrite, "its write lock",
                    "The set takes the write lock, and ReadWriteLock is not reentrant, so it would wait for this thread itself.");
                break;
            case ReadWriteLock readWrite when readWrite.IsReadLockHeldByCurrentThread:
                ThrowHelper.ThrowSetMemberHeld(readWrite, "its read lock",
                    "The set takes the write lock, which waits for every reader to leave, this thread included: ReadWriteLock has no upgrade.",
                    holdsARead: true);
                break;

            // A ReentrantLock the caller holds is entered once more and released once with the set: re-entry is its
            // purpose, and the set's retry loop only bumps and drops its count. A CountingSemaphore has no owner.
            default:
                break;
        }
    }

    /// <summary>
    /// Takes one member without waiting. The exclusive lock, by far the common member, is called directly:
    /// a type test costs less than the virtual call, and keeps the set's fast path free of dispatch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryEnterMember(LockPrimitive member) =>
        member is ExclusiveLock exclusive
            ? exclusive.Enter(0, default, throwOnTimeout: false, checkOrder: false)
            : member.EnterForSet(0, default);

    /// <summary>Releases one member; see <see cref="TryEnterMember"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ExitMember(LockPrimitive member)
    {
        if (member is ExclusiveLock exclusive)
        {
            exclusive.Release();
        }
        else
        {
            member.ExitForSet();
        }
    }

    private static void ReleaseFirst(Span<LockPrimitive?> ordered, int count)
    {
        for (int i = count - 1; i >= 0; i--)
        {
            ExitMember(ordered[i]!);
        }
    }
}
