using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The FIFO queue of waiters every primitive's slow path shares, with the gate that guards it. A struct kept in a
/// field of its primitive (never copied); the gate is created on first contention, so an uncontended primitive
/// never allocates it.
/// </summary>
/// <remarks>
/// <see cref="Count"/> is changed with interlocked operations (full fences) and may be read without the gate: a
/// primitive's release reads it after its own compare-and-swap, and a waiter counts itself before re-testing the
/// state, so one of the two always sees the other and no wake-up is lost.
/// </remarks>
internal struct WaitQueue
{
    private Lock? _gate;
    private WaitNode? _head;
    private WaitNode? _tail;
    private int _count;

    /// <summary>The gate, created on first use.</summary>
    public Lock Gate => _gate ?? EnsureGate();

    /// <summary>The gate if a waiter ever created it, else null.</summary>
    public Lock? GateOrNull => Volatile.Read(ref _gate);

    /// <summary>Queued waiters (a snapshot when read without the gate).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The longest-waiting node; under the gate.</summary>
    public readonly WaitNode? Head => _head;

    /// <summary>
    /// Adds the async flows queued here, with their modes, for the deadlock detector: under the gate, if a wait ever
    /// created it.
    /// </summary>
    public void AddAsyncWaiters(List<(LockOwner Flow, LockMode Mode)> waiters)
    {
        if (GateOrNull is not { } gate)
        {
            return;
        }

        using (GateEntry.Enter(gate))
        {
            AddAsyncWaiters(_head, waiters);
        }
    }

    /// <summary>Adds the async flows of the queue from <paramref name="head"/> on; under its gate.</summary>
    public static void AddAsyncWaiters(WaitNode? head, List<(LockOwner Flow, LockMode Mode)> waiters)
    {
        for (var node = head; node is not null; node = node.Next)
        {
            if (node is AsyncWaitNode { Owner: { } flow } asyncNode)
            {
                waiters.Add((flow, asyncNode.Mode));
            }
        }
    }

    /// <summary>Appends <paramref name="node"/>, resetting its status to waiting; under the gate.</summary>
    public void EnqueueLast(WaitNode node)
    {
        Debug.Assert(!node.IsQueued, "A node is in one queue at a time.");
        node.Status = WaitStatus.Waiting;
        node.Next = null;
        node.Previous = _tail;
        if (_tail is null)
        {
            _head = node;
        }
        else
        {
            _tail.Next = node;
        }

        _tail = node;
        node.IsQueued = true;
        Interlocked.Increment(ref _count);
    }

    /// <summary>Puts a woken waiter that lost its retry back at the front, keeping its place; under the gate.</summary>
    public void EnqueueFirst(WaitNode node)
    {
        Debug.Assert(!node.IsQueued, "A node is in one queue at a time.");
        node.Status = WaitStatus.Waiting;
        node.Previous = null;
        node.Next = _head;
        if (_head is null)
        {
            _tail = node;
        }
        else
        {
            _head.Previous = node;
        }

        _head = node;
        node.IsQueued = true;
        Interlocked.Increment(ref _count);
    }

    /// <summary>Unlinks a queued node; under the gate.</summary>
    public void Remove(WaitNode node)
    {
        Debug.Assert(node.IsQueued, "Only a queued node is removed.");
        if (node.Previous is null)
        {
            _head = node.Next;
        }
        else
        {
            node.Previous.Next = node.Next;
        }

        if (node.Next is null)
        {
            _tail = node.Previous;
        }
        else
        {
            node.Next.Previous = node.Previous;
        }

        node.Next = null;
        node.Previous = null;
        node.IsQueued = false;
        Interlocked.Decrement(ref _count);
    }

    /// <summary>Unlinks and returns the head, or null; under the gate.</summary>
    public WaitNode? Dequeue()
    {
        var head = _head;
        if (head is not null)
        {
            Remove(head);
        }

        return head;
    }

    /// <summary>Dequeues and signals the head, if any; under the gate. Returns whether a waiter was woken.</summary>
    public bool WakeFirst(WaitStatus status)
    {
        var head = Dequeue();
        head?.Signal(status);
        return head is not null;
    }

    /// <summary>Dequeues and signals every waiter; under the gate.</summary>
    public void WakeAll(WaitStatus status)
    {
        while (Dequeue() is { } node)
        {
            node.Signal(status);
        }
    }

    private Lock EnsureGate()
    {
        Interlocked.CompareExchange(ref _gate, new Lock(), null);
        return _gate!;
    }
}
