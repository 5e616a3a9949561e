using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// A non-reentrant mutual-exclusion lock for code that awaits while it holds it, owned by the async flow that took
/// it rather than by a thread. Acquiring it again in the same flow throws <see cref="LockRecursionException"/> at
/// once instead of deadlocking; a scope released twice throws <see cref="SynchronizationLockException"/>.
/// </summary>
/// <remarks>
/// <para>Use <c>using var scope = await myLock.AcquireAsync(cancellationToken);</c>. Waiters queue in FIFO order and
/// the lock is handed to the longest waiter on release; the waiter's continuation never runs on the releasing stack:
/// it runs on the thread pool, or through the <see cref="SynchronizationContext"/> or <see cref="TaskScheduler"/> its
/// await captured. A cancelled or timed-out waiter leaves the queue at once. Acquiring and releasing allocate
/// nothing, contended or not.</para>
/// <para>A flow's holds are visible in the acquiring method and in everything it awaits, calls or starts afterwards
/// (<see cref="IsHeldByCurrentFlow"/>). Ordered async locks take part in the same global order as sync ones.</para>
/// </remarks>
public sealed class AsyncExclusiveLock : LockPrimitive, IAsyncExclusiveAccessLock, IAsyncLockSetMember, IAsyncSetMember, IAsyncWaitHost, IAsyncScopeReleaser, IAsyncOwnedLock, IAsyncTakeAtOnce,
    IAcquisitionWaits
{
    // Odd while held (the holder's token, which the scope's release compares), even while free. Every acquisition and
    // every release adds one, and an acquisition swaps from the value it saw: a flow that saw an older value fails its
    // swap, so no two holds get the same token (for 2^31 acquisitions), and a scope released twice cannot free a later
    // holder.
    private int _state;

    // The flow that took the hold whose token is _holderToken. A release leaves both as they are, so a scope released
    // twice at once from two threads (the loser passes the token test before the winner frees the lock) has nothing of
    // the next holder's to erase: the holder counts only while _holderToken is the state (see HolderNow).
    private LockOwner? _holder;
    private int _holderToken;
    private WaitQueue _queue;

    /// <summary>Creates an unordered lock with a generated name.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(-1)]
    public AsyncExclusiveLock()
        : this(null, null, string.Empty, string.Empty, 0)
    {
    }

    /// <summary>Creates a lock.</summary>
    /// <param name="name">The name messages and metrics use; generated from the type, an id and the creating site if null.</param>
    /// <param name="level">The lock's level in the global lock order (shared with sync locks), or null for an unordered lock.</param>
    /// <param name="memberName">Filled in by the compiler. Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    public AsyncExclusiveLock(
        string? name = null,
        int? level = null,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : base(name, level, LockKind.AsyncExclusive, memberName, sourceFilePath, sourceLineNumber)
    {
        AsyncOwners.Register(this);
    }

    /// <summary>Whether any flow holds the lock (a snapshot).</summary>
    public bool IsHeld => IsHeldState(Volatile.Read(ref _state));

    /// <summary>
    /// Whether the current async flow holds the lock: true in the method that acquired it and in everything that method
    /// awaits, calls or starts while it holds it.
    /// </summary>
    public bool IsHeldByCurrentFlow => HolderNow() is { } holder && ReferenceEquals(FlowOwnership.CurrentOrNull, holder);

    /// <summary>
    /// The id of the flow holding the lock (flow ids start at 2^30, as in <see cref="DeadlockEdge"/>), or 0 when it is
    /// free (a snapshot, for catalogs and diagnostics).
    /// </summary>
    public int HolderFlowId => ExclusiveOwnerId;

    /// <summary>Flows queued for the lock (a snapshot, for tests and diagnostics).</summary>
    public int WaitingCount => _queue.Count;

    internal override int ExclusiveOwnerId => HolderNow()?.OwnerId ?? 0;

    LockPrimitive IAsyncWaitHost.Lock => this;

    LockPrimitive IAsyncOwnedLock.Lock => this;

    Lock IAsyncWaitHost.Gate => _queue.Gate;

    LockOwner? IAsyncOwnedLock.ExclusiveHolder => HolderNow();

    /// <summary>Acquires the lock, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope whose <c>Dispose</c> releases the lock.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the lock (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; the message names the lock, its holder and the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<AsyncLockScope> AcquireAsync(CancellationToken cancellationToken = default) =>
        Enter(TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireAsync(CancellationToken)"/>
    public ValueTask<AsyncLockScope> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Enter(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires the lock if it becomes free within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait; the lock is then not acquired.</param>
    /// <returns>A scope to dispose; <see cref="AsyncLockScope.IsAcquired"/> is false when the timeout elapsed.</returns>
    /// <exception cref="LockRecursionException">The current flow already holds the lock (thrown at once).</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order (thrown at once).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public ValueTask<AsyncLockScope> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Enter(TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout: false);

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken)
    {
        ThrowHelper.ThrowNotForSyncSet(this);
        return false;
    }

    internal override void ExitForSet() => ThrowHelper.ThrowNotForSyncSet(this);

    LockMode IAsyncSetMember.SetMode => LockMode.Exclusive;

    // The async LockSet checked the order for the whole set, so its members skip their own check; each member's
    // hold is one more on the flow (the set's own keeps the record live).
    ValueTask<AsyncLockScope> IAsyncSetMember.EnterForAsyncSet(LockOwner flow, int timeoutMs, CancellationToken cancellationToken)
    {
        FlowOwnership.Held(flow);
        return EnterSlow(flow, timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);
    }

    void IAsyncSetMember.RejectHeldByFlow(LockOwner flow)
    {
        if (ReferenceEquals(HolderNow(), flow))
        {
            ThrowHelper.ThrowAsyncSetMemberHeld(this, flow);
        }
    }

    /// <summary>
    /// The fast path: one compare-and-swap for an unordered lock, and for an ordered one the flow's first hold (a record
    /// just claimed holds nothing to check the order against); everything else out of line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ValueTask<AsyncLockScope> Enter(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        // A cancelled token takes nothing, even a free lock (as SemaphoreSlim.WaitAsync); before any reservation.
        bool claimed = false;
        var flow = cancellationToken.IsCancellationRequested ? null : FlowOwnership.Enter(out claimed);
        if (flow is not null)
        {
            int token;
            if (!OffFastPath)
            {
                if (TryTake(out token))
                {
                    return new ValueTask<AsyncLockScope>(Took(flow, token));
                }
            }
            else if (claimed && IsOrdered && Controller is null && InOrderForThread() && TryTake(out token))
            {
                // Only the thread's sync holds can be out of order; a call here would cost as much as the check.
                return new ValueTask<AsyncLockScope>(TookFirstOrdered(flow, token));
            }
        }

        return EnterOffFastPath(flow, claimed, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>
    /// Everything but the fast path, behind one call, as in every async primitive: with a single call returning the task
    /// in the inlined part, the JIT keeps the awaiting method's task in registers; with two it wrote the task to the stack
    /// and copied it back whole, a load that stalled on the stores just made (a sixth of an uncontended acquisition).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterOffFastPath(LockOwner? flow, bool claimed, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (flow is null)
        {
            return ThrowHelper.CanceledBeforeAcquiringAsync<AsyncLockScope>(this, LockMode.Exclusive, cancellationToken);
        }

        return IsOrdered && Controller is null && !claimed ? EnterOrdered(flow, timeoutMs, cancellationToken, throwOnTimeout) : EnterSlow(flow, timeoutMs, cancellationToken, throwOnTimeout, checkOrder: true);
    }

    /// <summary>
    /// The ordered fast path of a flow that already holds locks: in order for the flow and the thread, free, taken;
    /// anything else goes the slow way.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterOrdered(LockOwner flow, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (OrderLevel > FlowOrder.MaxLevel(flow) && InOrderForThread())
        {
            if (TryTake(out int token))
            {
                FlowOrder.MarkInUse();
                return new ValueTask<AsyncLockScope>(TookOrdered(flow, token));
            }
        }

        return EnterSlow(flow, timeoutMs, cancellationToken, throwOnTimeout, checkOrder: true);
    }

    /// <summary>Whether the thread running the flow holds no sync lock at this lock's level or above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool InOrderForThread() =>
        !LockOwner.AnyThreadRecords || LockOwner.CurrentOrNull is not { } thread || OrderLevel > thread.Held.MaxLevel;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsHeldState(int state) => (state & 1) != 0;

    /// <summary>Takes the lock if it is free: one compare-and-swap from the state just read, whose successor is the token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryTake(out int token) => TryTakeFrom(Volatile.Read(ref _state), out token);

    /// <summary>
    /// Takes the lock if <paramref name="seen"/> is a free state and still the lock's: the swap fails if any acquisition
    /// or release happened since, so a token is never handed out twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryTakeFrom(int seen, out int token)
    {
        token = unchecked(seen + 1);
        return !IsHeldState(seen) && Interlocked.CompareExchange(ref _state, token, seen) == seen;
    }

    /// <summary>Records who took the hold <paramref name="token"/> names: the flow first, then the token that makes it count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RecordHolder(LockOwner flow, int token)
    {
        Volatile.Write(ref _holder, flow);
        Volatile.Write(ref _holderToken, token);
    }

    /// <summary>
    /// The flow holding the lock now, or null (free, or taken a moment ago and not recorded yet): the recorded holder,
    /// if it was recorded with the token the state carries before and after reading it.
    /// </summary>
    private LockOwner? HolderNow()
    {
        int state = Volatile.Read(ref _state);
        if (!IsHeldState(state) || Volatile.Read(ref _holderToken) != state)
        {
            return null;
        }

        var holder = Volatile.Read(ref _holder);
        return Volatile.Read(ref _state) == state ? holder : null;
    }

    /// <summary>
    /// The flow holding the lock, or null when it is free, for the recursion check of an acquisition that found it taken.
    /// Unlike <see cref="HolderNow"/> it does not read a hold taken a moment ago and not recorded yet as nobody's: its
    /// taker records it a few instructions after its swap (or its hand-off, under the gate), so this waits for that. Two
    /// tasks of one flow asking at once would otherwise have the later one wait for the flow itself, or time out, instead
    /// of being told.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private LockOwner? SettledHolder()
    {
        var spinner = default(SpinWait);
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (!IsHeldState(state))
            {
                return null;
            }

            if (Volatile.Read(ref _holderToken) == state)
            {
                var holder = Volatile.Read(ref _holder);
                if (Volatile.Read(ref _state) == state)
                {
                    return holder;
                }
            }
            else
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    /// <summary>The longest waiter's node, for tests (read without the gate).</summary>
    internal AsyncWaitNode? FirstWaiterForTests => _queue.Head as AsyncWaitNode;

    /// <summary>The state a test or a diagnostic sees (odd while held).</summary>
    internal int StateForTests => Volatile.Read(ref _state);

    /// <summary>The caller's CAS to <paramref name="token"/> succeeded: record the holder (its reservation is the hold).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncLockScope Took(LockOwner flow, int token)
    {
        RecordHolder(flow, token);
        var scope = AsyncLockScope.ForOwnedHold(this, token, flow.OwnerId);
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive, scope);
        return scope;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<AsyncLockScope> EnterSlow(LockOwner flow, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        // Read once: a queued wait outside the run tells the controller too.
        var controller = Controller;
        bool controlled = controller is not null && controller.ControlsCurrentThread;
        if (controlled)
        {
            ScheduleAcquire();
        }

        if (ReferenceEquals(SettledHolder(), flow))
        {
            FlowOwnership.NotHeld(flow);
            ThrowHelper.ThrowAsyncRecursion(this, flow);
        }

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
            return ThrowHelper.CanceledBeforeAcquiringAsync<AsyncLockScope>(this, LockMode.Exclusive, cancellationToken);
        }

        timeoutMs = WaitKernel.ResolveTimeout(timeoutMs);
        if (TryTake(out int token))
        {
            return new ValueTask<AsyncLockScope>(TookOrdered(flow, token));
        }

        if (controlled)
        {
            return EnterControlled(flow, timeoutMs, cancellationToken, throwOnTimeout);
        }

        if (timeoutMs == 0)
        {
            return AsyncWaits.FailedWithoutWaiting(this, flow, LockMode.Exclusive, LockModeTags.Exclusive, throwOnTimeout);
        }

        AsyncWaits.RecordContention(this, LockModeTags.Exclusive, flow);
        var node = AsyncWaitNode.Rent();
        node.Prepare(this, this, flow, LockMode.Exclusive, LockModeTags.Exclusive, 0, 0, timeoutMs, cancellationToken, throwOnTimeout);
        flow.WaitingFor = this;
        bool tookAtOnce = false;
        bool refusedAtOnce = false;
        using (GateEntry.Enter(_queue.Gate))
        {
            _queue.EnqueueLast(node);

            // Counted in the queue before the re-test, and a release reads the count after freeing: one of the two
            // always sees the other.
            if (TryTake(out token))
            {
                _queue.Remove(node);
                flow.WaitingFor = null;
                tookAtOnce = true;
            }
            else if (ReferenceEquals(SettledHolder(), flow))
            {
                // A task of this flow may have taken the lock since the check above: waiting for it would be waiting
                // for the flow itself.
                _queue.Remove(node);
                flow.WaitingFor = null;
                refusedAtOnce = true;
            }
        }

        if (refusedAtOnce)
        {
            // Out of the gate, as the took-at-once measurement below: the wait's measurement runs a listener's code.
            FlowOwnership.NotHeld(flow);
            node.RecycleRefusedAtOnce();
            ThrowHelper.ThrowAsyncRecursion(this, flow);
        }

        if (tookAtOnce)
        {
            return node.TookAtOnce(this, flow, token);
        }

        node.Arm(timeoutMs);
        if (controller is not null)
        {
            WaitKernel.TellOutsideQueued(controller, this, node, timeoutMs, cancellationToken);
        }

        return node.PendingTask;
    }

    /// <summary>A controlled flow found the lock taken: it waits for its turn, not on the queue, then completes synchronously.</summary>
    private ValueTask<AsyncLockScope> EnterControlled(LockOwner flow, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        while (WaitControlled(timeoutMs, cancellationToken))
        {
            if (TryTake(out int token))
            {
                return new ValueTask<AsyncLockScope>(TookOrdered(flow, token));
            }
        }

        return AsyncWaits.ControlledWaitEnded(this, flow, LockMode.Exclusive, LockModeTags.Exclusive, throwOnTimeout, timeoutMs, cancellationToken);
    }

    /// <summary>An ordered lock taken by a flow that just claimed its record: its first ordered hold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AsyncLockScope TookFirstOrdered(LockOwner flow, int token)
    {
        FlowOrder.MarkInUse();
        var scope = Took(flow, token);
        FlowOrder.PushFirst(flow, this);
        return scope;
    }

    private AsyncLockScope TookOrdered(LockOwner flow, int token)
    {
        var scope = Took(flow, token);
        if (IsOrdered)
        {
            FlowOrder.Push(flow, this);
        }

        return scope;
    }

    AsyncLockScope IAsyncTakeAtOnce.TookAtOnce(LockOwner flow, int token) => TookOrdered(flow, token);

    void IAsyncScopeReleaser.ReleaseScope(int token, int extra) => ReleaseScope(token, extra);

    AsyncLockScope IAsyncScopeReleaser.ScopeFor(LockOwner owner, int token, int tag) => AsyncLockScope.ForOwnedHold(this, token, owner.OwnerId);

    /// <summary>Releases the hold of the scope with <paramref name="token"/>, which <paramref name="scopeOwnerId"/> took.</summary>
    internal void ReleaseScope(int token, int scopeOwnerId)
    {
        if (Volatile.Read(ref _state) != token)
        {
            ThrowHelper.ThrowAsyncNotHeld(this, scopeOwnerId, HolderNow());
        }

        // The hold's flow: recorded before its scope was handed out, and replaced only by a later acquisition, which
        // needs this hold released first. A second release of the scope racing this one may read a later holder here,
        // but then fails the swap (or the hand-off's test) below and throws, so only the winner uses what it read.
        var owner = Volatile.Read(ref _holder)!;

        // Read, not taken: only the release that wins the swap (or the hand-off's test) below may clear it, and only if
        // the next holder has not set its own meanwhile.
        long holdStart = Volatile.Read(ref HoldStart);
        if (_queue.Count == 0)
        {
            if (Interlocked.CompareExchange(ref _state, unchecked(token + 1), token) != token)
            {
                ThrowHelper.ThrowAsyncNotHeld(this, scopeOwnerId, HolderNow());
            }

            // A waiter that queued after the count was read re-tests the state itself; one that queued before the
            // CAS is seen here.
            if (_queue.Count != 0)
            {
                HandOffIfFree();
            }
        }
        else
        {
            HandOff(scopeOwnerId, token);
        }

        // This release won: what is left of the hold is the owner's alone.
        if (IsOrdered)
        {
            FlowOrder.Remove(owner, this);
        }

        FlowOwnership.Released(owner);
        if (holdStart != 0)
        {
            Interlocked.CompareExchange(ref HoldStart, 0, holdStart);
            RecordHoldThenSchedule(LockModeTags.Exclusive, holdStart);
        }
        else if (Controller is not null)
        {
            ScheduleRelease();
        }
    }

    /// <summary>Releases to the longest waiter, if any, keeping the lock held: no newcomer barges in between.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void HandOff(int scopeOwnerId, int token)
    {
        using (GateEntry.Enter(_queue.Gate))
        {
            if (Volatile.Read(ref _state) != token)
            {
                ThrowHelper.ThrowAsyncNotHeld(this, scopeOwnerId, HolderNow());
            }

            if (_queue.Dequeue() is AsyncWaitNode next)
            {
                // Released and taken again in one step: the next holder's token is two on.
                int nextToken = unchecked(token + 2);
                Volatile.Write(ref _state, nextToken);
                GrantWithToken(next, nextToken);
            }
            else
            {
                Volatile.Write(ref _state, unchecked(token + 1));
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void HandOffIfFree()
    {
        using (GateEntry.Enter(_queue.Gate))
        {
            if (_queue.Head is null)
            {
                return;
            }

            if (TryTake(out int token))
            {
                var next = (AsyncWaitNode)_queue.Dequeue()!;
                GrantWithToken(next, token);
            }
        }
    }

    private void GrantWithToken(AsyncWaitNode next, int token)
    {
        // Recorded by the waiter as its wait completes (AsyncWaits.Complete): a listener's code never runs under the gate.
        RecordHolder(next.Owner, token);
        next.Grant(token, 0);
    }

    void IAsyncWaitHost.RemoveLocked(AsyncWaitNode node) => _queue.Remove(node);

    void IAsyncWaitHost.ThrowTimeout(LockOwner waiter, LockMode mode, TimeSpan waited, int scopeTag, int gaveUpState, ReportedHolder holder) =>
        ThrowHelper.ThrowAsyncTimeout(this, waiter, mode, holder, waited);

    void IAsyncOwnedLock.AddWaiters(List<(LockOwner Flow, LockMode Mode)> waiters) => _queue.AddAsyncWaiters(waiters);

    void IAcquisitionWaits.AddWaits(List<AcquisitionWait> waits) => AcquisitionWaits.AddQueued(this, ref _queue, waits);
}
