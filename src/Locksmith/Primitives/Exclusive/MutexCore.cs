using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The owned-mutex engine behind <see cref="ExclusiveLock"/> and <see cref="ReentrantLock"/>: the owner's thread id
/// as the lock word, and the <see cref="WaitKernel"/>'s queue for the slow path.
/// </summary>
/// <remarks>
/// <para>The owner's id is the state: taking the lock and recording its owner is one CAS, and the release's CAS
/// from the caller's id back to 0 is also its ownership check. A waiter counts itself in the queue before
/// re-testing the owner and a releaser reads the queue's count after its CAS — both full fences — so one of them
/// always sees the other and no wake-up is lost.</para>
/// <para>The lock is unfair: a thread arriving while it is free may take it ahead of a sleeping waiter, which
/// keeps the hand-over cheap (no convoy). At most one woken waiter is in flight: while one is on its way to retry,
/// releases wake nobody else, so a busy lock does not wake a thundering herd that would only queue again.</para>
/// </remarks>
internal struct MutexCore
{
    private int _owner;

    // 1 while a woken waiter has not yet retried: further releases need not wake another.
    private int _wakePending;

    // Threads spinning for the lock right now: while one spins, a release leaves the sleepers asleep.
    private int _spinners;
    private WaitQueue _queue;

    /// <summary>The owner's managed thread id, or 0 when free (a snapshot).</summary>
    public readonly int Owner => Volatile.Read(ref Unsafe.AsRef(in _owner));

    /// <summary>Threads queued to wait (a snapshot).</summary>
    public int WaiterCount => _queue.Count;

    /// <summary>The queue's gate, for tests that hold it from another thread.</summary>
    public Lock QueueGate => _queue.Gate;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnterFast(int threadId) => Interlocked.CompareExchange(ref _owner, threadId, 0) == 0;

    /// <summary>Frees the lock if <paramref name="threadId"/> owns it; false (and nothing changed) otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryExit(int threadId)
    {
        if (Interlocked.CompareExchange(ref _owner, 0, threadId) != threadId)
        {
            return false;
        }

        if (_queue.Count != 0)
        {
            WakeOneWaiter();
        }

        return true;
    }

    /// <summary>The slow path after a failed fast CAS: the kernel's spin, then a queued wait.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EnterContended(LockPrimitive lockPrimitive, int threadId, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        var protocol = new Protocol(ref this, lockPrimitive, threadId);
        return WaitKernel.Acquire(
            ref protocol, ref _queue, lockPrimitive, LockMode.Exclusive, LockModeTags.Exclusive,
            timeoutMs, cancellationToken, throwOnTimeout);
    }

    // Test, then test-and-set: spinning on a plain read keeps the cache line shared until the lock looks free.
    private bool TryTakeFree(int threadId) =>
        Volatile.Read(ref _owner) == 0 && Interlocked.CompareExchange(ref _owner, threadId, 0) == 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeOneWaiter()
    {
        // A woken waiter is on its way, a spinner will take the lock, or it is taken again (its holder's release
        // will wake): nothing to do. A spinner that gives up queues and re-tests the owner, so it cannot be lost.
        if (Volatile.Read(ref _wakePending) != 0 || Volatile.Read(ref _spinners) != 0 || Volatile.Read(ref _owner) != 0)
        {
            return;
        }

        var gate = _queue.GateOrNull;
        if (gate is null)
        {
            return;
        }

        using (GateEntry.Enter(gate))
        {
            if (_wakePending == 0)
            {
                WakeFirstLocked();
            }
        }
    }

    /// <summary>Under the gate: wakes the longest-waiting thread, if any, and marks the wake as in flight.</summary>
    private void WakeFirstLocked()
    {
        if (_queue.WakeFirst(WaitStatus.Woken))
        {
            _wakePending = 1;
        }
    }

    /// <summary>The mutex's side of the kernel's wait: wake-and-retry, a woken waiter keeping its place at the front.</summary>
    private ref struct Protocol : IWaitProtocol
    {
        private readonly ref MutexCore _core;
        private readonly LockPrimitive _lock;
        private readonly int _threadId;

        public Protocol(ref MutexCore core, LockPrimitive lockPrimitive, int threadId)
        {
            _core = ref core;
            _lock = lockPrimitive;
            _threadId = threadId;
        }

        public readonly int OwnerId => _core.Owner;

        public readonly int GaveUpState => 0;

        public readonly int Permits => 0;

        public readonly bool TryAcquire() => _core.TryTakeFree(_threadId);

        public readonly void BeginSpin() => Interlocked.Increment(ref _core._spinners);

        public readonly void EndSpin() => Interlocked.Decrement(ref _core._spinners);

        public readonly bool SpinsAfterWake => true;

        public readonly void TookAfterWake() => _core._wakePending = 0;

        public readonly void GiveUp()
        {
        }

        public readonly void Undo()
        {
            _core.TryExit(_threadId);
            if (_lock.Controller is not null)
            {
                _lock.ScheduleRelease();
            }
        }

        public readonly bool TryAcquireOrQueue(WaitNode node)
        {
            if (node.Status == WaitStatus.Woken)
            {
                // This wake is used up; the interlocked enqueue below publishes the flag before the owner is re-tested.
                _core._wakePending = 0;
                _core._queue.EnqueueFirst(node);
            }
            else if (!node.IsQueued)
            {
                _core._queue.EnqueueLast(node);
            }

            if (_core.TryTakeFree(_threadId))
            {
                _core._queue.Remove(node);
                return true;
            }

            return false;
        }

        public readonly void Abandon(WaitNode node)
        {
            if (node.IsQueued)
            {
                _core._queue.Remove(node);
            }
            else if (node.Status == WaitStatus.Woken)
            {
                // Woken but leaving (an exception while parked): the wake is ours to pass on.
                _core._wakePending = 0;
                _core.WakeFirstLocked();
            }
        }

        [DoesNotReturn]
        public readonly void ThrowTimeout(TimeSpan waited, int ownerThreadId, string? ownerThreadName) =>
            ThrowHelper.ThrowTimeout(_lock, LockMode.Exclusive, ownerThreadId, ownerThreadName, waited);
    }
}
