using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

// The slow path's shared machinery on the wait kernel: the FIFO queue of readers and writers, the writers waiting for
// readers to drain, and the hand-over when a writer leaves. Everything here runs under the queue's gate, except
// WakeDrainWaiters and ReleaseWriterBitContended, which take it.
public sealed partial class ReadWriteLock
{
    // RequestKind of a queued node (its Request is a reader's slot).
    private const int ReaderRequest = 0;
    private const int WriterRequest = 1;

    // Readers and writers waiting for the writer bit, in arrival order. Its gate guards everything here.
    private WaitQueue _queue;

    // Writers waiting for the readers counted in the slots to leave. Shares _queue's gate.
    private WaitQueue _drainers;

    /// <summary>Threads queued in this lock's slow path, for the writer bit or for readers to drain (a snapshot, for tests and diagnostics).</summary>
    internal int WaitingThreadCount => _queue.Count + _drainers.Count;

    /// <summary>Waiters in the FIFO queue (a snapshot). A writer waiting only for readers to drain is not queued.</summary>
    internal int QueueLength => _queue.Count;

    /// <summary>The wait queue's gate, for tests that hold it from another thread.</summary>
    internal Lock QueueGateForTests => _queue.Gate;

    private static bool IsWriter(WaitNode node) => node.RequestKind == WriterRequest;

    /// <summary>
    /// Queues <paramref name="node"/> if the caller is still blocked (a bit of <paramref name="blockMask"/> set);
    /// returns false, queueing nothing, if it is not. Setting the queued bit in the same compare-and-swap that sees
    /// the block is what makes the blocking writer's release take the slow path and hand the lock on.
    /// </summary>
    private bool TryEnqueueLocked(WaitNode node, int blockMask)
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

        _queue.EnqueueLast(node);
        return true;
    }

    /// <summary>
    /// Under the gate: the writers a read (<paramref name="reader"/>, still queued; null for one that never queued) waits
    /// behind under the policy: a writer waiting for the readers in to drain (it holds the writer bit, so readers queue),
    /// and the queued writers: every one under writer-preferred, those ahead of it under fair. None under
    /// reader-preferred. For a timeout's message.
    /// </summary>
    private int WritersAheadLocked(WaitNode? reader)
    {
        if (_policy == ReadWritePolicy.ReaderPreferred)
        {
            return 0;
        }

        int ahead = _drainers.Count;
        bool behindReader = false;
        for (var node = _queue.Head; node is not null; node = node.Next)
        {
            behindReader |= ReferenceEquals(node, reader);
            if (IsWriter(node) && (!behindReader || _policy == ReadWritePolicy.WriterPreferred))
            {
                ahead++;
            }
        }

        return ahead;
    }

    /// <summary><see cref="WritersAheadLocked"/> for a read that never queued, taking the gate (a try-once's timeout message).</summary>
    private int WritersAheadNow()
    {
        if (_queue.GateOrNull is not { } gate)
        {
            return 0;
        }

        using (GateEntry.Enter(gate))
        {
            return WritersAheadLocked(null);
        }
    }

    /// <summary>Takes a failed waiter out: dequeues it, or passes on a hand-over that raced with its failure.</summary>
    private void AbandonWaitLocked(WaitNode node)
    {
        if (node.IsQueued)
        {
            _queue.Remove(node);
            if (_queue.Count == 0)
            {
                Interlocked.And(ref _state, ~QueuedBit);
            }

            return;
        }

        if (node.Status == WaitStatus.Granted)
        {
            node.Status = WaitStatus.Waiting;
            if (IsWriter(node))
            {
                OnWriterExitLocked();
            }
            else
            {
                LeaveSlot(node.Request);
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
        WaitNode? nextWriter = null;
        if (_policy == ReadWritePolicy.Fair)
        {
            while (_queue.Head is { } reader && !IsWriter(reader))
            {
                AdmitReaderLocked(reader);
            }

            nextWriter = _queue.Head;
        }
        else if (_policy == ReadWritePolicy.WriterPreferred)
        {
            nextWriter = _queue.Head;
            while (nextWriter is not null && !IsWriter(nextWriter))
            {
                nextWriter = nextWriter.Next;
            }

            if (nextWriter is null)
            {
                while (_queue.Head is { } reader)
                {
                    AdmitReaderLocked(reader);
                }
            }
        }
        else
        {
            while (_queue.Head is { } reader)
            {
                AdmitReaderLocked(reader);
            }
        }

        if (nextWriter is not null)
        {
            _queue.Remove(nextWriter);
        }

        int state = Volatile.Read(ref _state);
        while (true)
        {
            int next = state & ~(WriterBit | QueuedBit);
            next |= (nextWriter is not null ? WriterBit : 0) | (_queue.Count != 0 ? QueuedBit : 0);
            int seen = Interlocked.CompareExchange(ref _state, next, state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }

        // Signalled only once the state is final, so a granted writer never sees its bit before it is set.
        nextWriter?.Signal(WaitStatus.Granted);

        // Reader-preferred writers wait as drain waiters: a writer leaving is their cue to try again.
        _drainers.WakeAll(WaitStatus.Woken);
    }

    private void AdmitReaderLocked(WaitNode reader)
    {
        _queue.Remove(reader);
        Interlocked.Increment(ref _slots[reader.Request].Count);
        reader.Signal(WaitStatus.Granted);
    }

    /// <summary>
    /// Registers a writer sleeping until the readers drain, so the reader that empties a slot wakes it. The
    /// interlocked Or is a full fence: the caller's next look at the slots cannot miss a reader that leaves after.
    /// </summary>
    private void BeginDrainLocked(WaitNode node)
    {
        if (!node.IsQueued)
        {
            _drainers.EnqueueLast(node);
        }

        Interlocked.Or(ref _state, DrainWaiterBit);
    }

    private void EndDrainLocked(WaitNode node)
    {
        if (node.IsQueued)
        {
            _drainers.Remove(node);
        }

        if (_drainers.Count == 0)
        {
            Interlocked.And(ref _state, ~DrainWaiterBit);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeDrainWaiters()
    {
        var gate = _queue.GateOrNull;
        Debug.Assert(gate is not null, "A drain waiter creates the gate before it sets its bit.");
        using (GateEntry.Enter(gate))
        {
            _drainers.WakeAll(WaitStatus.Woken);
        }
    }
}
