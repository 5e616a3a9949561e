using System;
using System.Diagnostics;
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
/// <see cref="LockTimeoutException"/>.</para>
/// <para>The whole set is checked once against the locks the thread already holds: its lowest level must be
/// greater than every ordered lock held. Locks of one level may share a set (that is how two accounts are locked
/// together); the same lock named twice is taken once. Each lock is taken exclusively (write mode, one permit).</para>
/// </remarks>
public static class LockSet
{
    private const int MaxBackoffMilliseconds = 16;

    /// <summary>Acquires every lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="locks">The locks, in any order; duplicates are taken once.</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before all locks could be held together.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds.</exception>
    /// <exception cref="ArgumentException">The set is empty or contains null.</exception>
    public static LockSetScope Acquire(params ReadOnlySpan<LockPrimitive> locks)
    {
        Enter(locks, TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, out var scope);
        return scope;
    }

    /// <summary>
    /// Acquires two locks in the global order, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>: the
    /// common case (a transfer between two accounts) without sorting a span.
    /// </summary>
    /// <param name="first">One lock.</param>
    /// <param name="second">The other lock; may be the same as <paramref name="first"/>, which is then taken once.</param>
    /// <returns>A scope that releases both.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed before both could be held together.</exception>
    /// <exception cref="LockOrderViolationException">The lower of the two is not above a lock the thread holds.</exception>
    /// <exception cref="ArgumentNullException">A lock is null.</exception>
    public static LockSetScope Acquire(LockPrimitive first, LockPrimitive second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (Precedes(second, first))
        {
            (first, second) = (second, first);
        }

        if (second.IsOrdered)
        {
            OrderGuard.BeforeAcquire(first.IsOrdered ? first : second);
        }

        bool same = ReferenceEquals(first, second);
        if (TryEnterMember(first))
        {
            if (same || TryEnterMember(second))
            {
                return LockSetScope.Of(first, same ? null : second);
            }

            ExitMember(first);
        }

        ReadOnlySpan<LockPrimitive> both = [first, second];
        Enter(both, TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, out var scope);
        return scope;
    }

    /// <summary>Acquires every lock, waiting at most <paramref name="timeout"/> for all of them together.</summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> keeps trying.</param>
    /// <param name="locks">The locks, in any order; duplicates are taken once.</param>
    /// <inheritdoc cref="Acquire(ReadOnlySpan{LockPrimitive})"/>
    public static LockSetScope Acquire(TimeSpan timeout, params ReadOnlySpan<LockPrimitive> locks)
    {
        Enter(locks, TimeoutMath.ToMilliseconds(timeout), default, throwOnTimeout: true, out var scope);
        return scope;
    }

    /// <summary>Acquires every lock, waiting at most <paramref name="timeout"/> or until cancelled.</summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> keeps trying.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <param name="locks">The locks, in any order; duplicates are taken once.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    /// <inheritdoc cref="Acquire(ReadOnlySpan{LockPrimitive})"/>
    public static LockSetScope Acquire(TimeSpan timeout, CancellationToken cancellationToken, params ReadOnlySpan<LockPrimitive> locks)
    {
        Enter(locks, TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: true, out var scope);
        return scope;
    }

    /// <summary>Tries to acquire every lock within <paramref name="timeout"/>; all or nothing.</summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="scope">The scope holding every lock, or an empty scope.</param>
    /// <param name="locks">The locks, in any order; duplicates are taken once.</param>
    /// <returns>Whether every lock is held.</returns>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the thread holds.</exception>
    public static bool TryAcquire(TimeSpan timeout, out LockSetScope scope, params ReadOnlySpan<LockPrimitive> locks) =>
        Enter(locks, TimeoutMath.ToMilliseconds(timeout), default, throwOnTimeout: false, out scope);

    /// <summary>Tries to acquire every lock within <paramref name="timeout"/>, or until cancelled; all or nothing.</summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <param name="scope">The scope holding every lock, or an empty scope.</param>
    /// <param name="locks">The locks, in any order; duplicates are taken once.</param>
    /// <returns>Whether every lock is held.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled; no lock is held.</exception>
    public static bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken, out LockSetScope scope, params ReadOnlySpan<LockPrimitive> locks) =>
        Enter(locks, TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: false, out scope);

    internal static bool Enter(scoped ReadOnlySpan<LockPrimitive?> locks, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, out LockSetScope scope)
    {
        scope = default;
        int count = Collect(locks, ref scope);
        Span<LockPrimitive?> ordered = scope.Locks[..count];

        if (HasOrdered(ordered))
        {
            OrderGuard.BeforeAcquire(LowestOrdered(ordered));
        }

        if (TryTakeAllFree(ordered))
        {
            scope.SetCount(count);
            return true;
        }

        if (timeoutMs == TimeoutMathDefaults.UseDefault)
        {
            timeoutMs = TimeoutMath.ToMilliseconds(LocksmithPolicy.DefaultTimeout);
        }

        if (EnterContended(ordered, timeoutMs, cancellationToken, throwOnTimeout))
        {
            scope.SetCount(count);
            return true;
        }

        scope.ReturnBuffer();
        scope = default;
        return false;
    }

    /// <summary>Copies the distinct locks into the scope's buffer, sorted by the global order.</summary>
    private static int Collect(scoped ReadOnlySpan<LockPrimitive?> locks, ref LockSetScope scope)
    {
        if (locks.IsEmpty)
        {
            throw new ArgumentException("A lock set needs at least one lock.", nameof(locks));
        }

        scope.EnsureCapacity(locks.Length);
        Span<LockPrimitive?> buffer = scope.Locks;
        int count = 0;
        foreach (var candidate in locks)
        {
            if (candidate is null)
            {
                throw new ArgumentException("A lock set cannot contain null.", nameof(locks));
            }

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

    /// <summary>The uncontended case: every lock free, taken in order without waiting.</summary>
    private static bool TryTakeAllFree(Span<LockPrimitive?> ordered)
    {
        for (int i = 0; i < ordered.Length; i++)
        {
            if (!TryEnterMember(ordered[i]!))
            {
                ReleaseFirst(ordered, i);
                return false;
            }
        }

        return true;
    }

    private static bool EnterContended(Span<LockPrimitive?> ordered, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        long start = Stopwatch.GetTimestamp();
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        int blockOn = 0;
        int backoff = 1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var busy = ordered[blockOn]!;
            // Block on the lock that was busy last time (it is the likely bottleneck); this is the only wait.
            // A timeout here was reported by that lock's own wait.
            if (!busy.EnterForSet(TimeoutMath.Remaining(deadline), cancellationToken))
            {
                if (throwOnTimeout)
                {
                    ThrowHelper.ThrowTimeout(busy, LockMode.Exclusive, busy.ExclusiveOwnerId, Stopwatch.GetElapsedTime(start));
                }

                return false;
            }

            int failedAt = TryTakeOthers(ordered, blockOn);
            if (failedAt < 0)
            {
                return true;
            }

            busy.ExitForSet();
            blockOn = failedAt;
            if (TimeoutMath.Remaining(deadline) == 0)
            {
                return TimedOutBetweenAttempts(ordered[failedAt]!, Stopwatch.GetElapsedTime(start), throwOnTimeout);
            }

            // Randomised, growing pause: two sets colliding again at once would otherwise retry in lock-step.
            Thread.Sleep(Random.Shared.Next(backoff + 1));
            backoff = Math.Min(backoff * 2, MaxBackoffMilliseconds);
        }
    }

    /// <summary>The deadline passed while backing off: report it as the timeout of the lock that was busy.</summary>
    private static bool TimedOutBetweenAttempts(LockPrimitive busy, TimeSpan waited, bool throwOnTimeout)
    {
        int ownerThreadId = busy.ExclusiveOwnerId;
        LocksmithMetrics.RecordTimeout(busy, LockModeTags.Exclusive);
        LocksmithPolicy.TimeoutOccurred?.Invoke(new LockTimeoutEvent(busy.Name, LockMode.Exclusive, waited, CurrentThreadId.Value, ownerThreadId));
        if (throwOnTimeout)
        {
            ThrowHelper.ThrowTimeout(busy, LockMode.Exclusive, ownerThreadId, waited);
        }

        return false;
    }

    /// <summary>Takes every lock but <paramref name="held"/> without waiting; returns the index of a busy one, or -1.</summary>
    private static int TryTakeOthers(Span<LockPrimitive?> ordered, int held)
    {
        for (int i = 0; i < ordered.Length; i++)
        {
            if (i != held && !ordered[i]!.EnterForSet(0, default))
            {
                for (int j = i - 1; j >= 0; j--)
                {
                    if (j != held)
                    {
                        ordered[j]!.ExitForSet();
                    }
                }

                return i;
            }
        }

        return -1;
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
