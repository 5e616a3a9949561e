using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A mutual-exclusion lock with an owner that may acquire it again: each acquisition by the owner adds one
/// to a recursion count, and the lock is free only after as many releases. Waiters spin briefly, then sleep.
/// Releasing it from a thread that does not hold it throws <see cref="SynchronizationLockException"/>.
/// </summary>
/// <remarks>
/// <para>Use <c>using var scope = myLock.Acquire();</c>. Do not use the C# <c>lock</c> statement on it: that takes a
/// <see cref="Monitor"/> on the object, not this lock.</para>
/// <para>Prefer <see cref="ExclusiveLock"/> unless re-entry is part of the design: a non-reentrant lock turns an
/// accidental nested acquisition into an error instead of hiding a broken invariant.</para>
/// <para>Re-entry is tested first and only bumps the count: it takes no order check, is not pushed on the held-lock
/// stack again, and is not counted as an acquisition in metrics. The lock is unfair, like <see cref="ExclusiveLock"/>.</para>
/// </remarks>
public sealed class ReentrantLock : LockPrimitive, IExclusiveAccessLock, IThreadAffineLock, IReentrantAccessLock, ILockSetMember
{
    private MutexCore _core;

    // Acquisitions beyond the first; touched only by the owner, so plain reads and writes suffice.
    private int _reentries;

    /// <summary>Creates an unordered lock with a generated name.</summary>
    /// <remarks>
    /// Kept for <c>new()</c> constraints and reflection. Source code that writes <c>new ReentrantLock()</c> binds to
    /// <see cref="ReentrantLock(string, int?, string, string, int)"/> instead, whose generated name tells where the lock was created.
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(-1)]
    public ReentrantLock()
        : this(null, null, string.Empty, string.Empty, 0)
    {
    }

    /// <summary>Creates a lock.</summary>
    /// <param name="name">
    /// The name messages and metrics use. If null, one is generated from the type, a process-unique id and where the
    /// lock was created, e.g. <c>ReentrantLock#44 (_gate, Pool.cs:12)</c> for a field initializer; a generated name gives way
    /// to the member name a <c>[Guarded]</c> wrapper declares.
    /// </param>
    /// <param name="level">The lock's level in the global lock order, or null for an unordered lock.</param>
    /// <param name="memberName">Filled in by the compiler (the creating member; a field's name in its initializer). Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler; only the file's name is used. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    public ReentrantLock(
        string? name = null,
        int? level = null,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : base(name, level, LockKind.Reentrant, memberName, sourceFilePath, sourceLineNumber)
    {
    }

    /// <summary>Whether any thread holds the lock (a snapshot).</summary>
    public bool IsHeld => _core.Owner != 0;

    /// <summary>Whether the current thread holds the lock.</summary>
    public bool IsHeldByCurrentThread => _core.Owner == CurrentThreadId.Value;

    /// <summary>The managed thread id of the owner, or 0 when the lock is free (a snapshot).</summary>
    public int OwnerThreadId => _core.Owner;

    /// <summary>How many times the current thread holds the lock: 0 if it does not hold it.</summary>
    public int RecursionCount => IsHeldByCurrentThread ? _reentries + 1 : 0;

    internal override int ExclusiveOwnerId => OwnerThreadId;

    internal override void GiveBackAfterListenerFault(string modeTag, int permits) => Release();

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        Enter(timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);

    internal override void ExitForSet() => Release();

    /// <summary>
    /// Acquires the lock, or enters it once more if the current thread holds it, waiting up to
    /// <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).
    /// </summary>
    /// <returns>A scope whose <c>Dispose</c> releases this acquisition.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the lock <see cref="int.MaxValue"/> times.</exception>
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

    /// <summary>Acquires the lock if it is free or held by the current thread right now.</summary>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the lock was acquired.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the lock <see cref="int.MaxValue"/> times.</exception>
    public bool TryAcquire(out Scope scope) => TryAcquire(TimeSpan.Zero, default, out scope);

    /// <summary>Acquires the lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the lock was acquired before the timeout.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the lock <see cref="int.MaxValue"/> times.</exception>
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

    /// <summary>
    /// Releases one acquisition; the lock becomes free when the last one is released. Prefer disposing the scope
    /// <see cref="Acquire()"/> returned.
    /// </summary>
    /// <exception cref="SynchronizationLockException">The current thread does not hold the lock.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Release()
    {
        int threadId = CurrentThreadId.Value;
        if (_reentries != 0 && _core.Owner == threadId)
        {
            _reentries--;
            return;
        }

        if (HoldStart != 0)
        {
            ReleaseTimed(threadId);
            return;
        }

        if (!_core.TryExit(threadId))
        {
            ThrowHelper.ThrowNotOwner(this, OwnerThreadId);
        }

        if (OffFastPath)
        {
            ReleasedOrdered();
        }
    }

    /// <summary>The last release of a hold that a <c>locksmith.lock.hold.duration</c> listener times.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseTimed(int threadId)
    {
        // Only the owner takes the hold's start, and before the lock is free for the next owner to stamp its own.
        long holdStart = _core.Owner == threadId ? TakeHoldStart() : 0;
        if (!_core.TryExit(threadId))
        {
            ThrowHelper.ThrowNotOwner(this, OwnerThreadId);
        }

        if (OffFastPath)
        {
            ReleasedOrdered();
        }

        LocksmithMetrics.RecordHold(this, LockModeTags.Exclusive, holdStart);
    }

    /// <summary>The one inlined acquire path: re-entry, then order check, one compare-and-swap, and the slow path on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Enter(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        int threadId = CurrentThreadId.Value;
        // Only this thread ever writes its own id here, so seeing it means this thread holds the lock.
        if (_core.Owner == threadId)
        {
            if (_reentries == int.MaxValue)
            {
                ThrowHelper.ThrowReentryLimit(this);
            }

            _reentries++;
            return true;
        }

        // Ordered locks take a separate path, so the unordered one inlines without spilling registers.
        if (OffFastPath)
        {
            return EnterOrdered(threadId, timeoutMs, cancellationToken, throwOnTimeout, checkOrder);
        }

        if (!_core.TryEnterFast(threadId) && !_core.EnterContended(this, threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        Debug.Assert(_reentries == 0, "A free lock carries no re-entries.");
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterOrdered(int threadId, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        if (Controller is not null)
        {
            ScheduleAcquire();
            if (!IsOrdered)
            {
                return EnterUnorderedSlow(threadId, timeoutMs, cancellationToken, throwOnTimeout);
            }
        }

        var owner = checkOrder ? OrderGuard.Check(this) : LockOwner.Current;
        if (!_core.TryEnterFast(threadId) && !_core.EnterContended(this, threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        owner.Held.Push(this);
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    /// <summary>The last release of an ordered or controlled lock: off the held stack, and a scheduling point.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleasedOrdered()
    {
        if (IsOrdered)
        {
            OrderGuard.Released(this);
        }

        if (Controller is not null)
        {
            ScheduleRelease();
        }
    }

    /// <summary>The unordered acquisition, out of line (a controlled lock after its scheduling point).</summary>
    private bool EnterUnorderedSlow(int threadId, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (!_core.TryEnterFast(threadId) && !_core.EnterContended(this, threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    /// <summary>
    /// One acquisition of a <see cref="ReentrantLock"/>; disposing it releases that acquisition. Allocation-free;
    /// disposing twice is harmless.
    /// </summary>
    public ref struct Scope
    {
        private ReentrantLock? _lock;

        internal Scope(ReentrantLock lockPrimitive) => _lock = lockPrimitive;

        /// <summary>Whether this scope holds an acquisition (false for the scope of a failed <c>TryAcquire</c>).</summary>
        public readonly bool IsAcquired => _lock is not null;

        /// <summary>Releases the acquisition, once.</summary>
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
