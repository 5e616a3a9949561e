using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

// Who goes next: the two queues (readers, writers) under one gate, and the hand-over that the policy decides when a
// writer leaves, the last reader leaves, or a waiter gives up. Everything here runs under the gate.
public sealed partial class AsyncReadWriteLock
{
    // RequestKind of a queued node; its Request is its arrival number (the fair policy compares them).
    private const int ReaderRequest = 0;
    private const int WriterRequest = 1;

    // Queued readers and writers in arrival order, each queue FIFO. _readers' gate guards both (and _arrivals).
    private WaitQueue _readers;
    private WaitQueue _writers;
    private int _arrivals;

    /// <summary>Whether <paramref name="first"/> queued before <paramref name="second"/> (arrival numbers may wrap).</summary>
    private static bool ArrivedBefore(WaitNode first, WaitNode second) => first.Request - second.Request < 0;

    /// <summary>The last reader left with someone queued: hand the lock on.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DispatchContended()
    {
        using (GateEntry.Enter(_readers.Gate))
        {
            DispatchLocked();
        }
    }

    /// <summary>
    /// A writer leaves with someone queued. A writer that goes next is handed the writer bit directly, so nobody slips
    /// in between; otherwise the bit is cleared and the readers the policy admits are let in together:
    /// </summary>
    /// <remarks>
    /// <para>Reader-preferred: every queued reader; the head writer only when no reader is queued.</para>
    /// <para>Writer-preferred: the head writer if any writer is queued, so readers cannot overtake writers; else every reader.</para>
    /// <para>Fair: arrival order. The head writer if it queued before every queued reader; else the readers that
    /// queued before the head writer, together, and that writer goes when they have left.</para>
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void HandOffFromWriter()
    {
        using (GateEntry.Enter(_readers.Gate))
        {
            var writer = (AsyncWaitNode?)_writers.Head;
            var reader = _readers.Head;
            bool writerNext = writer is not null && _policy switch
            {
                ReadWritePolicy.ReaderPreferred => reader is null,
                ReadWritePolicy.WriterPreferred => true,
                _ => reader is null || ArrivedBefore(writer, reader),
            };

            if (writerNext)
            {
                GrantWriteLocked(writer!);
                UpdateQueuedBitsLocked();
                return;
            }

            int state = Volatile.Read(ref _state);
            while (true)
            {
                int seen = Interlocked.CompareExchange(ref _state, state & ~WriterBit, state);
                if (seen == state)
                {
                    break;
                }

                state = seen;
            }

            DispatchLocked();
        }
    }

    /// <summary>
    /// With no writer holding the lock: lets in what the policy allows now (see <see cref="HandOffFromWriter"/>), then
    /// brings the queued bits up to date. A writer is granted only when no reader is inside.
    /// </summary>
    private void DispatchLocked()
    {
        if ((Volatile.Read(ref _state) & WriterBit) == 0)
        {
            var writer = (AsyncWaitNode?)_writers.Head;
            switch (_policy)
            {
                case ReadWritePolicy.ReaderPreferred:
                    if (_readers.Head is not null)
                    {
                        if (!AdmitReadersLocked(before: null) && writer is not null)
                        {
                            // Every reader let in was refused (a second read of its flow): the writer need not wait.
                            TryGrantWriterLocked(writer);
                        }
                    }
                    else if (writer is not null)
                    {
                        TryGrantWriterLocked(writer);
                    }

                    break;

                case ReadWritePolicy.WriterPreferred:
                    if (writer is null)
                    {
                        AdmitReadersLocked(before: null);
                    }
                    else
                    {
                        TryGrantWriterLocked(writer);
                    }

                    break;

                default:
                    AdmitReadersLocked(before: writer);
                    if (writer is not null)
                    {
                        TryGrantWriterLocked(writer);
                    }

                    break;
            }
        }

        UpdateQueuedBitsLocked();
    }

    /// <summary>
    /// Admits the queued readers that arrived before <paramref name="before"/> (all of them when null); false when none
    /// of those it took from the queue was let in (each was refused as a second read of its flow, or there were none).
    /// </summary>
    private bool AdmitReadersLocked(WaitNode? before)
    {
        bool admitted = false;
        while (_readers.Head is AsyncWaitNode reader && (before is null || ArrivedBefore(reader, before)))
        {
            admitted |= GrantReadLocked(reader);
        }

        return admitted;
    }

    /// <summary>
    /// Grants <paramref name="writer"/> the lock if no reader is counted in (reader-preferred readers may enter
    /// meanwhile): claims the writer bit, sums the slots, and drops the claim when a reader is in. The writer stays
    /// queued, so its flag stays set, and the reader that empties its slot comes back here.
    /// </summary>
    private void TryGrantWriterLocked(AsyncWaitNode writer)
    {
        int state = Volatile.Read(ref _state);
        while ((state & WriterBit) == 0)
        {
            int seen = Interlocked.CompareExchange(ref _state, state | WriterBit, state);
            if (seen == state)
            {
                if (AnyReaders())
                {
                    Interlocked.And(ref _state, ~WriterBit);
                    return;
                }

                GrantWriteLocked(writer);
                return;
            }

            state = seen;
        }
    }

    /// <summary>Sets each queued bit exactly when its queue is not empty.</summary>
    private void UpdateQueuedBitsLocked()
    {
        int queued = (_readers.Count != 0 ? ReadersQueuedBit : 0) | (_writers.Count != 0 ? WritersQueuedBit : 0);
        int state = Volatile.Read(ref _state);
        while ((state & QueuedBits) != queued)
        {
            int seen = Interlocked.CompareExchange(ref _state, (state & ~QueuedBits) | queued, state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }
    }

    /// <summary>
    /// What a read that gives up (<paramref name="reader"/>, still queued; null for a try-once) saw: the queued writers a
    /// reader waits behind under the policy (every one under writer-preferred, those that arrived first under fair, none
    /// under reader-preferred), plus one, so 0 stays "not noted". Under the gate.
    /// </summary>
    private int ReadGaveUpState(WaitNode? reader)
    {
        if (_policy == ReadWritePolicy.ReaderPreferred)
        {
            return 1;
        }

        int ahead = 0;
        for (var writer = _writers.Head; writer is not null; writer = writer.Next)
        {
            if (reader is null || _policy == ReadWritePolicy.WriterPreferred || ArrivedBefore(writer, reader))
            {
                ahead++;
            }
        }

        return ahead + 1;
    }

    /// <summary>A waiter gives up (timeout, cancellation): unlink it and let in whoever it was holding back.</summary>
    void IAsyncWaitHost.RemoveLocked(AsyncWaitNode node)
    {
        Debug.Assert(node.IsQueued, "The node gives up only while queued.");
        if (node.RequestKind == WriterRequest)
        {
            _writers.Remove(node);
        }
        else
        {
            // For its message: the writers it waited behind as it gave up (see ReadGaveUpState).
            node.GaveUpState = ReadGaveUpState(node);
            _readers.Remove(node);
        }

        DispatchLocked();
    }
}
