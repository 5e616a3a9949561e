namespace Locksmith;

/// <summary>
/// A controlled scheduler, as the primitives see it: it is told of every operation (a scheduling point, where it may run
/// another flow first) and it stands in for every blocking wait, so a flow never parks its thread inside the kernel.
/// </summary>
/// <remarks>
/// Implemented by Locksmith.Testing. Every member may be called from any thread; calls from a thread the controller
/// does not run (<see cref="ControlsCurrentThread"/> false) must return at once and change nothing but wake-ups.
/// </remarks>
internal interface ISchedulingController
{
    /// <summary>Whether the calling thread is one of the controller's flows (only those are scheduled).</summary>
    bool ControlsCurrentThread { get; }

    /// <summary>A scheduling point: the current flow reports <paramref name="operation"/> and may be paused.</summary>
    void Point(SchedulingOperation operation, object resource, string name);

    /// <summary>
    /// The current flow is about to wait for <paramref name="resource"/>; a <see cref="Signal"/> from now on counts,
    /// even before <see cref="Block"/>. <paramref name="canTimeOut"/>: the scheduler may end the wait as a timeout.
    /// </summary>
    void Enlist(SchedulingOperation operation, object resource, string name, bool canTimeOut);

    /// <summary>Gives up the current flow's turn until its enlisted wait is signalled (true) or timed out (false).</summary>
    bool Block();

    /// <summary>Makes the flows enlisted on <paramref name="resource"/> runnable again (all, or the longest waiting).</summary>
    void Signal(object resource, bool all);

    /// <summary>
    /// <paramref name="count"/> permits of <paramref name="semaphore"/> were taken: by the calling thread's acquisition
    /// (<paramref name="grantee"/> null), or handed to the queued async flow <paramref name="grantee"/> on the releasing thread.
    /// </summary>
    void PermitsTaken(CountingSemaphore semaphore, int count, LockOwner? grantee);

    /// <summary>
    /// The calling thread's acquisition of permits that <see cref="Point"/> announced is over: it took its permits
    /// (<see cref="PermitsTaken"/> came first), failed, threw, or queued an async waiter (a grant is told apart).
    /// </summary>
    void AcquireEnded(CountingSemaphore semaphore);

    /// <summary>
    /// <paramref name="count"/> permits of <paramref name="semaphore"/> were given back by the calling thread, and its
    /// compare-and-swap left <paramref name="freeAfter"/> free: the count it wrote, before any waiter (woken, or handed its
    /// permits on this thread) or any other thread took some. Read later, <see cref="CountingSemaphore.CurrentCount"/> may
    /// be lower already, and never shows the permits two releases at the same instant had free together.
    /// </summary>
    void PermitsReturned(CountingSemaphore semaphore, int count, int freeAfter);

    /// <summary>
    /// A thread the controller does not run (a task's body) is about to park on <paramref name="resource"/> (a lock, a
    /// <see cref="ConditionVariable"/> or a <see cref="PhaseBarrier"/>), queued and holding what it holds: the scheduler may
    /// be waiting for that thread's release or acquisition, which this wait settles. <paramref name="canEnd"/>: the wait
    /// has a timeout or a cancellable token, so it may end in real time. Called with no lock of the primitive held, on
    /// every park of such a thread (never on a fast path). <paramref name="node"/>: the thread's node, whose status leaves
    /// <see cref="WaitStatus.Waiting"/> once a release (a notification, the phase's end) wakes it or hands it the lock,
    /// before the thread itself has run again.
    /// </summary>
    void OutsideWaiterParks(object resource, bool canEnd, WaitNode node);

    /// <summary>
    /// An async flow the controller does not run (a task's body, with a flow record of its own) queued
    /// <paramref name="node"/> on <paramref name="resource"/>, a lock of the run, holding what it holds: the scheduler may be
    /// waiting for that flow's release, which this wait settles. <paramref name="canEnd"/>: the wait has a timeout or a
    /// cancellable token, so it may end in real time. Called after the node is queued and armed, before its task is
    /// returned (so before the wait can be awaited and its node recycled), with no lock of the primitive held, on every
    /// queuing of such a wait (never on a fast path). The node's status leaves <see cref="WaitStatus.Waiting"/>, and it
    /// leaves the queue, once a release hands it the lock; its task changes once the wait was awaited and the node recycled.
    /// </summary>
    void OutsideAsyncWaiterQueued(LockPrimitive resource, bool canEnd, AsyncWaitNode node);
}
