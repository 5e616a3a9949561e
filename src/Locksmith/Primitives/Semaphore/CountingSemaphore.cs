using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A counting semaphore: up to <see cref="MaxCount"/> permits, taken one or several at a time. It has no owner,
/// so any thread may release a permit, which makes it a signal between threads as well as a limit on concurrency.
/// Waiters spin briefly, then sleep.
/// </summary>
/// <remarks>
/// <para>Use <c>using var scope = semaphore.Acquire();</c>; the scope gives back exactly the permits it took.
/// Releasing more permits than the maximum allows throws <see cref="SemaphoreFullException"/> and changes nothing.</para>
/// <para>Between threads the semaphore is unfair: a thread arriving while permits are free may take them ahead of a
/// sleeping thread, and a thread waiting for several permits can be overtaken by threads waiting for one. That keeps
/// the uncontended path at one compare-and-swap, at the price of no FIFO guarantee.</para>
/// <para>An ordered semaphore checks the global order before it waits (blocking on it while holding a higher lock can
/// deadlock), but it is not recorded as held: a permit has no owner and may be released on another thread, so
/// the acquiring thread's held-lock stack could not be kept in step.</para>
/// <para>Async flows take permits with <c>await semaphore.AcquireAsync(token)</c>. Their waiters queue beside the
/// threads' and are handed their permits in FIFO order: while one is queued, a newcomer, thread or flow, takes no
/// permits but queues behind it, so a flow waiting for several permits is not starved by threads taking one; the scope gives its permits back once, and a second dispose throws
/// <see cref="SynchronizationLockException"/>. An ordered semaphore's async permits are recorded as held by the flow
/// that took them until its scope is disposed, so the flow's later acquisitions are checked against it.</para>
/// </remarks>
public sealed partial class CountingSemaphore : LockPrimitive, IExclusiveAccessLock, ILockSetMember
{
    private readonly int _maxCount;
    private int _count;

    // Threads blocked in the slow path; a releaser that sees none skips the gate entirely.
    private WaitQueue _queue;

    /// <summary>Creates a semaphore.</summary>
    /// <param name="initialCount">The permits free at the start, from 0 to <paramref name="maxCount"/>.</param>
    /// <param name="maxCount">The most permits the semaphore can hold; at least 1.</param>
    /// <param name="name">
    /// The name messages and metrics use. If null, one is generated from the type, a process-unique id and where the
    /// semaphore was created, e.g. <c>CountingSemaphore#44 (_slots, Pool.cs:12)</c> for a field initializer; a generated
    /// name gives way to the member name a <c>[Guarded]</c> wrapper declares.
    /// </param>
    /// <param name="level">The semaphore's level in the global lock order, or null for an unordered one.</param>
    /// <param name="memberName">Filled in by the compiler (the creating member; a field's name in its initializer). Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler; only the file's name is used. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is not positive, or
    /// <paramref name="initialCount"/> is negative or greater than <paramref name="maxCount"/>.</exception>
    public CountingSemaphore(
        int initialCount,
        int maxCount,
        string? name = null,
        int? level = null,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : base(name, level, LockKind.Semaphore, memberName, sourceFilePath, sourceLineNumber)
    {
        // Named like every other message of the semaphore (the base made the name, from the creating site if none).
        if (maxCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, $"Semaphore {Describe()}: maxCount must be at least 1.");
        }

        if (initialCount < 0 || initialCount > maxCount)
        {
            throw new ArgumentOutOfRangeException(
                nameof(initialCount), initialCount, $"Semaphore {Describe()}: initialCount must be from 0 to maxCount ({maxCount}).");
        }

        _count = initialCount;
        _maxCount = maxCount;
    }

    /// <summary>The permits free right now (a snapshot).</summary>
    public int CurrentCount => Volatile.Read(ref _count);

    /// <summary>The most permits the semaphore can hold.</summary>
    public int MaxCount => _maxCount;

    /// <summary>
    /// Threads and async flows queued for permits (a snapshot, for tests and diagnostics): the queue that async waiters are
    /// served from in FIFO order. A cancelled or timed-out waiter has left it.
    /// </summary>
    public int WaitingCount => _queue.Count;

    /// <summary>Threads queued in the slow path (a snapshot, for tests and diagnostics).</summary>
    internal int QueuedWaiterCount => _queue.Count;

    /// <summary>
    /// For tests: called on a releasing thread that found waiters queued, after its permits were added and before it wakes
    /// them (no gate held). Holding the thread here holds that moment open: the permits read as free, the waiters as queued.
    /// </summary>
    internal static Action<CountingSemaphore>? WakeAfterReleaseForTests;

    /// <summary>The wait queue's gate, for tests that hold it from another thread.</summary>
    internal Lock QueueGateForTests => _queue.Gate;

    /// <summary>
    /// Whether <paramref name="node"/> is in this semaphore's queue, not woken, and not about to be (fewer permits free than
    /// it asks, or async waiters queued that may keep them): read under the gate, for a controlled scheduler asking whether
    /// a thread outside its run is parked here. Outside the gate a woken waiter's retry, which queues its node again (not
    /// woken) before it takes its permits and unlinks it, reads as parked.
    /// </summary>
    internal bool HasQueuedUnserved(WaitNode node)
    {
        if (_queue.GateOrNull is not { } gate)
        {
            return false;
        }

        using (GateEntry.Enter(gate))
        {
            if (node.Status != WaitStatus.Waiting || (Volatile.Read(ref _count) >= node.Request && _asyncQueued == 0))
            {
                return false;
            }

            for (var queued = _queue.Head; queued is not null; queued = queued.Next)
            {
                if (ReferenceEquals(queued, node))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Always 0: a semaphore has no owner.</summary>
    internal override int ExclusiveOwnerId => 0;

    // Not Release: a controlled scheduler was never told these permits were taken (it is told once the acquisition
    // returns), so it must not count them given back; and a semaphore others filled meanwhile drops them, never throws.
    internal override void GiveBackAfterListenerFault(string modeTag, int permits) => GiveBackTaken(permits);

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        Enter(1, timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);

    internal override void ExitForSet() => Release();

    /// <summary>Takes one permit, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <returns>A scope whose <c>Dispose</c> gives the permit back.</returns>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; the message names the semaphore and its counts.</exception>
    /// <exception cref="LockOrderViolationException">Waiting would break the global lock order.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Scope Acquire()
    {
        Enter(1, TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, checkOrder: true);
        return new Scope(this, 1);
    }

    /// <summary>Takes one permit, waiting until <paramref name="cancellationToken"/> is cancelled or the default timeout elapses.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; no permit is taken.</exception>
    /// <inheritdoc cref="Acquire()"/>
    public Scope Acquire(CancellationToken cancellationToken)
    {
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Permit, 1);
        Enter(1, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this, 1);
    }

    /// <summary>Takes one permit, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="LockTimeoutException">The timeout elapsed; the message names the semaphore and its counts.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no permit is taken.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="Acquire()"/>
    public Scope Acquire(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Permit, 1);
        Enter(1, timeoutMs, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this, 1);
    }

    /// <summary>Takes <paramref name="count"/> permits at once, waiting up to <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    /// <param name="count">How many permits to take, from 1 to <see cref="MaxCount"/>.</param>
    /// <returns>A scope whose <c>Dispose</c> gives all the permits back.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or exceeds <see cref="MaxCount"/>.</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed; the message names the semaphore and its counts.</exception>
    /// <exception cref="LockOrderViolationException">Waiting would break the global lock order.</exception>
    public Scope Acquire(int count)
    {
        ValidateCount(count);
        Enter(count, TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, checkOrder: true);
        return new Scope(this, count);
    }

    /// <summary>Takes <paramref name="count"/> permits at once, waiting until <paramref name="cancellationToken"/> is cancelled or the default timeout elapses.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; no permit is taken.</exception>
    /// <inheritdoc cref="Acquire(int)"/>
    public Scope Acquire(int count, CancellationToken cancellationToken)
    {
        ValidateCount(count);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Permit, count);
        Enter(count, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this, count);
    }

    /// <summary>Takes <paramref name="count"/> permits at once, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="count">How many permits to take, from 1 to <see cref="MaxCount"/>.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is out of range, or the timeout is negative (other than infinite).</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed; the message names the semaphore and its counts.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; no permit is taken.</exception>
    /// <inheritdoc cref="Acquire(int)"/>
    public Scope Acquire(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateCount(count);
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Permit, count);
        Enter(count, timeoutMs, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this, count);
    }

    /// <summary>Takes one permit if one is free right now.</summary>
    /// <param name="scope">The scope to dispose when the permit was taken; a no-op scope otherwise.</param>
    /// <returns>Whether the permit was taken.</returns>
    public bool TryAcquire(out Scope scope) => TryAcquire(1, TimeSpan.Zero, default, out scope);

    /// <summary>Takes one permit, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="scope">The scope to dispose when the permit was taken; a no-op scope otherwise.</param>
    /// <returns>Whether the permit was taken before the timeout.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool TryAcquire(TimeSpan timeout, out Scope scope) => TryAcquire(1, timeout, default, out scope);

    /// <summary>Takes one permit, waiting at most <paramref name="timeout"/> or until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; no permit is taken.</exception>
    /// <inheritdoc cref="TryAcquire(TimeSpan, out Scope)"/>
    public bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken, out Scope scope) =>
        TryAcquire(1, timeout, cancellationToken, out scope);

    /// <summary>Takes <paramref name="count"/> permits at once if that many are free right now.</summary>
    /// <param name="count">How many permits to take, from 1 to <see cref="MaxCount"/>.</param>
    /// <param name="scope">The scope to dispose when the permits were taken; a no-op scope otherwise.</param>
    /// <returns>Whether the permits were taken.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or exceeds <see cref="MaxCount"/>.</exception>
    public bool TryAcquire(int count, out Scope scope) => TryAcquire(count, TimeSpan.Zero, default, out scope);

    /// <summary>Takes <paramref name="count"/> permits at once, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="count">How many permits to take, from 1 to <see cref="MaxCount"/>.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="scope">The scope to dispose when the permits were taken; a no-op scope otherwise.</param>
    /// <returns>Whether the permits were taken before the timeout.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is out of range, or the timeout is negative (other than infinite).</exception>
    public bool TryAcquire(int count, TimeSpan timeout, out Scope scope) => TryAcquire(count, timeout, default, out scope);

    /// <summary>Takes <paramref name="count"/> permits at once, waiting at most <paramref name="timeout"/> or until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; no permit is taken.</exception>
    /// <inheritdoc cref="TryAcquire(int, TimeSpan, out Scope)"/>
    public bool TryAcquire(int count, TimeSpan timeout, CancellationToken cancellationToken, out Scope scope)
    {
        ValidateCount(count);
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Permit, count);
        bool acquired = Enter(count, timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: true);
        scope = acquired ? new Scope(this, count) : default;
        return acquired;
    }

    /// <summary>
    /// Gives back <paramref name="count"/> permits, waking waiters. Any thread may call it. Prefer disposing the
    /// scope <see cref="Acquire()"/> returned.
    /// </summary>
    /// <param name="count">How many permits to give back; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    /// <exception cref="SemaphoreFullException">The release would exceed <see cref="MaxCount"/>; no permit is added.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Release(int count = 1)
    {
        if (count <= 0)
        {
            ThrowHelper.ThrowReleaseCountOutOfRange(this, count);
        }

        int current = Volatile.Read(ref _count);
        while (true)
        {
            if (count > _maxCount - current)
            {
                ThrowHelper.ThrowSemaphoreFull(this, count, current, _maxCount);
            }

            int seen = Interlocked.CompareExchange(ref _count, current + count, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }

        AfterPermitsAdded(count, current + count);
    }

    /// <summary>
    /// After permits were added: wakes the waiters they may serve, and signals a scheduling controller, which counts
    /// <paramref name="returned"/> as given back (0: permits an acquisition took and could not keep, never counted taken)
    /// and <paramref name="freeAfter"/> (the count the compare-and-swap wrote) as free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AfterPermitsAdded(int returned, int freeAfter)
    {
        // The compare-and-swap that added them is a full fence, so this read cannot miss a waiter that counted itself first.
        if (_queue.Count != 0)
        {
            WakeWaiters();
        }

        if (Controller is not null)
        {
            ScheduleReturn(returned, freeAfter);
        }
    }

    /// <summary>
    /// <see cref="LockPrimitive.ScheduleRelease"/> telling the controller how many permits came back: after the wake-up,
    /// so the scheduler never sees the permits returned while the flows they free still look blocked. With the count
    /// the release's compare-and-swap wrote: read now, woken waiters or other threads may have taken some already.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ScheduleReturn(int returned, int freeAfter)
    {
        var controller = Controller!;
        controller.Signal(this, all: true);
        if (returned != 0)
        {
            controller.PermitsReturned(this, returned, freeAfter);
        }

        controller.Point(SchedulingOperation.Release, this, Name);
    }

    /// <summary>
    /// Gives back permits an acquisition took but cannot keep (a long-wait handler or a metrics listener threw), as <see cref="Release"/> does but
    /// never throwing: if others released past the maximum meanwhile, the semaphore is full and the excess is dropped,
    /// so the handler's exception is the one the caller sees.
    /// </summary>
    internal void GiveBackTaken(int count)
    {
        int current = Volatile.Read(ref _count);
        while (true)
        {
            int returned = Math.Min(count, _maxCount - current);
            if (returned <= 0)
            {
                break;
            }

            int seen = Interlocked.CompareExchange(ref _count, current + returned, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }

        // Counted as given back by nobody (never counted taken): the controller hears only the signal.
        AfterPermitsAdded(0, 0);
    }

    /// <summary>The one inlined acquire path: order check, one compare-and-swap, and the slow path on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Enter(int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder) =>
        OffFastPath ? EnterOffFast(count, timeoutMs, cancellationToken, throwOnTimeout, checkOrder) : Take(count, timeoutMs, cancellationToken, throwOnTimeout);

    /// <summary>One compare-and-swap, and the slow path on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Take(int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        int current = Volatile.Read(ref _count);
        if ((current < count || Volatile.Read(ref _asyncQueued) != 0 || Interlocked.CompareExchange(ref _count, current - count, current) != current) &&
            !EnterContended(count, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        LocksmithMetrics.RecordAcquisition(this, LockModeTags.Permit, count);
        return true;
    }

    // Out of line, like every ordered path: the unordered acquire stays small enough to inline.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterOffFast(int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        if (Controller is not { } controller)
        {
            if (checkOrder && IsOrdered)
            {
                OrderGuard.Check(this);
            }

            return Take(count, timeoutMs, cancellationToken, throwOnTimeout);
        }

        // A controlled scheduler counts permits, not calls: it is told what the attempt took (a failed try, a timeout
        // or a cancellation takes nothing) and when the attempt is over.
        ScheduleAcquire();
        try
        {
            if (checkOrder && IsOrdered)
            {
                OrderGuard.Check(this);
            }

            if (!Take(count, timeoutMs, cancellationToken, throwOnTimeout))
            {
                return false;
            }

            controller.PermitsTaken(this, count, null);
            return true;
        }
        finally
        {
            controller.AcquireEnded(this);
        }
    }

    // async: the async overloads' check, whose message names the flow that asked rather than its thread.
    private void ValidateCount(int count, bool async = false)
    {
        if ((uint)(count - 1) >= (uint)_maxCount)
        {
            ThrowHelper.ThrowPermitCountOutOfRange(this, count, _maxCount, async);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterContended(int count, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        var protocol = new Protocol(this, count);
        return WaitKernel.Acquire(
            ref protocol, ref _queue, this, LockMode.Permit, LockModeTags.Permit, timeoutMs, cancellationToken, throwOnTimeout);
    }

    private bool TryTake(int count) => TryTake(count, out _);

    /// <summary>Takes <paramref name="count"/> permits if free; on failure <paramref name="free"/> is the count that was too low.</summary>
    private bool TryTake(int count, out int free)
    {
        int current = Volatile.Read(ref _count);
        while (current >= count)
        {
            int seen = Interlocked.CompareExchange(ref _count, current - count, current);
            if (seen == current)
            {
                free = current - count;
                return true;
            }

            current = seen;
        }

        free = current;
        return false;
    }

    /// <summary>
    /// Wakes the queued waiters the free permits can satisfy, oldest first: a waiter for three permits that does not
    /// fit is skipped, and waiters for fewer behind it are woken (the documented lack of FIFO for multi-permit waits).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeWaiters()
    {
        // Off the uncontended path: only a release that found waiters to wake gets here.
        WakeAfterReleaseForTests?.Invoke(this);
        var gate = _queue.GateOrNull;
        if (gate is null)
        {
            return;
        }

        using (GateEntry.Enter(gate))
        {
            WakeWaitersLocked();
        }
    }

    private void WakeWaitersLocked() => WakeWaitersLocked(null);

    /// <summary>
    /// Under the gate: wakes the sync waiters the free permits can satisfy and hands permits to async waiters, oldest
    /// first. An async waiter is granted its permits for real (hand-off); one that does not fit keeps its place and
    /// stops the pass, so async waiters are served in FIFO order. Returns whether <paramref name="self"/> (a waiter
    /// re-testing right after it queued) took its permits; it is unlinked but not granted, and takes them itself.
    /// </summary>
    private bool WakeWaitersLocked(AsyncWaitNode? self)
    {
        bool selfTook = false;
        int available = Volatile.Read(ref _count);
        var node = _queue.Head;
        while (node is not null && available > 0)
        {
            var next = node.Next;
            if (node is AsyncWaitNode asyncNode)
            {
                if (asyncNode.Request > available || !TryTake(asyncNode.Request))
                {
                    break;
                }

                available -= asyncNode.Request;
                _queue.Remove(asyncNode);
                _asyncQueued--;
                if (ReferenceEquals(asyncNode, self))
                {
                    selfTook = true;
                }
                else
                {
                    GrantAsyncLocked(asyncNode);
                }
            }
            else if (node.Request <= available)
            {
                available -= node.Request;
                _queue.Remove(node);
                node.Signal(WaitStatus.Woken);
            }

            node = next;
        }

        return selfTook;
    }

    /// <summary>The semaphore's side of the kernel's wait: wake-and-retry for <c>count</c> permits.</summary>
    private ref struct Protocol : IWaitProtocol
    {
        private readonly CountingSemaphore _semaphore;
        private readonly int _count;

        // What the wait saw when it last failed (a try-once's attempt, or leaving the queue), for the timeout message:
        // the count read later, after a release, would say permits were free for a wait that timed out.
        private SemaphoreGaveUp _gaveUp;

        public Protocol(CountingSemaphore semaphore, int count)
        {
            _semaphore = semaphore;
            _count = count;
        }

        public readonly int OwnerId => 0;

        public readonly int GaveUpState => _gaveUp.Pack();

        public readonly int Permits => _count;

        // A thread not yet queued takes nothing while an async waiter is queued: it would take the permits ahead of it.
        public bool TryAcquire()
        {
            if (Volatile.Read(ref _semaphore._asyncQueued) != 0)
            {
                _gaveUp = new SemaphoreGaveUp(Volatile.Read(ref _semaphore._count), HeldBack: true);
                return false;
            }

            if (_semaphore.TryTake(_count, out int free))
            {
                return true;
            }

            _gaveUp = new SemaphoreGaveUp(free, HeldBack: false);
            return false;
        }

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

        public void Undo() => _semaphore.GiveBackTaken(_count);

        public bool TryAcquireOrQueue(WaitNode node)
        {
            ref var queue = ref _semaphore._queue;

            // A woken thread was ahead of every async waiter still queued (a wake pass stops at the first that does not
            // fit); a fresh one, or one still queued, is behind any that is queued now.
            bool mayTake = node.Status == WaitStatus.Woken || _semaphore._asyncQueued == 0;
            if (!node.IsQueued)
            {
                node.Request = _count;

                // A woken waiter that lost its retry keeps its place at the front.
                if (node.Status == WaitStatus.Woken)
                {
                    queue.EnqueueFirst(node);
                }
                else
                {
                    queue.EnqueueLast(node);
                }
            }

            if (mayTake && _semaphore.TryTake(_count))
            {
                queue.Remove(node);

                // Permits may remain for the waiters behind us (a release of several woke only those it could serve).
                if (queue.Count != 0 && Volatile.Read(ref _semaphore._count) != 0)
                {
                    _semaphore.WakeWaitersLocked();
                }

                return true;
            }

            return false;
        }

        public void Abandon(WaitNode node)
        {
            // Under the gate, as the wait gives up: what it saw. Permits here now came back as it gave up, unless async
            // waiters queued ahead keep them (a thread still queued takes none while one is).
            _gaveUp = new SemaphoreGaveUp(
                Volatile.Read(ref _semaphore._count), HeldBack: node.Status != WaitStatus.Woken && _semaphore._asyncQueued != 0);
            if (node.IsQueued)
            {
                _semaphore._queue.Remove(node);
            }
            else if (node.Status == WaitStatus.Woken)
            {
                // Woken but leaving (an exception while parked): the permits it was woken for go to the next.
                _semaphore.WakeWaitersLocked();
            }
        }

        [DoesNotReturn]
        public readonly void ThrowTimeout(TimeSpan waited, int ownerThreadId, string? ownerThreadName) =>
            ThrowHelper.ThrowSemaphoreTimeout(_semaphore, _count, _gaveUp, _semaphore._maxCount, waited);
    }

    /// <summary>
    /// Permits taken from a <see cref="CountingSemaphore"/>; disposing it gives them back. Allocation-free;
    /// disposing twice is harmless.
    /// </summary>
    public ref struct Scope
    {
        private CountingSemaphore? _semaphore;
        private readonly int _count;

        internal Scope(CountingSemaphore semaphore, int count)
        {
            _semaphore = semaphore;
            _count = count;
        }

        /// <summary>Whether this scope holds permits (false for the scope of a failed <c>TryAcquire</c>).</summary>
        public readonly bool IsAcquired => _semaphore is not null;

        /// <summary>How many permits this scope holds: 0 after disposal or for a failed <c>TryAcquire</c>.</summary>
        public readonly int Count => _semaphore is null ? 0 : _count;

        /// <summary>Gives the permits back, once.</summary>
        /// <exception cref="SemaphoreFullException">More permits were released elsewhere than were acquired.</exception>
        public void Dispose()
        {
            var semaphore = _semaphore;
            if (semaphore is not null)
            {
                _semaphore = null;
                semaphore.Release(_count);
            }
        }
    }
}
