using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

// The slow path's shared machinery: the lazily created gate, the FIFO wait queue, and the hand-over when a
// writer leaves. Everything here runs under the gate, except WakeWaiters, which takes it.
public sealed partial class ReadWriteLock
{
    private object? _gate;

    // Guarded by _gate.
    private ReadWriteWaitNode? _head;
    private ReadWriteWaitNode? _tail;
    private int _drainWaiters;

    // Written under _gate, read without it by the snapshots below.
    private int _waiterCount;
    private int _queueLength;

    /// <summary>Threads blocked in this lock's slow path, sleeping or about to (a snapshot, for tests and diagnostics).</summary>
    internal int WaitingThreadCount => Volatile.Read(ref _waiterCount);

    /// <summary>Waiters in the FIFO queue (a snapshot). A writer waiting only for readers to drain is not queued.</summary>
    internal int QueueLength => Volatile.Read(ref _queueLength);

    private object EnsureGate()
    {
        Interlocked.CompareExchange(ref _gate, new object(), null);
        return _gate!;
    }

    /// <summary>
    /// Queues <paramref name="node"/> if the caller is still blocked (a bit of <paramref name="blockMask"/> set);
    /// returns false, queueing nothing, if it is not. Setting the queued bit in the same compare-and-swap that sees
    /// the block is what makes the blocking writer's release take the slow path and hand the lock on.
    /// </summary>
    private bool TryEnqueueLocked(ReadWriteWaitNode node, int blockMask)
    {
        int state = Volatile.Read(ref _state);
        while (true)
        {
            if ((state & blockMask) == 0)
            {
                return false;
            }

            int seen = Interlocked.CompareExchange(ref _state, state | QueuedBit, state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }

        node.Previous = _tail;
        node.Next = null;
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
        Volatile.Write(ref _queueLength, _queueLength + 1);
        return true;
    }

    private void UnlinkLocked(ReadWriteWaitNode node)
    {
        Debug.Assert(node.IsQueued, "Only a queued node is unlinked.");
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
        Volatile.Write(ref _queueLength, _queueLength - 1);
    }

    /// <summary>Takes a failed waiter out: dequeues it, or passes on a hand-over that raced with its failure.</summary>
    private void AbandonWaitLocked(ReadWriteWaitNode node)
    {
        if (node.IsQueued)
        {
            UnlinkLocked(node);
            if (_head is null)
            {
                Interlocked.And(ref _state, ~QueuedBit);
            }

            return;
        }

        if (node.Granted)
        {
            node.Granted = false;
            if (node.IsWriter)
            {
                OnWriterExitLocked();
            }
            else
            {
                LeaveSlot(node.Slot);
            }
        }
    }

    /// <summary>
    /// Hands the lock on when the thread owning the writer bit gives it up: a writer releasing, a waiting writer
    /// timing out or cancelled, a reader-preferred writer backing off. Who goes next is the policy:
    /// </summary>
    /// <remarks>
    /// <para>Reader-preferred: every queued reader (only readers queue). Writers wait as drain waiters and retry.</para>
    /// <para>Writer-preferred: the first queued writer, if any, so readers cannot overtake writers; else every reader.</para>
    /// <para>Fair: the readers at the head of the queue, together, then the writer behind them (if any), which now
    /// owns the writer bit and waits only for those readers, holding back everyone queued after it.</para>
    /// <para>Readers are counted in their slots here, before the writer bit is cleared, so a writer claiming the bit
    /// afterwards sees them. Handing the bit to a writer keeps it set throughout: nobody can slip in between.</para>
    /// </remarks>
    private void OnWriterExitLocked()
    {
        Debug.Assert((Volatile.Read(ref _state) & WriterBit) != 0, "Only the owner of the writer bit hands the lock on.");
        ReadWriteWaitNode? nextWriter = null;
        if (_policy == ReadWritePolicy.Fair)
        {
            while (_head is { IsWriter: false } reader)
            {
                AdmitReaderLocked(reader);
            }

            nextWriter = _head;
        }
        else if (_policy == ReadWritePolicy.WriterPreferred)
        {
            nextWriter = _head;
            while (nextWriter is { IsWriter: false })
            {
                nextWriter = nextWriter.Next;
            }

            if (nextWriter is null)
            {
                while (_head is { } reader)
                {
                    AdmitReaderLocked(reader);
                }
            }
        }
        else
        {
            while (_head is { } reader)
            {
                AdmitReaderLocked(reader);
            }
        }

        if (nextWriter is not null)
        {
            UnlinkLocked(nextWriter);
            nextWriter.Granted = true;
        }

        int state = Volatile.Read(ref _state);
        while (true)
        {
            int next = state & ~(WriterBit | QueuedBit);
            next |= (nextWriter is not null ? WriterBit : 0) | (_head is not null ? QueuedBit : 0);
            int seen = Interlocked.CompareExchange(ref _state, next, state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }

        if (_waiterCount != 0)
        {
            Monitor.PulseAll(_gate!);
        }
    }

    private void AdmitReaderLocked(ReadWriteWaitNode reader)
    {
        UnlinkLocked(reader);
        Interlocked.Increment(ref _slots[reader.Slot].Count);
        reader.Granted = true;
    }

    /// <summary>Registers a writer sleeping until the readers drain, so the reader that empties a slot wakes it.</summary>
    private void BeginDrainLocked()
    {
        if (_drainWaiters++ == 0)
        {
            Interlocked.Or(ref _state, DrainWaiterBit);
        }
    }

    private void EndDrainLocked()
    {
        if (--_drainWaiters == 0)
        {
            Interlocked.And(ref _state, ~DrainWaiterBit);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeWaiters()
    {
        object? gate = Volatile.Read(ref _gate);
        Debug.Assert(gate is not null, "A drain waiter creates the gate before it sets its bit.");
        lock (gate)
        {
            Monitor.PulseAll(gate);
        }
    }
}
