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

    /// <summary>The calling thread's node for a new wait; a fresh one if its own already serves an outer wait.</summary>
    public static ThreadWaitNode Rent()
    {
        var node = t_current ??= new ThreadWaitNode();
        if (node._inUse)
        {
            node = new ThreadWaitNode();
        }

        node._inUse = true;
        return node;
    }

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
