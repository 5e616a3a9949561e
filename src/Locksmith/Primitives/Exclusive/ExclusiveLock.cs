using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A non-reentrant mutual-exclusion lock with an owner. Waiters spin briefly, then sleep. Acquiring it again
/// on the owning thread throws <see cref="LockRecursionException"/> at once instead of deadlocking; releasing it
/// from another thread throws <see cref="SynchronizationLockException"/>.
/// </summary>
/// <remarks>
/// <para>Use <c>using var scope = myLock.Acquire();</c>. Do not use the C# <c>lock</c> statement on it: that takes a
/// <see cref="Monitor"/> on the object, not this lock.</para>
/// <para>The lock is unfair: a thread arriving while the lock is free may take it ahead of a sleeping waiter.
/// That keeps the hand-over cheap (no convoy behind a waking thread), at the price of no FIFO guarantee.</para>
/// </remarks>
public sealed class ExclusiveLock : LockPrimitive, IExclusiveAccessLock, IThreadAffineLock, ILockSetMember
{
    private MutexCore _core;

    /// <summary>Creates an unordered lock with a generated name.</summary>
    /// <remarks>
    /// Kept for <c>new()</c> constraints and reflection. Source code that writes <c>new ExclusiveLock()</c> binds to
    /// <see cref="ExclusiveLock(string, int?, string, string, int)"/> instead, whose generated name tells where the lock was created.
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(-1)]
    public ExclusiveLock()
        : this(null, null, string.Empty, string.Empty, 0)
    {
    }

    /// <summary>Creates a lock.</summary>
    /// <param name="name">
    /// The name messages and metrics use. If null, one is generated from the type, a process-unique id and where the
    /// lock was created, e.g. <c>ExclusiveLock#44 (_gate, Pool.cs:12)</c> for a field initializer; a generated name gives way
    /// to the member name a <c>[Guarded]</c> wrapper declares.
    /// </param>
    /// <param name="level">The lock's level in the global lock order, or null for an unordered lock.</param>
    /// <param name="memberName">Filled in by the compiler (the creating member; a field's name in its initializer). Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler; only the file's name is used. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    public ExclusiveLock(
        string? name = null,
        int? level = null,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : base(name, level, LockKind.Exclusive, memberName, sourceFilePath, sourceLineNumber)
    {
    }

    /// <summary>Whether any thread holds the lock (a snapshot).</summary>
    public bool IsHeld => _core.Owner != 0;

    /// <summary>Whether the current thread holds the lock.</summary>
    public bool IsHeldByCurrentThread => _core.Owner == CurrentThreadId.Value;

    /// <summary>The managed thread id of the owner, or 0 when the lock is free (a snapshot).</summary>
    public int OwnerThreadId => _core.Owner;

    internal override int ExclusiveOwnerId => OwnerThreadId;

    /// <summary>Threads queued in the slow path (a snapshot, for tests and diagnostics).</summary>
    internal int QueuedWaiterCount => _core.WaiterCount;

    /// <summary>The wait queue's gate, for tests that hold it from another thread.</summary>
    internal Lock QueueGateForTests => _core.QueueGate;

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        Enter(timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);

    internal override void ExitForSet() => Release();

    /// <summary>Acquires the lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <returns>A scope whose <c>Dispose</c> releases the lock.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the lock.</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Scope Acquire()
    {
        Enter(TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, checkOrder: true);
        return new Scope(this);
    }

    /// <summary>Acquires the lock, waiting until <paramref name="cancellationToken"/> is cancelled or the default timeout elapses.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <inheritdoc cref="Acquire()"/>
    public Scope Acquire(CancellationToken cancellationToken)
    {
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Exclusive);
        Enter(TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this);
    }

    /// <summary>Acquires the lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="LockTimeoutException">The timeout elapsed; the message names the lock, its owner and the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="Acquire()"/>
    public Scope Acquire(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Exclusive);
        Enter(timeoutMs, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this);
    }

    /// <summary>Acquires the lock if it is free right now.</summary>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the lock was acquired.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the lock.</exception>
    public bool TryAcquire(out Scope scope) => TryAcquire(TimeSpan.Zero, default, out scope);

    /// <summary>Acquires the lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the lock was acquired before the timeout.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the lock.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool TryAcquire(TimeSpan timeout, out Scope scope) => TryAcquire(timeout, default, out scope);

    /// <summary>Acquires the lock, waiting at most <paramref name="timeout"/> or until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <inheritdoc cref="TryAcquire(TimeSpan, out Scope)"/>
    public bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken, out Scope scope)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Exclusive);
        bool acquired = Enter(timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: true);
        scope = acquired ? new Scope(this) : default;
        return acquired;
    }

    /// <summary>Releases the lock. Prefer disposing the scope <see cref="Acquire()"/> returned.</summary>
    /// <exception cref="SynchronizationLockException">The current thread does not hold the lock.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Release()
    {
        // Ordered or controlled locks and timed holds (a hold.duration listener) release out of line; else one CAS.
        if (OffFastPath | HoldStart != 0)
        {
            ReleaseSlow();
        }
        else if (!_core.TryExit(CurrentThreadId.Value))
        {
            ThrowHelper.ThrowNotOwner(this, OwnerThreadId);
        }
    }

    /// <summary>
    /// The one inlined acquire path: one compare-and-swap, and the slow path on failure. Ordered locks take a
    /// separate path, so the unordered one stays small enough to inline without spilling registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Enter(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        if (OffFastPath)
        {
            return TryEnterOrderedFast() || EnterOrdered(timeoutMs, cancellationToken, throwOnTimeout, checkOrder);
        }

        int threadId = CurrentThreadId.Value;
        if (!_core.TryEnterFast(threadId) && !EnterContended(threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    /// <summary>
    /// The ordered fast path: in order, free, taken. It keeps only the lock and the owner record live, so its frame
    /// stays small; anything else (a violation, a set member of equal level, contention) goes to <see cref="EnterOrdered"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryEnterOrderedFast()
    {
        var owner = LockOwner.Current;
        if (Controller is not null || OrderLevel <= owner.Held.MaxLevel || FlowOrder.InUse || !_core.TryEnterFast(owner.OwnerId))
        {
            return false;
        }

        owner.Held.Push(this);
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    /// <summary>The ordered path: the order check hands back the owner record, whose id is the thread id too.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterOrdered(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        if (Controller is not null)
        {
            ScheduleAcquire();
            if (!IsOrdered)
            {
                return EnterUnorderedSlow(timeoutMs, cancellationToken, throwOnTimeout);
            }
        }

        var owner = checkOrder ? OrderGuard.Check(this) : LockOwner.Current;
        int threadId = owner.OwnerId;
        if (!_core.TryEnterFast(threadId) && !EnterContended(threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        owner.Held.Push(this);
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseSlow()
    {
        // The owner record's id is the thread id: one thread-static read serves the check and the pop. A thread
        // without a record took the lock before a declaration made it ordered (or does not own it at all).
        var owner = IsOrdered ? LockOwner.CurrentOrNull : null;
        int threadId = owner?.OwnerId ?? CurrentThreadId.Value;

        // Only the owner takes the hold's start, and before the lock is free for the next owner to stamp its own.
        long holdStart = HoldStart != 0 && _core.Owner == threadId ? TakeHoldStart() : 0;
        if (!_core.TryExit(threadId))
        {
            ThrowHelper.ThrowNotOwner(this, OwnerThreadId);
        }

        if (owner is not null)
        {
            owner.Held.Remove(this);
        }

        if (holdStart != 0)
        {
            RecordHoldThenSchedule(LockModeTags.Exclusive, holdStart);
        }
        else if (Controller is not null)
        {
            ScheduleRelease();
        }
    }

    /// <summary>The unordered acquisition, out of line (a controlled lock after its scheduling point).</summary>
    private bool EnterUnorderedSlow(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        int threadId = CurrentThreadId.Value;
        if (!_core.TryEnterFast(threadId) && !EnterContended(threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    /// <summary>Releases on behalf of a caller that knows it holds the lock (the condition variable).</summary>
    internal void Exit() => Release();

    internal override void GiveBackAfterListenerFault(string modeTag, int permits)
    {
        // Taken back by a condition wait, the lock stays: its caller holds the scope, and the wait throws holding it.
        if (!ConditionRetake.IsRetaking(this))
        {
            Release();
        }
    }

    /// <summary>
    /// A condition wait takes the lock back for a caller that still holds its scope: as an acquisition, but a metrics
    /// listener that throws leaves the lock held (given back, the wait would only take it again, as often as it threw).
    /// <paramref name="quiet"/>: a retake after one that failed records no contention and no wait, so a contention or
    /// wait listener that keeps throwing fails only the first.
    /// </summary>
    internal void Retake(bool quiet)
    {
        var outer = ConditionRetake.Begin(this, quiet);
        try
        {
            Enter(Timeout.Infinite, default, throwOnTimeout: true, checkOrder: false);
        }
        finally
        {
            ConditionRetake.End(outer);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterContended(int threadId, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (_core.Owner == threadId)
        {
            ThrowHelper.ThrowRecursion(this, "Release it before acquiring it again, or use ReentrantLock if re-entry is intended.");
        }

        return _core.EnterContended(this, threadId, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>
    /// An acquired <see cref="ExclusiveLock"/>; disposing it releases the lock. Allocation-free; disposing twice is harmless.
    /// </summary>
    public ref struct Scope
    {
        private ExclusiveLock? _lock;

        internal Scope(ExclusiveLock lockPrimitive) => _lock = lockPrimitive;

        /// <summary>Whether this scope holds the lock (false for the scope of a failed <c>TryAcquire</c>).</summary>
        public readonly bool IsAcquired => _lock is not null;

        /// <summary>Releases the lock, once.</summary>
        /// <exception cref="SynchronizationLockException">Disposed on a thread that does not hold the lock.</exception>
        public void Dispose()
        {
            var lockPrimitive = _lock;
            if (lockPrimitive is not null)
            {
                _lock = null;
                lockPrimitive.Release();
            }
        }
    }
}
