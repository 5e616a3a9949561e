using System;
using System.Collections.Generic;
using System.Threading;

namespace Locksmith.Worker;

/// <summary>
/// The seed's bounded producer-consumer queue: one <see cref="ExclusiveLock"/> guards the items, a "not empty"
/// condition wakes consumers and a "not full" condition wakes producers. The generator writes <see cref="Put"/>,
/// <see cref="Take"/> and <see cref="Complete"/> around the <c>…Core</c> bodies, so each body runs holding the lock,
/// which is what a condition variable's wait needs.
/// </summary>
public sealed partial class BoundedQueue
{
    [LockOrder(WorkerRegistration.QueueLevel)]
    private readonly ExclusiveLock _lock;

    private readonly ConditionVariable _notEmpty;
    private readonly ConditionVariable _notFull;

    [Guarded(Lock = nameof(_lock))]
    private readonly Queue<long> _items;

    [Guarded(Lock = nameof(_lock))]
    private bool _completed;

    [Guarded(Lock = nameof(_lock))]
    private int _maxDepth;

    [Guarded(Lock = nameof(_lock))]
    private long _producerWaits;

    [Guarded(Lock = nameof(_lock))]
    private long _consumerWaits;

    // Cached once: a consumer's predicate, read by the condition holding the lock.
    private readonly Func<bool> _itemOrCompleted;

    /// <summary>Creates an empty queue guarded by <paramref name="queueLock"/>.</summary>
    /// <param name="queueLock">The lock the container registered for the queue.</param>
    /// <param name="capacity">How many items it holds before <see cref="Put"/> waits.</param>
    public BoundedQueue(ExclusiveLock queueLock, int capacity)
    {
        ArgumentNullException.ThrowIfNull(queueLock);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _lock = queueLock;
        Capacity = capacity;
        _items = new Queue<long>(capacity);
        _notEmpty = new ConditionVariable(queueLock, "work-queue.not-empty");
        _notFull = new ConditionVariable(queueLock, "work-queue.not-full");
        _itemOrCompleted = () => _items.Count > 0 || _completed;
    }

    /// <summary>How many items the queue holds before producers wait.</summary>
    public int Capacity { get; }

    /// <summary>Adds <paramref name="item"/>, waiting while the queue is full.</summary>
    [Guarded(Lock = nameof(_lock))]
    private void PutCore(long item, CancellationToken cancellationToken)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The queue was completed: no producer may add to it.");
        }

        // A while, not an if: another producer may have refilled the slot this one was woken for.
        while (_items.Count == Capacity)
        {
            _producerWaits++;
            _notFull.Wait(cancellationToken);
        }

        _items.Enqueue(item);
        _maxDepth = Math.Max(_maxDepth, _items.Count);
        _notEmpty.Notify();
    }

    /// <summary>Takes the oldest item, waiting while the queue is empty; false once it is empty and completed.</summary>
    [Guarded(Lock = nameof(_lock))]
    private bool TakeCore(out long item, CancellationToken cancellationToken)
    {
        if (!_itemOrCompleted())
        {
            _consumerWaits++;
            _notEmpty.WaitUntil(_itemOrCompleted, Timeout.InfiniteTimeSpan, cancellationToken);
        }

        if (_items.Count == 0)
        {
            item = 0;
            return false;
        }

        item = _items.Dequeue();
        _notFull.Notify();
        return true;
    }

    /// <summary>Says no more items will come: consumers drain what is left, then <see cref="Take"/> returns false.</summary>
    [Guarded(Lock = nameof(_lock))]
    private void CompleteCore()
    {
        _completed = true;
        _notEmpty.NotifyAll();
    }

    /// <summary>The deepest the queue got, and how often producers and consumers had to wait.</summary>
    [Guarded(Lock = nameof(_lock), WrapperName = "Statistics")]
    private (int MaxDepth, long ProducerWaits, long ConsumerWaits) ReadStatistics() => (_maxDepth, _producerWaits, _consumerWaits);
}
