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

    /// <summary>The calling thread's node, created on its first contended wait.</summary>
    public static ThreadWaitNode Current => t_current ??= new ThreadWaitNode();

    internal override void Signal(WaitStatus status)
    {
        lock (this)
        {
            Status = status;
            Monitor.Pulse(this);
        }
    }

    internal override void Nudge()
    {
        lock (this)
        {
            Monitor.Pulse(this);
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
