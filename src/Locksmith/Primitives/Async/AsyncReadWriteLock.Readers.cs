using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

// The read mode: public API, the inlined reader fast path, the reader slow path and the read release.
public sealed partial class AsyncReadWriteLock
{
    /// <summary>Acquires the read lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope whose <c>Dispose</c> releases the read lock.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the read or the write lock (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; the message names the lock, the writer and the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<AsyncLockScope> AcquireReadAsync(CancellationToken cancellationToken = default) =>
        EnterRead(TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the read lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireReadAsync(CancellationToken)"/>
    public ValueTask<AsyncLockScope> AcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterRead(TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the read lock if it can be had within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the read or the write lock (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<AsyncLockScope> TryAcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterRead(TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: false);

    /// <summary>The fast path: one compare-and-swap for an unordered lock that no writer holds or (by policy) waits for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ValueTask<AsyncLockScope> EnterRead(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        var flow = FlowOwnership.Enter();
        int state = Volatile.Read(ref _state);
        if (!OffFastPath && (state & _readerBlockMask) == 0 && !flow.FlowReads.MayHold(this) &&
            Interlocked.CompareExchange(ref _state, state + 1, state) == state)
        {
            return new ValueTask<AsyncLockScope>(TookRead(flow));
        }

        return EnterReadSlow(flow, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>The caller was counted in: record the hold on the flow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncLockScope TookRead(LockOwner flow)
    {
        int token = flow.FlowReads.Add(this);
        FlowOwnership.Held(flow);
        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Read);
        return new AsyncLockScope(this, flow, token, ReadTag);
    }

    private AsyncLockScope TookReadOrdered(LockOwner flow)
    {
        var scope = TookRead(flow);
        if (IsOrdered)
        {
            FlowOrder.Push(flow, this);
        }

        return scope;
    }

    /// <summary>One lock-free attempt: count in unless a writer holds or (by policy) waits.</summary>
    private bool TryEnterReadFast()
    {
        int state = Volatile.Read(ref _state);
        while ((state & _readerBlockMask) == 0)
        {
            int seen = Interlocked.CompareExchange(ref _state, state + 1, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterReadSlow(LockOwner flow, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        bool controlled = IsControlledHere;
        if (controlled)
        {
            ScheduleAcquire();
        }

        if (!CheckBeforeWait(flow, write: false, cancellationToken))
        {
            return ValueTask.FromCanceled<AsyncLockScope>(cancellationToken);
        }

        timeoutMs = WaitKernel.ResolveTimeout(timeoutMs);
        if (TryEnterReadFast())
        {
            return new ValueTask<AsyncLockScope>(TookReadOrdered(flow));
        }

        if (controlled)
        {
            // A controlled flow waits for its turn, not on the queue, and then completes synchronously.
            while (WaitControlled(timeoutMs))
            {
                if (TryEnterReadFast())
                {
                    return new ValueTask<AsyncLockScope>(TookReadOrdered(flow));
                }
            }

            return AsyncWaits.FailedWithoutWaiting(this, flow, LockMode.Read, LockModeTags.Read, throwOnTimeout);
        }

        if (timeoutMs == 0)
        {
            return AsyncWaits.FailedWithoutWaiting(this, flow, LockMode.Read, LockModeTags.Read, throwOnTimeout);
        }

        var node = AsyncWaitNode.Rent();
        node.Prepare(this, this, flow, LockMode.Read, LockModeTags.Read, ReaderRequest, 0, timeoutMs, cancellationToken, throwOnTimeout);
        LocksmithMetrics.RecordContention(this, LockModeTags.Read);
        flow.WaitingMode = LockMode.Read;
        flow.WaitingFor = this;
        lock (_readers.Gate)
        {
            // Queue only while still blocked: the flag goes in with the same compare-and-swap that sees the block, so
            // the release that lifts it finds the flag and hands over under this gate.
            int state = Volatile.Read(ref _state);
            while (true)
            {
                if ((state & _readerBlockMask) == 0)
                {
                    int counted = Interlocked.CompareExchange(ref _state, state + 1, state);
                    if (counted == state)
                    {
                        flow.WaitingFor = null;
                        node.Recycle();
                        return new ValueTask<AsyncLockScope>(TookReadOrdered(flow));
                    }

                    state = counted;
                    continue;
                }

                int seen = Interlocked.CompareExchange(ref _state, state | ReadersQueuedBit, state);
                if (seen == state)
                {
                    break;
                }

                state = seen;
            }

            node.Request = _arrivals++;
            _readers.EnqueueLast(node);
        }

        return node.Arm(timeoutMs);
    }

    private void ReleaseRead(LockOwner owner, int token)
    {
        if (!owner.FlowReads.Remove(this, token))
        {
            ThrowHelper.ThrowAsyncNotHeld(this, owner, DescribeHolders());
        }

        if (IsOrdered)
        {
            FlowOrder.Remove(owner, this);
        }

        // The last reader out with someone queued hands the lock on; a waiter that queues after this sees the count drop.
        int state = Interlocked.Decrement(ref _state);
        if ((state & ReaderMask) == 0 && (state & QueuedBits) != 0)
        {
            DispatchContended();
        }

        FlowOwnership.Released(owner);
        if (Controller is not null)
        {
            ScheduleRelease();
        }
    }

    /// <summary>Under the gate: the reader is counted in and its hold recorded; its continuation is queued.</summary>
    private void GrantReadLocked(AsyncWaitNode reader)
    {
        _readers.Remove(reader);
        Interlocked.Increment(ref _state);
        var owner = reader.Owner;
        int token = owner.FlowReads.Add(this);
        FlowOwnership.Held(owner);
        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Read);
        reader.Grant(token, ReadTag);
    }
}
