using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

// The write mode: public API, the inlined writer fast path, and the writer slow paths.
public sealed partial class ReadWriteLock
{
    /// <summary>Acquires the write lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <returns>A scope whose <c>Dispose</c> releases the write lock.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the write lock, or holds the read lock (no upgrade).</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public WriteScope AcquireWrite()
    {
        EnterWrite(TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, checkOrder: true);
        return new WriteScope(this);
    }

    /// <summary>Acquires the write lock, waiting until <paramref name="cancellationToken"/> is cancelled or the default timeout elapses.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <inheritdoc cref="AcquireWrite()"/>
    public WriteScope AcquireWrite(CancellationToken cancellationToken)
    {
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Write);
        EnterWrite(TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new WriteScope(this);
    }

    /// <summary>Acquires the write lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="LockTimeoutException">The timeout elapsed; the message names the lock, the writer holding it (if any) and the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireWrite()"/>
    public WriteScope AcquireWrite(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Write);
        EnterWrite(timeoutMs, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new WriteScope(this);
    }

    /// <summary>Acquires the write lock if it is free right now.</summary>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the write lock was acquired.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the write lock, or holds the read lock.</exception>
    public bool TryAcquireWrite(out WriteScope scope) => TryAcquireWrite(TimeSpan.Zero, default, out scope);

    /// <summary>Acquires the write lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the write lock was acquired before the timeout.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the write lock, or holds the read lock.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool TryAcquireWrite(TimeSpan timeout, out WriteScope scope) => TryAcquireWrite(timeout, default, out scope);

    /// <summary>Acquires the write lock, waiting at most <paramref name="timeout"/> or until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <inheritdoc cref="TryAcquireWrite(TimeSpan, out WriteScope)"/>
    public bool TryAcquireWrite(TimeSpan timeout, CancellationToken cancellationToken, out WriteScope scope)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Write);
        bool acquired = EnterWrite(timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: true);
        scope = acquired ? new WriteScope(this) : default;
        return acquired;
    }

    /// <summary>Releases the write lock. Prefer disposing the scope <see cref="AcquireWrite()"/> returned.</summary>
    /// <exception cref="SynchronizationLockException">The current thread does not hold the write lock.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReleaseWrite()
    {
        if (_writerThreadId != CurrentThreadId.Value)
        {
            ThrowHelper.ThrowWriteNotHeld(this, WriterThreadId);
        }

        if (OffFastPath)
        {
            ReleaseWriteOffFast();
            return;
        }

        if (HoldStart != 0)
        {
            ReleaseWriteTimed();
            return;
        }

        ExitWriter();
    }

    /// <summary>The write release of an ordered or controlled lock: off the held stack, freed, then a scheduling point.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseWriteOffFast()
    {
        if (IsOrdered)
        {
            ReleasedOrdered();
        }

        try
        {
            if (HoldStart != 0)
            {
                ReleaseWriteTimed();
            }
            else
            {
                ExitWriter();
            }
        }
        finally
        {
            // Even if a hold-duration listener threw (after the lock was freed): its blocked flows must run again.
            if (Controller is not null)
            {
                ScheduleRelease();
            }
        }
    }

    /// <summary>Frees the write lock the caller holds, admitting whoever waits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExitWriter()
    {
        _writerThreadId = 0;
        if (Interlocked.CompareExchange(ref _state, 0, WriterBit) != WriterBit)
        {
            ReleaseWriterBitContended();
        }
    }

    /// <summary>The release of a write hold that a <c>locksmith.lock.hold.duration</c> listener times; the caller owns it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseWriteTimed()
    {
        long holdStart = TakeHoldStart();
        ExitWriter();
        LocksmithMetrics.RecordHold(this, LockModeTags.Write, holdStart);
    }

    /// <summary>
    /// The one inlined write path. Ordered locks take a separate path, so the unordered one stays small enough to
    /// inline into every caller.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool EnterWrite(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder) =>
        OffFastPath ? EnterWriteOrdered(timeoutMs, cancellationToken, throwOnTimeout, checkOrder) : EnterWriteCore(timeoutMs, cancellationToken, throwOnTimeout);

    /// <summary>Claim the writer bit, check the readers, slow path on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool EnterWriteCore(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        bool claimed = Interlocked.CompareExchange(ref _state, WriterBit, 0) == 0;
        if ((!claimed || !NoReaders()) && !EnterWriteContended(claimed, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        _writerThreadId = CurrentThreadId.Value;
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Write);
        return true;
    }

    /// <summary>The ordered write path: the order check first (it hands back the owner record), then the same steps.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterWriteOrdered(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        if (Controller is not null)
        {
            SchedulingHooks.ScheduleAcquire(this, LockMode.Write);
            if (!IsOrdered)
            {
                return EnterWriteCore(timeoutMs, cancellationToken, throwOnTimeout);
            }
        }

        var owner = checkOrder ? OrderGuard.Check(this) : LockOwner.Current;
        if (!EnterWriteCore(timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        owner.Held.Push(this);
        return true;
    }

    // claimed: this thread already owns the writer bit (its fast-path CAS won) and only waits for readers to leave.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterWriteContended(bool claimed, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (!claimed && _writerThreadId == CurrentThreadId.Value)
        {
            ThrowHelper.ThrowWriteRecursion(this);
        }

        if (ReadWriteThreadState.CurrentOrNull is { HeldCount: > 0 } thread && thread.Holds(Id))
        {
            ReleaseClaim(claimed);
            ThrowHelper.ThrowUpgrade(this);
        }

        if (_policy == ReadWritePolicy.ReaderPreferred)
        {
            // Reader-preferred: a writer that must wait may not keep the bit, or it would hold back new readers.
            ReleaseClaim(claimed);
            claimed = false;
        }

        var protocol = new WriterProtocol(this, claimed);
        return WaitKernel.Acquire(
            ref protocol, ref _queue, this, LockMode.Write, LockModeTags.Write, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>One lock-free attempt: claim the writer bit if the policy allows it now, then check that no reader is in.</summary>
    private bool TryCompleteWriteFast(ref bool claimed)
    {
        if (claimed)
        {
            return NoReaders();
        }

        int state = Volatile.Read(ref _state);
        if (_policy == ReadWritePolicy.ReaderPreferred)
        {
            // Claim only when the readers look gone, and give the bit back at once if one slipped in meanwhile.
            if ((state & WriterBit) != 0 || !NoReaders() || Interlocked.CompareExchange(ref _state, state | WriterBit, state) != state)
            {
                return false;
            }

            if (NoReaders())
            {
                return true;
            }

            ReleaseClaim(claimed: true);
            return false;
        }

        // Writer-preferred and fair never overtake a queued waiter; once claimed, the bit holds back new readers.
        if ((state & (WriterBit | QueuedBit)) != 0 || Interlocked.CompareExchange(ref _state, state | WriterBit, state) != state)
        {
            return false;
        }

        claimed = true;
        return NoReaders();
    }

    /// <summary>Gives up a writer claim this thread owns, admitting whoever queued behind it.</summary>
    private void ReleaseClaim(bool claimed)
    {
        if (claimed && Interlocked.CompareExchange(ref _state, 0, WriterBit) != WriterBit)
        {
            ReleaseWriterBitContended();
        }
    }

    /// <summary>
    /// A writer's side of the kernel's wait. Writer-preferred and fair: get the writer bit (directly, or handed over
    /// in queue order), then wait as a drain waiter for the readers ahead to leave. Reader-preferred: never hold the
    /// bit while waiting, so readers keep entering; sleep as a drain waiter, and each time the readers drain or a
    /// writer leaves, claim the bit and give it back at once if a reader got in first.
    /// </summary>
    private ref struct WriterProtocol : IWaitProtocol
    {
        private readonly ReadWriteLock _lock;

        // Whether this thread owns the writer bit and waits only for the readers to drain.
        private bool _claimed;

        public WriterProtocol(ReadWriteLock lockPrimitive, bool claimed)
        {
            _lock = lockPrimitive;
            _claimed = claimed;
        }

        public readonly int OwnerId => _lock.WriterThreadId;

        public readonly int GaveUpState => 0;

        public readonly int Permits => 0;

        public bool TryAcquire() => _lock.TryCompleteWriteFast(ref _claimed);

        public readonly void BeginSpin()
        {
        }

        public readonly void EndSpin()
        {
        }

        public readonly bool SpinsAfterWake => false;

        public readonly void TookAfterWake()
        {
        }

        public readonly void Undo()
        {
            _lock.ExitWriter();
            if (_lock.Controller is not null)
            {
                _lock.ScheduleRelease();
            }
        }

        public void GiveUp()
        {
            _lock.ReleaseClaim(_claimed);
            _claimed = false;
        }

        public bool TryAcquireOrQueue(WaitNode node)
        {
            node.RequestKind = WriterRequest;
            return _lock._policy == ReadWritePolicy.ReaderPreferred
                ? TryClaimReaderPreferredOrQueue(node)
                : TryClaimOrQueue(node);
        }

        private bool TryClaimOrQueue(WaitNode node)
        {
            if (node.Status == WaitStatus.Granted)
            {
                // A releasing writer handed us the bit and dequeued us; the readers it admitted may still be in.
                _claimed = true;
            }

            while (!_claimed)
            {
                int state = Volatile.Read(ref _lock._state);
                if ((state & (WriterBit | QueuedBit)) == 0)
                {
                    _claimed = Interlocked.CompareExchange(ref _lock._state, state | WriterBit, state) == state;
                }
                else if (_lock.TryEnqueueLocked(node, WriterBit | QueuedBit))
                {
                    return false;
                }
            }

            _lock.BeginDrainLocked(node);
            if (_lock.NoReaders())
            {
                _lock.EndDrainLocked(node);
                return true;
            }

            return false;
        }

        private readonly bool TryClaimReaderPreferredOrQueue(WaitNode node)
        {
            _lock.BeginDrainLocked(node);
            int state = Volatile.Read(ref _lock._state);
            if ((state & WriterBit) == 0 && _lock.NoReaders() &&
                Interlocked.CompareExchange(ref _lock._state, state | WriterBit, state) == state)
            {
                if (_lock.NoReaders())
                {
                    _lock.EndDrainLocked(node);
                    return true;
                }

                // A reader slipped in: give the bit back (which wakes the drain waiters, us too) and wait again.
                _lock.OnWriterExitLocked();
                _lock.BeginDrainLocked(node);
            }

            return false;
        }

        public void Abandon(WaitNode node)
        {
            // A claimed or reader-preferred writer waits among the drain waiters; any other among the queued.
            if (_claimed || _lock._policy == ReadWritePolicy.ReaderPreferred)
            {
                _lock.EndDrainLocked(node);
            }
            else
            {
                _lock.AbandonWaitLocked(node);
            }

            if (_claimed)
            {
                // A writer that gives up must not leave the readers it held back waiting.
                _claimed = false;
                _lock.OnWriterExitLocked();
            }
        }

        [DoesNotReturn]
        public readonly void ThrowTimeout(TimeSpan waited, int ownerThreadId, string? ownerThreadName) =>
            ThrowHelper.ThrowTimeout(_lock, LockMode.Write, ownerThreadId, ownerThreadName, waited);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseWriterBitContended()
    {
        var gate = _queue.GateOrNull;
        Debug.Assert(gate is not null, "Only a thread holding the gate sets bits besides the writer bit.");
        using (GateEntry.Enter(gate))
        {
            OnWriterExitLocked();
        }
    }
}
