using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

// The async forms: permits for async flows, queued beside sync waiters in the same wait queue.
public sealed partial class CountingSemaphore : IAsyncLockSetMember, IAsyncSetMember, IAsyncWaitHost, IAsyncOwnedLock, IAsyncTakeAtOnce,
    IAcquisitionWaits
{
    // One released hold kept for the next acquisition when the releasing thread's own spare slot is taken.
    private SemaphoreHold? _spareHold;

    // Async waiters in the queue, changed under the gate. While any is queued, a thread newly arriving takes no permits
    // (it queues behind), so a waiter for several permits is not starved by threads taking one at a time.
    private int _asyncQueued;

    /// <summary>
    /// What a try-once that failed now saw, for a timeout message (an async set's): the free permits, held back while an
    /// async waiter is queued, since a newcomer takes none ahead of it.
    /// </summary>
    internal int GaveUpStateNow() =>
        new SemaphoreGaveUp(Volatile.Read(ref _count), HeldBack: Volatile.Read(ref _asyncQueued) != 0).Pack();

    /// <summary>Async waits queued now (a snapshot, for tests).</summary>
    internal int AsyncWaitingCountForTests => Volatile.Read(ref _asyncQueued);

    // 1 once the semaphore is in AsyncOwners' list, which the detector reads for queued flows: on its first queued async
    // wait, so a semaphore only threads use costs nothing there.
    private int _listedForDetector;

    LockPrimitive IAsyncWaitHost.Lock => this;

    LockPrimitive IAsyncOwnedLock.Lock => this;

    // Permits have no owner: a flow waiting for them is listed (CurrentWaits) but no cycle goes through it.
    LockOwner? IAsyncOwnedLock.ExclusiveHolder => null;

    Lock IAsyncWaitHost.Gate => _queue.Gate;

    /// <summary>Takes one permit for the current async flow, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <param name="cancellationToken">Cancels the wait; no permit is taken then.</param>
    /// <returns>A scope whose <c>Dispose</c> gives the permit back, once.</returns>
    /// <remarks>
    /// Async waiters queue in FIFO order beside sync waiters and are handed their permits by the release that frees
    /// them; their continuations run on the thread pool, never on the releasing stack. A cancelled or timed-out waiter
    /// leaves the queue at once, and the permits it was waiting for go to the waiters behind it. A newcomer does not
    /// take permits ahead of queued async waiters.
    /// </remarks>
    /// <exception cref="LockOrderViolationException">Waiting would break the global lock order (thrown at once).</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; the message names the semaphore and its counts.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<AsyncLockScope> AcquireAsync(CancellationToken cancellationToken = default) =>
        EnterAsync(1, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Takes one permit for the current async flow, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; no permit is taken then.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireAsync(CancellationToken)"/>
    public ValueTask<AsyncLockScope> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterAsync(1, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: true);

    /// <summary>Takes one permit for the current async flow if one becomes free within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; no permit is taken then.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="LockOrderViolationException">Waiting would break the global lock order (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<AsyncLockScope> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        EnterAsync(1, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false);

    /// <summary>Takes <paramref name="count"/> permits at once for the current async flow, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="count">How many permits to take, from 1 to <see cref="MaxCount"/>.</param>
    /// <param name="cancellationToken">Cancels the wait; no permit is taken then.</param>
    /// <returns>A scope whose <c>Dispose</c> gives all the permits back, once.</returns>
    /// <remarks>
    /// A waiter for several permits keeps its place in the queue: async waiters behind it wait until it is served or
    /// gives up (FIFO), so it cannot be starved by waiters for fewer.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or exceeds <see cref="MaxCount"/>.</exception>
    /// <exception cref="LockOrderViolationException">Waiting would break the global lock order (thrown at once).</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; the message names the semaphore and its counts.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    public ValueTask<AsyncLockScope> AcquireAsync(int count, CancellationToken cancellationToken = default)
    {
        ValidateCount(count, async: true);
        return EnterAsync(count, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);
    }

    /// <summary>Takes <paramref name="count"/> permits at once for the current async flow, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="count">How many permits to take, from 1 to <see cref="MaxCount"/>.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; no permit is taken then.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is out of range, or the timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireAsync(int, CancellationToken)"/>
    public ValueTask<AsyncLockScope> AcquireAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateCount(count, async: true);
        return EnterAsync(count, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: true);
    }

    /// <summary>Takes <paramref name="count"/> permits at once for the current async flow if they become free within <paramref name="timeout"/>.</summary>
    /// <param name="count">How many permits to take, from 1 to <see cref="MaxCount"/>.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; no permit is taken then.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is out of range, or the timeout is negative (other than infinite).</exception>
    /// <exception cref="LockOrderViolationException">Waiting would break the global lock order (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    public ValueTask<AsyncLockScope> TryAcquireAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateCount(count, async: true);
        return EnterAsync(count, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false);
    }

    /// <summary>Async waiters queued for permits (a snapshot, for tests and diagnostics); sync waiters are not counted.</summary>
    internal int QueuedAsyncWaiterCount
    {
        get
        {
            if (_queue.GateOrNull is not { } gate)
            {
                return 0;
            }

            int count = 0;
            using (GateEntry.Enter(gate))
            {
                for (var node = _queue.Head; node is not null; node = node.Next)
                {
                    if (node is AsyncWaitNode)
                    {
                        count++;
                    }
                }
            }

            return count;
        }
    }

    /// <summary>The fast path: one compare-and-swap when permits are free and no async waiter is queued ahead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ValueTask<AsyncLockScope> EnterAsync(int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        // A cancelled token takes nothing, even a free lock (as SemaphoreSlim.WaitAsync); before any reservation.
        var flow = cancellationToken.IsCancellationRequested ? null : FlowOwnership.Enter();
        int current = Volatile.Read(ref _count);
        if (flow is not null && !OffFastPath && current >= count && _queue.Count == 0 && Interlocked.CompareExchange(ref _count, current - count, current) == current)
        {
            return new ValueTask<AsyncLockScope>(TookAsync(flow, count));
        }

        return EnterAsyncOffFastPath(flow, count, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>Everything but the fast path, in one call (why one: see <c>AsyncExclusiveLock.EnterOffFastPath</c>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterAsyncOffFastPath(LockOwner? flow, int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout) =>
        flow is null
            ? ThrowHelper.CanceledBeforeAcquiringAsync<AsyncLockScope>(this, LockMode.Permit, cancellationToken, count)
            : EnterAsyncSlow(flow, count, timeoutMs, cancellationToken, throwOnTimeout, checkOrder: true);

    /// <summary>The flow took <paramref name="count"/> permits itself: a hold to release them by (the flow's reservation is its hold).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncLockScope TookAsync(LockOwner flow, int count)
    {
        var scope = HoldFor(flow, count);
        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Permit, scope);
        return scope;
    }

    /// <summary>The hold of <paramref name="count"/> permits the flow took, as its scope; nothing recorded yet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncLockScope HoldFor(LockOwner flow, int count)
    {
        var hold = SemaphoreHold.Rent(this);
        int token = hold.Begin(flow);
        return AsyncLockScope.ForSemaphoreHold(hold, token, count);
    }

    AsyncLockScope IAsyncTakeAtOnce.TookAtOnce(LockOwner flow, int count) => TookAsyncOrdered(flow, count);

    private AsyncLockScope TookAsyncOrdered(LockOwner flow, int count)
    {
        // Booked and ordered before the counter runs: a listener's exception gives the hold back, which undoes both. After
        // it, the give-back would tell the scheduler of permits it never saw taken, and clear another permit's order entry.
        var scope = HoldFor(flow, count);
        Controller?.PermitsTaken(this, count, null);
        if (IsOrdered)
        {
            FlowOrder.Push(flow, this);
        }

        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Permit, scope);
        return scope;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterAsyncSlow(LockOwner flow, int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        if (Controller is not { } controller)
        {
            return EnterAsyncSlowCore(flow, count, timeoutMs, cancellationToken, throwOnTimeout, checkOrder, controller: null, controlled: false);
        }

        // From a thread outside the run too, as a thread's Acquire does: the run counts the permits such threads take,
        // which a flow waiting for one may have to wait for. It is told what the attempt took and when it is over (a
        // queued waiter's permits are counted when they are granted).
        bool controlled = IsControlledHere;
        ScheduleAcquire();
        try
        {
            return EnterAsyncSlowCore(flow, count, timeoutMs, cancellationToken, throwOnTimeout, checkOrder, controller, controlled);
        }
        finally
        {
            controller.AcquireEnded(this);
        }
    }

    private ValueTask<AsyncLockScope> EnterAsyncSlowCore(
        LockOwner flow, int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder,
        ISchedulingController? controller, bool controlled)
    {
        if (checkOrder && IsOrdered)
        {
            try
            {
                FlowOrder.Check(this, flow);
            }
            catch
            {
                FlowOwnership.NotHeld(flow);
                throw;
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            FlowOwnership.NotHeld(flow);
            return ThrowHelper.CanceledBeforeAcquiringAsync<AsyncLockScope>(this, LockMode.Permit, cancellationToken, count);
        }

        timeoutMs = WaitKernel.ResolveTimeout(timeoutMs);
        if (controlled)
        {
            // A controlled flow waits for its turn, not on the queue, and then completes synchronously.
            int free;
            while (!TryTake(count, out free))
            {
                if (!WaitControlled(timeoutMs, cancellationToken))
                {
                    return cancellationToken.IsCancellationRequested
                        ? AsyncWaits.ControlledWaitCanceled(this, flow, LockMode.Permit, count, cancellationToken)
                        : FailedAsyncWithoutWaiting(flow, count, new SemaphoreGaveUp(free, HeldBack: false), throwOnTimeout, timeoutMs);
                }
            }

            return new ValueTask<AsyncLockScope>(TookAsyncOrdered(flow, count));
        }

        if (_queue.Count == 0 && TryTake(count))
        {
            return new ValueTask<AsyncLockScope>(TookAsyncOrdered(flow, count));
        }

        if (timeoutMs == 0)
        {
            // A try-once queues behind nobody: like a thread's, it passes sleeping threads (they wake and retry) but
            // takes nothing ahead of a queued async waiter. Threads that cannot use the free permits must not fail it.
            if (Volatile.Read(ref _asyncQueued) != 0)
            {
                return FailedAsyncWithoutWaiting(flow, count, new SemaphoreGaveUp(Volatile.Read(ref _count), HeldBack: true), throwOnTimeout);
            }

            return TryTake(count, out int freeOnce)
                ? new ValueTask<AsyncLockScope>(TookAsyncOrdered(flow, count))
                : FailedAsyncWithoutWaiting(flow, count, new SemaphoreGaveUp(freeOnce, HeldBack: false), throwOnTimeout);
        }

        if (Volatile.Read(ref _listedForDetector) == 0)
        {
            ListForDetector();
        }

        AsyncWaits.RecordContention(this, LockModeTags.Permit, flow);
        var node = AsyncWaitNode.Rent();

        // The releaser is the hold a grant rents; it is set when the permits are handed over.
        node.Prepare(this, null!, flow, LockMode.Permit, LockModeTags.Permit, 0, count, timeoutMs, cancellationToken, throwOnTimeout);
        flow.WaitingFor = this;
        bool took;
        using (GateEntry.Enter(_queue.Gate))
        {
            _queue.EnqueueLast(node);
            _asyncQueued++;

            // Counted in the queue before the re-test, and a release reads the count after adding its permits: one
            // of the two always sees the other. The re-test serves the queue in order, this waiter included.
            took = WakeWaitersLocked(node);
        }

        if (took)
        {
            flow.WaitingFor = null;
            return node.TookAtOnce(this, flow, count);
        }

        node.Arm(timeoutMs);
        if (controller is not null)
        {
            WaitKernel.TellOutsideQueued(controller, this, node, timeoutMs, cancellationToken);
        }

        return node.PendingTask;
    }

    /// <summary>Puts the semaphore in the list of async locks whose queued flows the deadlock detector reads, once.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ListForDetector()
    {
        if (Interlocked.Exchange(ref _listedForDetector, 1) == 0)
        {
            AsyncOwners.Register(this);
        }
    }

    void IAsyncOwnedLock.AddWaiters(System.Collections.Generic.List<(LockOwner Flow, LockMode Mode)> waiters) => _queue.AddAsyncWaiters(waiters);

    void IAcquisitionWaits.AddWaits(System.Collections.Generic.List<AcquisitionWait> waits) => AcquisitionWaits.AddQueued(this, ref _queue, waits);

    /// <summary>A try-once that found too few permits, or a controlled wait the scheduler timed out after <paramref name="timeoutMs"/>.</summary>
    private ValueTask<AsyncLockScope> FailedAsyncWithoutWaiting(LockOwner flow, int count, SemaphoreGaveUp gaveUp, bool throwOnTimeout, int timeoutMs = 0)
    {
        if (!throwOnTimeout)
        {
            FlowOwnership.NotHeld(flow);
            return default;
        }

        var waited = TimeSpan.FromMilliseconds(timeoutMs);
        try
        {
            // Reported and described while the reservation still counts: a flow holding nothing else keeps its activity's name.
            AsyncWaits.ReportTimeout(this, flow, LockMode.Permit, LockModeTags.Permit, waited, default);
            ThrowHelper.ThrowAsyncSemaphoreTimeout(this, flow, count, gaveUp, _maxCount, waited);
        }
        catch (LockTimeoutException timeout)
        {
            // The wait's outcome, as a queued wait's timeout is: the task's fault, not a throw from the call.
            return ValueTask.FromException<AsyncLockScope>(timeout);
        }
        finally
        {
            FlowOwnership.NotHeld(flow);
        }

        return default;
    }

    /// <summary>Under the gate, the waiter unlinked and its permits taken: hands them over.</summary>
    private void GrantAsyncLocked(AsyncWaitNode node)
    {
        var hold = SemaphoreHold.Rent(this);
        int token = hold.Begin(node.Owner);
        node.Releaser = hold;
        Controller?.PermitsTaken(this, node.Request, node.Owner);

        // Recorded by the waiter as its wait completes (AsyncWaits.Complete): a listener's code never runs under the gate.
        node.Grant(token, node.Request);
    }

    /// <summary>A hold's release, after it was marked released: gives the permits back and ends the flow's hold.</summary>
    internal void ReleaseAsyncHold(LockOwner owner, int count)
    {
        if (IsOrdered)
        {
            // A flow may hold several permits, released from several threads at once.
            FlowOrder.RemoveOneOf(owner, this);
        }

        try
        {
            Release(count);
        }
        finally
        {
            FlowOwnership.Released(owner);
        }
    }

    LockMode IAsyncSetMember.SetMode => LockMode.Permit;

    // One permit for the async LockSet, which checked the order for the whole set. No owner: nothing to reject. The
    // member's hold is one more on the flow (the set's own keeps the record live).
    ValueTask<AsyncLockScope> IAsyncSetMember.EnterForAsyncSet(LockOwner flow, int timeoutMs, CancellationToken cancellationToken)
    {
        FlowOwnership.Held(flow);
        return EnterAsyncSlow(flow, 1, timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);
    }

    void IAsyncSetMember.RejectHeldByFlow(LockOwner flow)
    {
    }

    internal SemaphoreHold? TakeSpareHold()
    {
        var spare = Volatile.Read(ref _spareHold);
        return spare is not null && Interlocked.CompareExchange(ref _spareHold, null, spare) == spare ? spare : null;
    }

    internal void KeepSpareHold(SemaphoreHold hold) => Volatile.Write(ref _spareHold, hold);

    void IAsyncWaitHost.RemoveLocked(AsyncWaitNode node)
    {
        // What the wait saw as it gave up, for its message: permits free now are held for an async waiter ahead of it
        // (served in order), or came back just now, the release that added them not yet through the gate.
        node.GaveUpState = new SemaphoreGaveUp(Volatile.Read(ref _count), HeldBack: AsyncWaiterAhead(node)).Pack();
        _queue.Remove(node);
        _asyncQueued--;

        // A waiter that blocked the head (it asked for more than was free) is gone: the ones behind it may fit now.
        if (_queue.Count != 0 && Volatile.Read(ref _count) != 0)
        {
            WakeWaitersLocked(null);
        }
    }

    /// <summary>Under the gate: whether an async waiter is queued ahead of <paramref name="node"/> (a contended slow path's walk).</summary>
    private bool AsyncWaiterAhead(AsyncWaitNode node)
    {
        for (var ahead = _queue.Head; ahead is not null && !ReferenceEquals(ahead, node); ahead = ahead.Next)
        {
            if (ahead is AsyncWaitNode)
            {
                return true;
            }
        }

        return false;
    }

    // The scope tag of a semaphore's wait is the permits it asked for (one for a lock set's member).
    void IAsyncWaitHost.ThrowTimeout(LockOwner waiter, LockMode mode, TimeSpan waited, int scopeTag, int gaveUpState, ReportedHolder holder) =>
        ThrowHelper.ThrowAsyncSemaphoreTimeout(this, waiter, scopeTag, SemaphoreGaveUp.Unpack(gaveUpState), _maxCount, waited);
}
