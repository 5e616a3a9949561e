using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

// The read mode: public API, the inlined reader fast path, and the reader slow path.
public sealed partial class ReadWriteLock
{
    /// <summary>Acquires the read lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <returns>A scope whose <c>Dispose</c> releases the read lock.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the read or the write lock.</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadScope AcquireRead()
    {
        EnterRead(TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true);
        return new ReadScope(this);
    }

    /// <summary>Acquires the read lock, waiting until <paramref name="cancellationToken"/> is cancelled or the default timeout elapses.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <inheritdoc cref="AcquireRead()"/>
    public ReadScope AcquireRead(CancellationToken cancellationToken)
    {
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Read);
        EnterRead(TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);
        return new ReadScope(this);
    }

    /// <summary>Acquires the read lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="LockTimeoutException">The timeout elapsed; the message names the lock, the writer and the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireRead()"/>
    public ReadScope AcquireRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Read);
        EnterRead(timeoutMs, cancellationToken, throwOnTimeout: true);
        return new ReadScope(this);
    }

    /// <summary>Acquires the read lock if it can be had right now.</summary>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the read lock was acquired.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the read or the write lock.</exception>
    public bool TryAcquireRead(out ReadScope scope) => TryAcquireRead(TimeSpan.Zero, default, out scope);

    /// <summary>Acquires the read lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="scope">The scope to dispose when the lock was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the read lock was acquired before the timeout.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the read or the write lock.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool TryAcquireRead(TimeSpan timeout, out ReadScope scope) => TryAcquireRead(timeout, default, out scope);

    /// <summary>Acquires the read lock, waiting at most <paramref name="timeout"/> or until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is not acquired.</exception>
    /// <inheritdoc cref="TryAcquireRead(TimeSpan, out ReadScope)"/>
    public bool TryAcquireRead(TimeSpan timeout, CancellationToken cancellationToken, out ReadScope scope)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Read);
        bool acquired = EnterRead(timeoutMs, cancellationToken, throwOnTimeout: false);
        scope = acquired ? new ReadScope(this) : default;
        return acquired;
    }

    /// <summary>Releases the read lock. Prefer disposing the scope <see cref="AcquireRead()"/> returned.</summary>
    /// <exception cref="SynchronizationLockException">The current thread does not hold the read lock.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReleaseRead()
    {
        int slot = ReadWriteThreadState.CurrentOrNull is { } thread ? thread.RemoveHeld(Id) : -1;
        if (slot < 0)
        {
            ThrowHelper.ThrowReadNotHeld(this, IsWriteLockHeldByCurrentThread);
        }

        if (OffFastPath)
        {
            ReleaseReadOffFast(slot);
            return;
        }

        LeaveSlot(slot);
    }

    /// <summary>The read release of an ordered or controlled lock: off the held stack, left, then a scheduling point.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseReadOffFast(int slot)
    {
        if (IsOrdered)
        {
            ReleasedOrdered();
        }

        LeaveSlot(slot);
        if (Controller is not null)
        {
            ScheduleRelease();
        }
    }

    /// <summary>
    /// The one inlined read path. Ordered locks take a separate path, so the unordered one stays small enough to
    /// inline into every caller.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool EnterRead(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout) =>
        OffFastPath ? EnterReadOrdered(timeoutMs, cancellationToken, throwOnTimeout) : EnterReadCore(timeoutMs, cancellationToken, throwOnTimeout);

    /// <summary>Recursion check, the distributed-indicator fast path, the slow path on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool EnterReadCore(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        var thread = ReadWriteThreadState.Current;
        if (thread.HeldCount != 0 && thread.Holds(Id))
        {
            ThrowHelper.ThrowReadRecursion(this);
        }

        int slot = thread.Slot;
        if (!TryEnterReadFast(thread, slot) && !EnterReadContended(thread, slot, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        thread.PushHeld(Id, slot);
        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Read);
        return true;
    }

    /// <summary>The ordered read path: the order check first (it hands back the owner record), then the same steps.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterReadOrdered(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (Controller is not null)
        {
            SchedulingHooks.ScheduleAcquire(this, LockMode.Read);
            if (!IsOrdered)
            {
                return EnterReadCore(timeoutMs, cancellationToken, throwOnTimeout);
            }
        }

        var owner = OrderGuard.CheckRead(this);
        if (!EnterReadCore(timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        owner.Held.Push(this);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleasedOrdered() => OrderGuard.Released(this);

    /// <summary>
    /// Dekker-style entry: count ourselves in our slot, then look at the writer state again. A writer sets its bit,
    /// then sums the slots; both sides use interlocked operations (full fences), so either the writer sees this
    /// reader or this reader sees the writer and backs out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryEnterReadFast(ReadWriteThreadState thread, int slot)
    {
        int blockMask = _readerBlockMask;
        if ((Volatile.Read(ref _state) & blockMask) != 0)
        {
            return false;
        }

        int inSlot = Interlocked.Increment(ref _slots[slot].Count);
        if ((Volatile.Read(ref _state) & blockMask) != 0)
        {
            BackOut(slot);
            return false;
        }

        if (inSlot != 1)
        {
            thread.MoveSlot();
        }

        return true;
    }

    /// <summary>Uncounts a reader; the reader that empties a slot wakes a writer waiting for the readers to drain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LeaveSlot(int slot)
    {
        // A slot that stays non-zero means the sum does too, so only the reader that empties one can matter.
        if (Interlocked.Decrement(ref _slots[slot].Count) == 0 && (Volatile.Read(ref _state) & DrainWaiterBit) != 0)
        {
            WakeDrainWaiters();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void BackOut(int slot) => LeaveSlot(slot);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterReadContended(ReadWriteThreadState thread, int slot, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (_writerThreadId == CurrentThreadId.Value)
        {
            ThrowHelper.ThrowReadWhileWriting(this);
        }

        var protocol = new ReaderProtocol(this, thread, slot);
        return WaitKernel.Acquire(
            ref protocol, ref _queue, this, LockMode.Read, LockModeTags.Read, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>
    /// A reader's side of the kernel's wait: enter like the fast path while not blocked; when blocked, queue, which
    /// makes the blocking writer's release take the slow path that counts this reader in and hands it the lock.
    /// </summary>
    private ref struct ReaderProtocol : IWaitProtocol
    {
        private readonly ReadWriteLock _lock;
        private readonly ReadWriteThreadState _thread;
        private readonly int _slot;

        // The writers the read waited behind as it left the queue (-1: it never queued, a try-once), for its message.
        private int _writersAhead;

        public ReaderProtocol(ReadWriteLock lockPrimitive, ReadWriteThreadState thread, int slot)
        {
            _lock = lockPrimitive;
            _thread = thread;
            _slot = slot;
            _writersAhead = -1;
        }

        public readonly int OwnerId => _lock.WriterThreadId;

        public readonly int GaveUpState => 0;

        public readonly int Permits => 0;

        public bool TryAcquire() => _lock.TryEnterReadFast(_thread, _slot);

        public void BeginSpin()
        {
        }

        public void EndSpin()
        {
        }

        public bool SpinsAfterWake => false;

        public void TookAfterWake()
        {
        }

        public void GiveUp()
        {
        }

        public void Undo()
        {
            _lock.LeaveSlot(_slot);
            if (_lock.Controller is not null)
            {
                _lock.ScheduleRelease();
            }
        }

        public bool TryAcquireOrQueue(WaitNode node)
        {
            if (node.Status == WaitStatus.Granted)
            {
                // A releasing writer counted us in our slot and dequeued us.
                return true;
            }

            node.RequestKind = ReaderRequest;
            node.Request = _slot;

            // Each turn either enters, or queues behind the block it saw; it repeats only when a writer changed the
            // state in between, so the loop ends without a deadline check of its own.
            while (true)
            {
                if (_lock.TryEnterReadFast(_thread, _slot))
                {
                    return true;
                }

                if (_lock.TryEnqueueLocked(node, _lock._readerBlockMask))
                {
                    return false;
                }
            }
        }

        public void Abandon(WaitNode node)
        {
            _writersAhead = _lock.WritersAheadLocked(node.IsQueued ? node : null);
            _lock.AbandonWaitLocked(node);
        }

        [DoesNotReturn]
        public readonly void ThrowTimeout(TimeSpan waited, int ownerThreadId, string? ownerThreadName)
        {
            if (ownerThreadId == 0)
            {
                // No writer held it: the read waited behind queued writers (a try-once reads them as it fails).
                int ahead = _writersAhead >= 0 ? _writersAhead : _lock.WritersAheadNow();
                if (ahead > 0)
                {
                    ThrowHelper.ThrowReadTimeoutBehindWriters(_lock, waited, ahead, _lock._policy);
                }
            }

            ThrowHelper.ThrowTimeout(_lock, LockMode.Read, ownerThreadId, ownerThreadName, waited);
        }
    }
}
