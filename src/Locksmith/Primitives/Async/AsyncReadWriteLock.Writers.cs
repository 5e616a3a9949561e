using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

// The write mode: public API, the inlined writer fast path, the writer slow path and the write release.
public sealed partial class AsyncReadWriteLock
{
    /// <summary>Acquires the write lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope whose <c>Dispose</c> releases the write lock.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the write lock, or holds the read lock (no upgrade; thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; the message names the lock, its writer and the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<AsyncLockScope> AcquireWriteAsync(CancellationToken cancellationToken = default) =>
        EnterWrite(TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the write lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireWriteAsync(CancellationToken)"/>
    public ValueTask<AsyncLockScope> AcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterWrite(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the write lock if it can be had within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the write lock, or holds the read lock (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<AsyncLockScope> TryAcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterWrite(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false);

    /// <summary>The fast path for an unordered lock: one compare-and-swap from free (no writer, nobody queued), then no reader counted in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ValueTask<AsyncLockScope> EnterWrite(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        // A cancelled token takes nothing, even a free lock (as SemaphoreSlim.WaitAsync); before any reservation.
        var flow = cancellationToken.IsCancellationRequested ? null : FlowOwnership.Enter();
        if (flow is not null && !OffFastPath && TryClaimFree())
        {
            return new ValueTask<AsyncLockScope>(TookWrite(flow));
        }

        return EnterOffFastPath(flow, LockMode.Write, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>
    /// Outside the gate: takes the writer bit from free and keeps it when no reader is counted in; otherwise lets it go
    /// (and lets in the readers that queued behind the claim meanwhile).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryClaimFree()
    {
        if (Interlocked.CompareExchange(ref _state, WriterBit, 0) != 0)
        {
            return false;
        }

        if (!AnyReaders())
        {
            return true;
        }

        DropClaim();
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DropClaim()
    {
        if ((Interlocked.And(ref _state, ~WriterBit) & QueuedBits) != 0)
        {
            DispatchContended();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int NextWriteToken()
    {
        int token = _lastWriteToken + 1;
        return token > 0 ? token : 1;
    }

    /// <summary>The writer bit is the caller's (its CAS, or a hand-off): record the writer and its token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncLockScope TookWrite(LockOwner flow)
    {
        int token = SetWriter(flow);
        var scope = AsyncLockScope.ForOwnedHold(this, token, flow.OwnerId);
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Write, scope);
        return scope;
    }

    private int SetWriter(LockOwner flow)
    {
        int token = NextWriteToken();
        _lastWriteToken = token;
        Volatile.Write(ref _writer, flow);
        Volatile.Write(ref _writeToken, token);
        return token;
    }

    // A reader's slot is never negative: the request that names a writer taking the lock as it queued.
    private const int WriterTookAtOnce = -1;

    AsyncLockScope IAsyncTakeAtOnce.TookAtOnce(LockOwner flow, int readerSlot) =>
        readerSlot == WriterTookAtOnce ? TookWriteOrdered(flow) : TookReadOrdered(flow, readerSlot);

    private AsyncLockScope TookWriteOrdered(LockOwner flow)
    {
        var scope = TookWrite(flow);
        if (IsOrdered)
        {
            FlowOrder.Push(flow, this);
        }

        return scope;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterWriteSlow(LockOwner flow, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder = true)
    {
        // Read once: a queued wait outside the run tells the controller too.
        var controller = Controller;
        bool controlled = controller is not null && controller.ControlsCurrentThread;
        if (controlled)
        {
            SchedulingHooks.ScheduleAcquire(this, LockMode.Write);
        }

        if (!CheckBeforeWrite(flow, cancellationToken, checkOrder))
        {
            return ThrowHelper.CanceledBeforeAcquiringAsync<AsyncLockScope>(this, LockMode.Write, cancellationToken);
        }

        timeoutMs = WaitKernel.ResolveTimeout(timeoutMs);
        if (TryClaimFree())
        {
            return new ValueTask<AsyncLockScope>(TookWriteOrdered(flow));
        }

        if (controlled)
        {
            // A controlled flow waits for its turn, not on the queue, and then completes synchronously.
            while (WaitControlled(timeoutMs, cancellationToken))
            {
                if (TryClaimFree())
                {
                    return new ValueTask<AsyncLockScope>(TookWriteOrdered(flow));
                }
            }

            return AsyncWaits.ControlledWaitEnded(this, flow, LockMode.Write, LockModeTags.Write, throwOnTimeout, timeoutMs, cancellationToken);
        }

        if (timeoutMs == 0)
        {
            return AsyncWaits.FailedWithoutWaiting(this, flow, LockMode.Write, LockModeTags.Write, throwOnTimeout);
        }

        AsyncWaits.RecordContention(this, LockModeTags.Write, flow);
        var node = AsyncWaitNode.Rent();
        node.Prepare(this, this, flow, LockMode.Write, LockModeTags.Write, WriterRequest, 0, timeoutMs, cancellationToken, throwOnTimeout);
        flow.WaitingFor = this;
        bool tookAtOnce = false;
        using (GateEntry.Enter(_readers.Gate))
        {
            // Free means no writer and nobody queued (a queued waiter is owed the lock first): claim, and keep the claim
            // when no reader is counted in. Otherwise queue, setting the flag in the compare-and-swap that saw the lock
            // busy, so whoever frees it hands it over.
            int state = Volatile.Read(ref _state);
            while (true)
            {
                if (state == 0)
                {
                    int claimed = Interlocked.CompareExchange(ref _state, WriterBit, 0);
                    if (claimed != 0)
                    {
                        state = claimed;
                        continue;
                    }

                    if (!AnyReaders())
                    {
                        flow.WaitingFor = null;
                        tookAtOnce = true;
                        break;
                    }

                    // Readers are in: the claim becomes the queued flag. Only the gate's holder changes the state while
                    // the writer bit is set, so it is exactly the bit.
                    Interlocked.Exchange(ref _state, WritersQueuedBit);
                    state = WritersQueuedBit;
                    break;
                }

                int seen = Interlocked.CompareExchange(ref _state, state | WritersQueuedBit, state);
                if (seen == state)
                {
                    state |= WritersQueuedBit;
                    break;
                }

                state = seen;
            }

            if (!tookAtOnce)
            {
                node.Request = _arrivals++;
                _writers.EnqueueLast(node);

                // The readers in may all have left before the flag went in, seeing no one to hand over to: try again now.
                if ((state & WriterBit) == 0)
                {
                    DispatchLocked();
                }
            }
        }

        if (tookAtOnce)
        {
            return node.TookAtOnce(this, flow, WriterTookAtOnce);
        }

        node.Arm(timeoutMs);
        if (controller is not null)
        {
            WaitKernel.TellOutsideQueued(controller, this, node, timeoutMs, cancellationToken);
        }

        return node.PendingTask;
    }

    /// <summary>Releases the write hold of the scope with <paramref name="token"/>, which <paramref name="scopeOwnerId"/> took.</summary>
    internal void ReleaseWriteScope(int token, int scopeOwnerId)
    {
        // Claiming the token makes a second release (of this scope or a copy) fail here, never free a later writer.
        if (Interlocked.CompareExchange(ref _writeToken, 0, token) != token)
        {
            ThrowHelper.ThrowAsyncNotHeld(this, scopeOwnerId, DescribeHolders(scopeOwnerId));
        }

        // The writer bit stays set until this release clears it below, so no later writer has replaced the hold's flow.
        var owner = Volatile.Read(ref _writer)!;

        if (IsOrdered)
        {
            FlowOrder.Remove(owner, this);
        }

        long holdStart = HoldStart != 0 ? TakeHoldStart() : 0;
        Volatile.Write(ref _writer, null);
        if (Interlocked.CompareExchange(ref _state, 0, WriterBit) != WriterBit)
        {
            HandOffFromWriter();
        }

        FlowOwnership.Released(owner);
        if (holdStart != 0)
        {
            RecordHoldThenSchedule(LockModeTags.Write, holdStart);
        }
        else if (Controller is not null)
        {
            ScheduleRelease();
        }
    }

    /// <summary>Under the gate, the writer bit already set for it: the writer is recorded; its continuation is queued.</summary>
    private void GrantWriteLocked(AsyncWaitNode writer)
    {
        _writers.Remove(writer);
        // Recorded by the writer as its wait completes (AsyncWaits.Complete): a listener's code never runs under the gate.
        int token = SetWriter(writer.Owner);
        writer.Grant(token, WriteTag);
    }

    LockMode IAsyncSetMember.SetMode => LockMode.Write;

    // The async LockSet takes a read-write lock in write mode, and checked the order for the whole set; the member's
    // hold is one more on the flow (the set's own keeps the record live).
    ValueTask<AsyncLockScope> IAsyncSetMember.EnterForAsyncSet(LockOwner flow, int timeoutMs, CancellationToken cancellationToken)
    {
        FlowOwnership.Held(flow);
        return EnterWriteSlow(flow, timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);
    }

    void IAsyncSetMember.RejectHeldByFlow(LockOwner flow)
    {
        if ((IsWriteHeld && ReferenceEquals(Volatile.Read(ref _writer), flow)) ||
            (flow.FlowReads.MayHold(this) && flow.FlowReads.Holds(this)))
        {
            ThrowHelper.ThrowAsyncSetMemberHeld(this, flow);
        }
    }
}
