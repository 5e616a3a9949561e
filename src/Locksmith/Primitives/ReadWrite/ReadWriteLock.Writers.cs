using System;
using System.Diagnostics;
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
        EnterWrite(TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: true, checkOrder: true);
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
        bool acquired = EnterWrite(TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: false, checkOrder: true);
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

        if (IsOrdered)
        {
            OrderGuard.Released(this);
        }

        _writerThreadId = 0;
        if (Interlocked.CompareExchange(ref _state, 0, WriterBit) != WriterBit)
        {
            ReleaseWriterBitContended();
        }
    }

    /// <summary>The one inlined write path: order check, claim the writer bit, check the readers, slow path on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool EnterWrite(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        // The order check hands back the owner record, so recording the hold needs no second lookup.
        LockOwner? owner = IsOrdered ? (checkOrder ? OrderGuard.Check(this) : LockOwner.Current) : null;
        bool claimed = Interlocked.CompareExchange(ref _state, WriterBit, 0) == 0;
        if ((!claimed || !NoReaders()) && !EnterWriteContended(claimed, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        _writerThreadId = CurrentThreadId.Value;
        if (owner is not null)
        {
            owner.Held.Push(this);
        }

        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Write);
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

        if (cancellationToken.IsCancellationRequested || _policy == ReadWritePolicy.ReaderPreferred)
        {
            // Reader-preferred: a writer that must wait may not keep the bit, or it would hold back new readers.
            ReleaseClaim(claimed);
            claimed = false;
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (timeoutMs == TimeoutMathDefaults.UseDefault)
        {
            timeoutMs = TimeoutMath.ToMilliseconds(LocksmithPolicy.DefaultTimeout);
        }

        var spinner = new SpinWait();
        for (int i = 0; i < SpinCount && timeoutMs != 0; i++)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (TryCompleteWriteFast(ref claimed))
            {
                return true;
            }
        }

        if (TryCompleteWriteFast(ref claimed))
        {
            return true;
        }

        if (timeoutMs == 0)
        {
            ReleaseClaim(claimed);
            return BlockedWait.FailedWithoutWaiting(this, LockMode.Write, LockModeTags.Write, WriterThreadId, throwOnTimeout);
        }

        return _policy == ReadWritePolicy.ReaderPreferred
            ? WaitForWriteReaderPreferred(timeoutMs, cancellationToken, throwOnTimeout)
            : WaitForWrite(claimed, timeoutMs, cancellationToken, throwOnTimeout);
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

    /// <summary>Writer-preferred and fair: get the writer bit (directly or handed over in queue order), then wait for the readers ahead to leave.</summary>
    private bool WaitForWrite(bool claimed, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        object gate = _gate ?? EnsureGate();
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        var node = ReadWriteThreadState.Current.Node;
        node.Reset(isWriter: true, slot: 0);
        var wait = BlockedWait.Begin(this, LockMode.Write, LockModeTags.Write, gate, cancellationToken);
        bool acquired = false;
        try
        {
            lock (gate)
            {
                _waiterCount++;
                try
                {
                    claimed = claimed || AwaitWriterBitLocked(gate, node, deadline, cancellationToken);
                    acquired = claimed && AwaitDrainLocked(gate, deadline, cancellationToken);
                }
                finally
                {
                    _waiterCount--;
                    if (!acquired)
                    {
                        AbandonWaitLocked(node);
                        if (claimed)
                        {
                            // A writer that gives up must not leave the readers it held back waiting.
                            OnWriterExitLocked();
                        }
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

    /// <summary>Writer-preferred and fair: take the free writer bit, or queue and wait until a releasing writer hands it over.</summary>
    private bool AwaitWriterBitLocked(object gate, ReadWriteWaitNode node, long deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (node.Granted)
            {
                node.Granted = false;
                return true;
            }

            if (!node.IsQueued)
            {
                int state = Volatile.Read(ref _state);
                if ((state & (WriterBit | QueuedBit)) == 0)
                {
                    if (Interlocked.CompareExchange(ref _state, state | WriterBit, state) == state)
                    {
                        return true;
                    }

                    continue;
                }

                if (!TryEnqueueLocked(node, WriterBit | QueuedBit))
                {
                    continue;
                }
            }

            int remaining = TimeoutMath.Remaining(deadline);
            if (remaining == 0 || cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            Monitor.Wait(gate, remaining);
        }
    }

    /// <summary>With the writer bit owned: sleep until the readers counted in the slots have left.</summary>
    private bool AwaitDrainLocked(object gate, long deadline, CancellationToken cancellationToken)
    {
        BeginDrainLocked();
        try
        {
            while (!NoReaders())
            {
                int remaining = TimeoutMath.Remaining(deadline);
                if (remaining == 0 || cancellationToken.IsCancellationRequested)
                {
                    return false;
                }

                Monitor.Wait(gate, remaining);
            }

            return true;
        }
        finally
        {
            EndDrainLocked();
        }
    }

    /// <summary>
    /// Reader-preferred: the writer never holds the bit while it waits, so readers keep entering. It sleeps as a
    /// drain waiter; each time the readers drain or a writer leaves it tries to claim the bit, and gives it back at
    /// once if a reader got in first.
    /// </summary>
    private bool WaitForWriteReaderPreferred(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        object gate = _gate ?? EnsureGate();
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        var wait = BlockedWait.Begin(this, LockMode.Write, LockModeTags.Write, gate, cancellationToken);
        bool acquired = false;
        try
        {
            lock (gate)
            {
                _waiterCount++;
                BeginDrainLocked();
                try
                {
                    while (true)
                    {
                        int state = Volatile.Read(ref _state);
                        if ((state & WriterBit) == 0 && NoReaders() &&
                            Interlocked.CompareExchange(ref _state, state | WriterBit, state) == state)
                        {
                            if (NoReaders())
                            {
                                acquired = true;
                                break;
                            }

                            OnWriterExitLocked();
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
                    EndDrainLocked();
                    _waiterCount--;
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseWriterBitContended()
    {
        object? gate = Volatile.Read(ref _gate);
        Debug.Assert(gate is not null, "Only a thread holding the gate sets bits besides the writer bit.");
        lock (gate)
        {
            OnWriterExitLocked();
        }
    }
}
