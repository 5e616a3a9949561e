using System;
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
        EnterRead(TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: true);
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
        bool acquired = EnterRead(TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: false);
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

        if (IsOrdered)
        {
            OrderGuard.Released(this);
        }

        LeaveSlot(slot);
    }

    /// <summary>The one inlined read path: recursion check, the distributed-indicator fast path, the slow path on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool EnterRead(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        // The order check hands back the owner record, so recording the hold needs no second lookup.
        LockOwner? owner = IsOrdered ? OrderGuard.Check(this) : null;
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
        if (owner is not null)
        {
            owner.Held.Push(this);
        }

        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Read);
        return true;
    }

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
            WakeWaiters();
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

        cancellationToken.ThrowIfCancellationRequested();
        if (timeoutMs == TimeoutMathDefaults.UseDefault)
        {
            timeoutMs = TimeoutMath.ToMilliseconds(LocksmithPolicy.DefaultTimeout);
        }

        // Brief spin: most write sections end within it, and sleeping costs microseconds.
        var spinner = new SpinWait();
        for (int i = 0; i < SpinCount && timeoutMs != 0; i++)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (TryEnterReadFast(thread, slot))
            {
                return true;
            }
        }

        if (TryEnterReadFast(thread, slot))
        {
            return true;
        }

        return timeoutMs == 0
            ? BlockedWait.FailedWithoutWaiting(this, LockMode.Read, LockModeTags.Read, WriterThreadId, throwOnTimeout)
            : WaitForRead(thread, slot, timeoutMs, cancellationToken, throwOnTimeout);
    }

    private bool WaitForRead(ReadWriteThreadState thread, int slot, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        object gate = _gate ?? EnsureGate();
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        var node = thread.Node;
        node.Reset(isWriter: false, slot);
        var wait = BlockedWait.Begin(this, LockMode.Read, LockModeTags.Read, gate, cancellationToken);
        bool acquired = false;
        try
        {
            lock (gate)
            {
                _waiterCount++;
                try
                {
                    while (true)
                    {
                        if (node.Granted)
                        {
                            // A releasing writer counted us in our slot and dequeued us.
                            acquired = true;
                            break;
                        }

                        if (!node.IsQueued)
                        {
                            // Not blocked any more: enter like the fast path. Still blocked: queue, which makes the
                            // writer's release take the slow path that admits us.
                            if (TryEnterReadFast(thread, slot))
                            {
                                acquired = true;
                                break;
                            }

                            if (!TryEnqueueLocked(node, _readerBlockMask))
                            {
                                continue;
                            }
                        }

                        int remaining = TimeoutMath.Remaining(deadline);
                        if (remaining == 0 || cancellationToken.IsCancellationRequested)
                        {
                            break;
                        }

                        Monitor.Wait(gate, remaining);
                    }
                }
                finally
                {
                    _waiterCount--;
                    if (!acquired)
                    {
                        AbandonWaitLocked(node);
                    }
                }
            }
        }
        finally
        {
            wait.End(acquired);
        }

        if (!acquired)
        {
            cancellationToken.ThrowIfCancellationRequested();
            wait.TimedOut(WriterThreadId, throwOnTimeout);
        }

        return acquired;
    }
}
