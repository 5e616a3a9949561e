using System;

namespace Locksmith;

/// <summary>
/// What one primitive tells the <see cref="WaitKernel"/> about one contended acquisition: how to try without
/// waiting, how to try-or-queue under the gate, how to leave the queue after a failed wait, and what to say when
/// it times out. Implemented by small <c>ref struct</c>s that point into the primitive, so nothing is allocated.
/// </summary>
internal interface IWaitProtocol
{
    /// <summary>One lock-free attempt, for the spin phase.</summary>
    bool TryAcquire();

    /// <summary>A waiter starts spinning; a releaser that knows of a spinner need not wake a sleeper.</summary>
    void BeginSpin();

    /// <summary>The spin that <see cref="BeginSpin"/> announced is over.</summary>
    void EndSpin();

    /// <summary>
    /// Whether a woken waiter spins again before it queues again (wake-and-retry primitives, where a barging
    /// thread often retakes the resource before the woken one runs).
    /// </summary>
    bool SpinsAfterWake { get; }

    /// <summary>Under the gate: a woken waiter took the resource in its spin after the wake; its wake is used up.</summary>
    void TookAfterWake();

    /// <summary>
    /// The acquisition fails before it queued (a cancelled token, a zero timeout): give back anything a fast path
    /// took on the way (a read-write lock's writer claim).
    /// </summary>
    void GiveUp();

    /// <summary>
    /// Not under the gate: give back the resource the wait took, because the acquisition fails after all (a
    /// <c>LongWaitOccurred</c> handler threw). Only the kernel's take is undone: nothing else was recorded yet.
    /// </summary>
    void Undo();

    /// <summary>
    /// Under the gate: take the resource (true, with <paramref name="node"/> no longer queued), or make sure the node
    /// is queued with status <see cref="WaitStatus.Waiting"/> (false). The node arrives fresh, or back from a wake.
    /// </summary>
    bool TryAcquireOrQueue(WaitNode node);

    /// <summary>
    /// Under the gate, after the wait failed (timeout, cancellation, or an exception while parked): leave the queue
    /// if the node is still in it, or pass on a wake or a hand-off it received and will not use.
    /// </summary>
    void Abandon(WaitNode node);

    /// <summary>The owner to name when the wait fails (0 when there is none, as for a semaphore).</summary>
    int OwnerId { get; }

    /// <summary>
    /// After a failed attempt or <see cref="Abandon"/>: what a semaphore's wait saw as it gave up (<see cref="SemaphoreGaveUp.Pack"/>),
    /// recorded with the timeout's report for a lock set that throws after its member's wait; 0 for other locks.
    /// </summary>
    int GaveUpState { get; }

    /// <summary>The permits a semaphore's wait asks for, so its cancellation counts them as its timeout does; 0 for other locks.</summary>
    int Permits { get; }

    /// <summary>
    /// Throws the primitive's timeout exception after a failed throwing acquisition. <paramref name="ownerThreadId"/> is
    /// the <see cref="OwnerId"/> the kernel read once for the timeout's event: the exception names the same holder, not
    /// one read again after the holder may have left.
    /// </summary>
    /// <param name="waited">How long the wait lasted.</param>
    /// <param name="ownerThreadId">The holder the event named.</param>
    /// <param name="ownerThreadName">The holder's name as the event gave it (read once: its thread may end after).</param>
    void ThrowTimeout(TimeSpan waited, int ownerThreadId, string? ownerThreadName);
}
