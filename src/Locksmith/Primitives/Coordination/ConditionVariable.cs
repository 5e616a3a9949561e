using System;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A condition variable bound to an <see cref="ExclusiveLock"/>: a thread holding the lock waits for a change of
/// the state the lock guards, and another thread announces the change with <see cref="Notify"/> or <see cref="NotifyAll"/>.
/// </summary>
/// <remarks>
/// <para>Call the <c>Wait</c> methods holding <see cref="Lock"/>. A wait releases the lock, sleeps until it is
/// notified, times out or is cancelled, and takes the lock again before it returns or throws, so the caller always
/// leaves holding it. Check the state again after every wake-up (another thread may have got there first), or let
/// <see cref="WaitUntil(Func{bool})"/> run that loop.</para>
/// <para>A waiter registers with the condition before it releases the lock, so a notification sent after the
/// waiter released the lock always reaches it. Waiters are woken in arrival order, and a notification is never
/// taken by a thread that started waiting after it was sent.</para>
/// <para><see cref="LocksmithPolicy.DefaultTimeout"/> does not apply: it bounds lock acquisitions, not how long a
/// thread waits for a notification. Taking the lock back after the wait waits as long as it takes.</para>
/// </remarks>
public sealed class ConditionVariable
{
    private static readonly Action<object?> s_nudge = static node => ((WaitNode)node!).Nudge();

    private static long s_nextId;

    private readonly ExclusiveLock _lock;

    // The kernel's queue of waiters; its gate is never held while taking the user's lock.
    private WaitQueue _queue;

    /// <summary>Creates a condition variable bound to <paramref name="lockPrimitive"/>.</summary>
    /// <param name="lockPrimitive">The lock that guards the state this condition is about.</param>
    /// <param name="name">The name messages use; a generated one if null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="lockPrimitive"/> is null.</exception>
    public ConditionVariable(ExclusiveLock lockPrimitive, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(lockPrimitive);
        _lock = lockPrimitive;
        Name = string.IsNullOrWhiteSpace(name) ? $"{nameof(ConditionVariable)}#{Interlocked.Increment(ref s_nextId)}" : name;
    }

    /// <summary>The condition's name, used in exception messages.</summary>
    public string Name { get; }

    /// <summary>The lock a waiter must hold, and that a wait releases and takes back.</summary>
    public ExclusiveLock Lock => _lock;

    /// <summary>Threads queued to be notified (a snapshot), for tests.</summary>
    internal int QueuedWaiterCount => _queue.Count;

    /// <summary>Releases <see cref="Lock"/>, sleeps until notified, and takes the lock back.</summary>
    /// <remarks>Return does not mean the awaited state holds: check it again.</remarks>
    /// <exception cref="SynchronizationLockException">The current thread does not hold <see cref="Lock"/>.</exception>
    public void Wait() => WaitCore(Timeout.Infinite, default);

    /// <summary>Releases <see cref="Lock"/>, sleeps until notified or cancelled, and takes the lock back.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <remarks>Return does not mean the awaited state holds: check it again.</remarks>
    /// <exception cref="SynchronizationLockException">The current thread does not hold <see cref="Lock"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is held again when this is thrown.</exception>
    public void Wait(CancellationToken cancellationToken) => WaitCore(Timeout.Infinite, cancellationToken);

    /// <summary>Releases <see cref="Lock"/>, sleeps until notified, timed out or cancelled, and takes the lock back.</summary>
    /// <param name="timeout">How long to sleep; <see cref="Timeout.InfiniteTimeSpan"/> sleeps until notified.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True if notified; false if the timeout elapsed first. Either way the lock is held again.</returns>
    /// <exception cref="SynchronizationLockException">The current thread does not hold <see cref="Lock"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is held again when this is thrown.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitCore(TimeoutMs(timeout), cancellationToken);

    /// <summary>Waits until <paramref name="predicate"/> is true, checking it (holding the lock) before and after every wake-up.</summary>
    /// <param name="predicate">The awaited state, read under <see cref="Lock"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="predicate"/> is null.</exception>
    /// <exception cref="SynchronizationLockException">The current thread does not hold <see cref="Lock"/>.</exception>
    public void WaitUntil(Func<bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        EnsureHeld();
        while (!predicate())
        {
            WaitCore(Timeout.Infinite, default);
        }
    }

    /// <summary>
    /// Waits until <paramref name="predicate"/> is true, checking it (holding the lock) before and after every wake-up,
    /// for at most <paramref name="timeout"/> in all.
    /// </summary>
    /// <param name="predicate">The awaited state, read under <see cref="Lock"/>.</param>
    /// <param name="timeout">The whole time to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until the predicate holds.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True once the predicate holds; false only if the timeout elapsed with it still false. The lock is held either way.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="predicate"/> is null.</exception>
    /// <exception cref="SynchronizationLockException">The current thread does not hold <see cref="Lock"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the lock is held again when this is thrown.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool WaitUntil(Func<bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        long deadline = TimeoutMath.DeadlineFrom(TimeoutMs(timeout));
        EnsureHeld();
        while (!predicate())
        {
            int remaining = TimeoutMath.Remaining(deadline);
            if (remaining == 0)
            {
                return false;
            }

            // A wait that timed out ends the whole wait: a controlled run times a wait out without real time passing,
            // so waiting again for what is left of the clock's deadline never ended there.
            if (!WaitCore(remaining, cancellationToken))
            {
                return predicate();
            }
        }

        return true;
    }

    /// <summary>Wakes the longest-waiting thread, if any. The caller need not hold <see cref="Lock"/>.</summary>
    /// <remarks>Change the state under the lock before notifying, or the woken thread may not see the change.</remarks>
    public void Notify()
    {
        if (_lock.Controller is { } controller)
        {
            controller.Signal(this, all: false);
            controller.Point(SchedulingOperation.Notify, this, Name);
        }

        // A waiter enqueues before it releases the lock, so a notifier that took the lock after it sees the entry.
        if (_queue.Count == 0)
        {
            return;
        }

        using (GateEntry.Enter(_queue.Gate))
        {
            _queue.WakeFirst(WaitStatus.Woken);
        }
    }

    /// <summary>Wakes every thread waiting right now. The caller need not hold <see cref="Lock"/>.</summary>
    /// <remarks>Change the state under the lock before notifying, or the woken threads may not see the change.</remarks>
    public void NotifyAll()
    {
        if (_lock.Controller is { } controller)
        {
            controller.Signal(this, all: true);
            controller.Point(SchedulingOperation.NotifyAll, this, Name);
        }

        if (_queue.Count == 0)
        {
            return;
        }

        using (GateEntry.Enter(_queue.Gate))
        {
            _queue.WakeAll(WaitStatus.Woken);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Validates a timeout given to this condition; one out of range names the condition and its lock.</summary>
    private int TimeoutMs(TimeSpan timeout)
    {
        if (!TimeoutMath.InRange(timeout, out int ms))
        {
            ThrowHelper.ThrowTimeoutOutOfRangeFor(ThrowHelper.DescribeCondition(Name, _lock), timeout);
        }

        return ms;
    }

    /// <summary>
    /// One wait: enqueue, release the lock, sleep, leave the queue, take the lock back. Returns whether it was notified.
    /// </summary>
    private bool WaitCore(int timeoutMs, CancellationToken cancellationToken)
    {
        EnsureHeld();
        if (cancellationToken.IsCancellationRequested)
        {
            ThrowHelper.ThrowConditionWaitCanceled(Name, _lock, beforeWaiting: true, cancellationToken);
        }

        if (timeoutMs == 0)
        {
            return false;
        }

        if (_lock.IsControlledHere)
        {
            return WaitControlled(timeoutMs, cancellationToken);
        }

        var node = ThreadWaitNode.Rent();
        node.Reset(0, 0);
        using (GateEntry.Enter(_queue.Gate))
        {
            _queue.EnqueueLast(node);
        }

        _lock.Exit();
        bool signalled = false;
        bool settled = false;
        try
        {
            signalled = Sleep(node, timeoutMs, cancellationToken, _lock.Controller, this) || Withdraw(node);
            settled = true;
        }
        finally
        {
            // Interrupted mid-sleep: leave the queue, and hand on a notification we took but cannot act on.
            if (!settled && Withdraw(node))
            {
                Notify();
            }

            // The node is out of the queue: taking the lock back may wait on it again.
            ThreadWaitNode.Return(node);
            RetakeLock(handOnNotification: signalled);
        }

        if (!signalled && cancellationToken.IsCancellationRequested)
        {
            ThrowHelper.ThrowConditionWaitCanceled(Name, _lock, beforeWaiting: false, cancellationToken);
        }

        return signalled;
    }

    /// <summary>
    /// A controlled flow's wait: it enlists before it releases the lock (the release is a scheduling point, and a notify
    /// from the flow that runs next must find it), gives up its turn until notified, and takes the lock back.
    /// </summary>
    private bool WaitControlled(int timeoutMs, CancellationToken cancellationToken)
    {
        var controller = _lock.Controller!;
        controller.Enlist(SchedulingOperation.Wait, this, Name, canTimeOut: timeoutMs != Timeout.Infinite);
        _lock.Exit();
        bool signalled = false;
        try
        {
            // A cancellation wakes every waiter, as a broadcast would (spurious wake-ups, which waits allow).
            signalled = SchedulingHooks.BlockWakingOnCancel(controller, this, cancellationToken);
        }
        finally
        {
            RetakeLock(handOnNotification: false);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            if (signalled)
            {
                // Maybe notified as well: hand the notification on (at worst another spurious wake-up), as a cancelled
                // thread's wait does with one it took.
                controller.Signal(this, all: false);
            }

            ThrowHelper.ThrowConditionWaitCanceled(Name, _lock, beforeWaiting: false, cancellationToken);
        }

        return signalled;
    }

    /// <summary>
    /// Takes the lock back, whatever happens on the way: a wait returns or throws with the lock held. A long-wait handler
    /// that throws makes an acquisition give the lock back (see <see cref="WaitKernel"/>), so it is taken again, and the
    /// handler's exception goes on once it is held. So does an interrupt that ends a wait for the lock. A metrics listener
    /// that throws as the lock comes back leaves it held (<see cref="ExclusiveLock.Retake"/>): its exception goes on so.
    /// </summary>
    /// <param name="handOnNotification">Whether this wait was notified: if it throws after all, another waiter is
    /// notified in its place, as an interrupted sleep does, so the notification is not lost with the exception.</param>
    private void RetakeLock(bool handOnNotification)
    {
        Exception? handlerFailure = null;
        while (true)
        {
            try
            {
                // After a failure the retake records no contention or wait: a listener that threw there would throw
                // again on every retake for as long as the lock stayed contended.
                _lock.Retake(quiet: handlerFailure is not null);
                break;
            }
            catch (Exception exception) when (!_lock.IsHeldByCurrentThread)
            {
                // A controlled run that ended unwinds its flows, and every further attempt would fail the same way.
                if (_lock.IsControlledHere)
                {
                    throw;
                }

                handlerFailure ??= exception;
            }
            catch (Exception exception)
            {
                // A metrics listener threw as the lock came back, which Retake keeps: its exception goes on as a handler's.
                handlerFailure ??= exception;
                break;
            }
        }

        if (handlerFailure is not null)
        {
            if (handOnNotification)
            {
                Notify();
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(handlerFailure);
        }
    }

    private void EnsureHeld()
    {
        if (!_lock.IsHeldByCurrentThread)
        {
            ThrowHelper.ThrowNotHeldForWait(_lock, Name);
        }
    }

    /// <summary>
    /// Sleeps on the node until it is signalled (true), or the timeout or cancellation ends the wait (false).
    /// <paramref name="controller"/>: the lock's controlled scheduler, told of the park (this thread is outside its run).
    /// </summary>
    private static bool Sleep(ThreadWaitNode node, int timeoutMs, CancellationToken cancellationToken, ISchedulingController? controller, ConditionVariable condition)
    {
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        var registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(s_nudge, node) : default;
        try
        {
            if (controller is not null)
            {
                WaitKernel.TellOutsidePark(controller, condition, node, deadline, cancellationToken);
            }

            return node.Park(deadline, cancellationToken);
        }
        finally
        {
            // Outside the node's monitor: disposing waits for a running callback, which takes that monitor.
            registration.Dispose();
        }
    }

    /// <summary>Leaves the queue after a timeout or cancellation; true if a notifier signalled the node first.</summary>
    private bool Withdraw(WaitNode node)
    {
        using (GateEntry.Enter(_queue.Gate))
        {
            if (!node.IsQueued)
            {
                return true;
            }

            _queue.Remove(node);
            return false;
        }
    }
}
