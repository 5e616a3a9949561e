using System;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A thread's wait node: it parks on its own monitor, so a waker wakes exactly this thread. A thread waits on one
/// primitive at a time, so each thread owns one node and reuses it: queueing allocates nothing in steady state.
/// </summary>
internal sealed class ThreadWaitNode : WaitNode
{
    [ThreadStatic]
    private static ThreadWaitNode? t_current;

    // Whether the node serves a wait right now. A wait nested in another (user code run by a metrics callback or a
    // barrier's post-phase action while its thread waits) takes a fresh node, so the two never share a status.
    private bool _inUse;

    // Counts the waits this node served: a controlled scheduler tells the wait it heard park from a later one on the
    // same node (a condition's waiter taking its lock back) by it. Written by the owning thread only.
    private int _waits;

    /// <summary>The calling thread's node for a new wait; a fresh one if its own already serves an outer wait.</summary>
    public static ThreadWaitNode Rent()
    {
        var node = t_current ??= new ThreadWaitNode();
        if (node._inUse)
        {
            node = new ThreadWaitNode();
        }

        node._inUse = true;

        // Before the wait's Reset writes its status (volatile): a reader that sees the new wait's status sees its number.
        Volatile.Write(ref node._waits, node._waits + 1);
        return node;
    }

    /// <summary>Which of this node's waits (counted by <see cref="Rent"/>) is under way, or was last; read from any thread.</summary>
    public int WaitNumber => Volatile.Read(ref _waits);

    /// <summary>Ends the wait <see cref="Rent"/> began.</summary>
    public static void Return(ThreadWaitNode node) => node._inUse = false;

    // A waker entering the node's monitor is not interrupted half-way: its wake would be lost.
    internal override void Signal(WaitStatus status)
    {
        GateEntry.EnterMonitor(this);
        try
        {
            Status = status;
            Monitor.Pulse(this);
        }
        finally
        {
            GateEntry.ExitMonitor(this);
        }
    }

    internal override void Nudge()
    {
        GateEntry.EnterMonitor(this);
        try
        {
            Monitor.Pulse(this);
        }
        finally
        {
            GateEntry.ExitMonitor(this);
        }
    }

    /// <summary>
    /// Sleeps until a waker changes <see cref="WaitNode.Status"/> (true), or the deadline passes or the token is
    /// cancelled first (false). The caller must not hold the queue's gate.
    /// </summary>
    public bool Park(long deadline, CancellationToken cancellationToken)
    {
        lock (this)
        {
            // A loop: the monitor may wake spuriously, and a cancellation nudge is not a signal.
            while (Status == WaitStatus.Waiting)
            {
                int remaining = TimeoutMath.Remaining(deadline);
                if (remaining == 0 || cancellationToken.IsCancellationRequested)
                {
                    return false;
                }

                Monitor.Wait(this, remaining);
            }

            return true;
        }
    }
}
