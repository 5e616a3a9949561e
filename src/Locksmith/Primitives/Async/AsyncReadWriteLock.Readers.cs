using System;
using System.Diagnostics.CodeAnalysis;
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
        EnterRead(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the read lock if it can be had within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the read or the write lock (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<AsyncLockScope> TryAcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterRead(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false);

    /// <summary>
    /// The fast path for an unordered lock that no writer holds or (by policy) waits for: one interlocked increment of
    /// the flow's slot, on a cache line no other core's reader writes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ValueTask<AsyncLockScope> EnterRead(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        // A cancelled token takes nothing, even a free lock (as SemaphoreSlim.WaitAsync); before any reservation.
        bool claimed = false;
        var flow = cancellationToken.IsCancellationRequested ? null : FlowOwnership.Enter(out claimed);
        if (flow is not null && !OffFastPath && !flow.FlowReads.MayHold(this) && TryEnterReadFast(flow, out int slot))
        {
            return new ValueTask<AsyncLockScope>(TookRead(flow, slot, claimed));
        }

        return EnterOffFastPath(flow, LockMode.Read, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>
    /// Everything but a read's or a write's fast path, in one call (why one: see <c>AsyncExclusiveLock.EnterOffFastPath</c>);
    /// a null <paramref name="flow"/> is a cancelled token.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterOffFastPath(LockOwner? flow, LockMode mode, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout) =>
        flow is null ? ThrowHelper.CanceledBeforeAcquiringAsync<AsyncLockScope>(this, mode, cancellationToken)
        : mode == LockMode.Read ? EnterReadSlow(flow, timeoutMs, cancellationToken, throwOnTimeout)
        : EnterWriteSlow(flow, timeoutMs, cancellationToken, throwOnTimeout);

    /// <summary>The caller was counted in <paramref name="slot"/>: record the hold on the flow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncLockScope TookRead(LockOwner flow, int slot, bool claimed = false)
    {
        int token = claimed ? flow.FlowReads.AddClaimed(flow, this) : flow.FlowReads.Add(this, flow, slot);
        var scope = AsyncLockScope.ForRead(flow, token, ReadTag(slot));
        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Read, scope);
        return scope;
    }

    private AsyncLockScope TookReadOrdered(LockOwner flow, int slot)
    {
        var scope = TookRead(flow, slot);
        if (IsOrdered)
        {
            FlowOrder.Push(flow, this);
        }

        return scope;
    }

    /// <summary>
    /// Dekker-style entry, as in <see cref="ReadWriteLock"/>: count in the flow's slot, then look at the state again.
    /// A writer sets its bit, then sums the slots; both sides use interlocked operations (full fences), so either the
    /// writer sees this reader or this reader sees the writer and backs out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryEnterReadFast(LockOwner flow, out int slot, bool underGate = false)
    {
        int blockMask = _readerBlockMask;
        slot = flow.FlowReads.SlotOf(flow);
        if ((Volatile.Read(ref _state) & blockMask) != 0)
        {
            return false;
        }

        int inSlot = Interlocked.Increment(ref _slots[slot].Count);
        if ((Volatile.Read(ref _state) & blockMask) != 0)
        {
            BackOut(slot, underGate);
            return false;
        }

        if (inSlot != 1)
        {
            // Another flow counts in this slot: use another one next time, so two cores stop sharing a line.
            flow.FlowReads.MoveSlot();
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void BackOut(int slot, bool underGate)
    {
        // Under the gate no writer is tried meanwhile but by the gate's holder (which retries), so there is nobody to wake.
        if (underGate)
        {
            Interlocked.Decrement(ref _slots[slot].Count);
        }
        else
        {
            LeaveSlot(slot);
        }
    }

    /// <summary>Uncounts a reader; the reader that empties a slot while someone is queued tries the head writer again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LeaveSlot(int slot)
    {
        // A slot that stays non-zero means the readers have not drained, so only the reader that empties one can matter.
        if (Interlocked.Decrement(ref _slots[slot].Count) == 0 && (Volatile.Read(ref _state) & QueuedBits) != 0)
        {
            DispatchContended();
        }
    }

    /// <summary>Whether any reader is counted in (a reader backing out counts until it has); call after setting the writer bit.</summary>
    private bool AnyReaders()
    {
        var slots = _slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i].Count) != 0)
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterReadSlow(LockOwner flow, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        // Read once: a queued wait outside the run tells the controller too.
        var controller = Controller;
        bool controlled = controller is not null && controller.ControlsCurrentThread;
        if (controlled)
        {
            SchedulingHooks.ScheduleAcquire(this, LockMode.Read);
        }

        if (!CheckBeforeRead(flow, cancellationToken))
        {
            return ThrowHelper.CanceledBeforeAcquiringAsync<AsyncLockScope>(this, LockMode.Read, cancellationToken);
        }

        timeoutMs = WaitKernel.ResolveTimeout(timeoutMs);
        if (TryEnterReadFast(flow, out int slot))
        {
            return new ValueTask<AsyncLockScope>(TookReadOrdered(flow, slot));
        }

        if (controlled)
        {
            // A controlled flow waits for its turn, not on the queue, and then completes synchronously.
            while (WaitControlled(timeoutMs, cancellationToken))
            {
                if (TryEnterReadFast(flow, out slot))
                {
                    return new ValueTask<AsyncLockScope>(TookReadOrdered(flow, slot));
                }
            }

            return AsyncWaits.ControlledWaitEnded(this, flow, LockMode.Read, LockModeTags.Read, throwOnTimeout, timeoutMs, cancellationToken);
        }

        if (timeoutMs == 0)
        {
            return AsyncWaits.FailedWithoutWaiting(this, flow, LockMode.Read, LockModeTags.Read, throwOnTimeout);
        }

        AsyncWaits.RecordContention(this, LockModeTags.Read, flow);
        var node = AsyncWaitNode.Rent();
        node.Prepare(this, this, flow, LockMode.Read, LockModeTags.Read, ReaderRequest, 0, timeoutMs, cancellationToken, throwOnTimeout);
        flow.WaitingFor = this;
        bool tookAtOnce = false;
        using (GateEntry.Enter(_readers.Gate))
        {
            // Queue only while still blocked: the flag goes in with the same compare-and-swap that sees the block, so
            // the release that lifts it finds the flag and hands over under this gate.
            int state = Volatile.Read(ref _state);
            while (true)
            {
                if ((state & _readerBlockMask) == 0)
                {
                    if (TryEnterReadFast(flow, out slot, underGate: true))
                    {
                        flow.WaitingFor = null;
                        tookAtOnce = true;
                        break;
                    }

                    state = Volatile.Read(ref _state);
                    continue;
                }

                int seen = Interlocked.CompareExchange(ref _state, state | ReadersQueuedBit, state);
                if (seen == state)
                {
                    break;
                }

                state = seen;
            }

            if (!tookAtOnce)
            {
                node.Request = _arrivals++;
                _readers.EnqueueLast(node);
            }
        }

        if (tookAtOnce)
        {
            return node.TookAtOnce(this, flow, slot);
        }

        node.Arm(timeoutMs);
        if (controller is not null)
        {
            WaitKernel.TellOutsideQueued(controller, this, node, timeoutMs, cancellationToken);
        }

        return node.PendingTask;
    }

    /// <summary>Releases the read hold of <paramref name="owner"/> that <paramref name="token"/> names (see <see cref="ReadTag"/>).</summary>
    internal static void ReleaseReadScope(LockOwner owner, int token, int readTag)
    {
        var removal = owner.FlowReads.Remove(owner, token, readTag, out var lockPrimitive);
        if (removal == FlowReadHolds.ReadRemoval.NotHeld)
        {
            ThrowReadNotHeld(owner, readTag, lockPrimitive);
        }

        lockPrimitive!.ReleaseRead(owner, removal, SlotOfReadTag(readTag));
    }

    /// <summary>A stale read scope: names the lock (its flow's record, or any live lock the tag names) and its holders.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowReadNotHeld(LockOwner owner, int readTag, AsyncReadWriteLock? named)
    {
        if (named is null)
        {
            foreach (var asyncLock in AsyncOwners.Snapshot())
            {
                if (asyncLock is AsyncReadWriteLock readWrite && readWrite.IsNamedBy(readTag))
                {
                    named = readWrite;
                    break;
                }
            }
        }

        if (named is null)
        {
            ThrowHelper.ThrowAsyncReadNotHeldOfGoneLock(owner.OwnerId);
        }

        ThrowHelper.ThrowAsyncNotHeld(named, owner.OwnerId, named.DescribeHolders(owner.OwnerId));
    }

    private void ReleaseRead(LockOwner owner, FlowReadHolds.ReadRemoval removal, int slot)
    {
        if (IsOrdered)
        {
            // Not Remove's plain store: once the read is forgotten above, a task of the same flow may read the lock
            // again and record it in another entry before this one is cleared; were both released at once, two stores
            // could clear one entry and leave the other on the record for good.
            FlowOrder.RemoveOneOf(owner, this);
        }

        LeaveSlot(slot);
        if (removal == FlowReadHolds.ReadRemoval.RemovedAndClaimEnded)
        {
            // The hold was the flow's last and was counted out with its token: nothing else reaches the record now.
            FlowOwnership.ClaimEnded(owner);
        }
        else
        {
            FlowOwnership.Released(owner);
        }
        if (Controller is not null)
        {
            ScheduleRelease();
        }
    }

    /// <summary>
    /// Two tasks of one flow asked for the read lock at once and both passed the recursion check; the other recorded its
    /// hold first. This one leaves its slot, gives back its reservation and is told, as it would have been a moment later.
    /// </summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void RejectSiblingRead(LockOwner flow, int slot)
    {
        LeaveSlot(slot);
        FlowOwnership.NotHeld(flow);
        ThrowHelper.ThrowAsyncReadRecursion(this, flow);
    }

    /// <summary>
    /// Under the gate, no writer in: the reader is counted in its flow's slot and its hold recorded; its continuation is
    /// queued. A reader whose flow reads the lock already (a task of the same flow that queued too and was granted first,
    /// or read meanwhile) is refused instead, as it would have been had it asked a moment later: its task gets the
    /// <see cref="LockRecursionException"/>. Returns false then.
    /// </summary>
    private bool GrantReadLocked(AsyncWaitNode reader)
    {
        _readers.Remove(reader);
        var owner = reader.Owner;
        int slot = owner.FlowReads.SlotOf(owner);
        Interlocked.Increment(ref _slots[slot].Count);
        int token = owner.FlowReads.TryAdd(this, checkSiblings: true);
        if (token == 0)
        {
            // Under the gate: a writer this leaves waiting is tried by the caller (see AdmitReadersLocked).
            BackOut(slot, underGate: true);
            reader.Refuse();
            return false;
        }

        // Recorded by the reader as its wait completes (AsyncWaits.Complete): a listener's code never runs under the gate.
        reader.Grant(token, ReadTag(slot));
        return true;
    }
}
