using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Enters and exits a wait queue's gate without letting <see cref="Thread.Interrupt"/> stop it half-way: a contended
/// <see cref="Lock.Enter()"/> is an interruptible wait, and a release, hand-off or give-up stopped between changing
/// the state and updating the queue would leave a lock held by nobody or a waiter never woken. An interrupt that arrives
/// meanwhile is kept and raised again once the thread holds no gate, so no interruptible call under a gate (a metrics
/// listener's) sees it either, and the thread's next blocking wait does.
/// </summary>
internal static class GateEntry
{
    // Gates (and waiter monitors) this thread holds that were entered here, and whether an interrupt is owed to it.
    [ThreadStatic]
    private static int t_depth;

    [ThreadStatic]
    private static bool t_interruptOwed;

    // Async waits granted or refused under the gates this thread holds, oldest first: completed once it holds none.
    [ThreadStatic]
    private static AsyncWaitNode? t_deferredFirst;

    [ThreadStatic]
    private static AsyncWaitNode? t_deferredLast;

    /// <summary>
    /// Under a gate: completes <paramref name="node"/>'s wait (decided already) once this thread holds no gate. Queuing
    /// a continuation may wake a pool thread, a system call that would otherwise keep every newcomer to the queue
    /// waiting for the gate; completing it a few instructions later changes nothing else, as the node left its queue
    /// under the gate.
    /// </summary>
    public static void DeferCompletion(AsyncWaitNode node)
    {
        Debug.Assert(t_depth > 0, "A wait is decided under its queue's gate.");
        if (t_deferredLast is { } last)
        {
            last.NextDeferred = node;
        }
        else
        {
            t_deferredFirst = node;
        }

        t_deferredLast = node;
    }

    /// <summary>Enters <paramref name="gate"/>; the returned scope exits it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HeldGate Enter(Lock gate)
    {
        EnterUnscoped(gate);
        return new HeldGate(gate);
    }

    /// <summary>Enters <paramref name="gate"/> for a caller that exits it with <see cref="Exit(Lock)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnterUnscoped(Lock gate)
    {
        if (!gate.TryEnter())
        {
            EnterContended(gate);
        }

        t_depth++;
    }

    /// <summary>Exits a gate entered here; the last one out raises an interrupt that arrived while entering.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exit(Lock gate)
    {
        gate.Exit();
        if (--t_depth == 0 && (t_deferredFirst is not null || t_interruptOwed))
        {
            LeftLastGate();
        }
    }

    /// <summary>Enters the monitor of <paramref name="target"/> (a parked thread's node) in the same way.</summary>
    public static void EnterMonitor(object target)
    {
        if (!Monitor.TryEnter(target))
        {
            while (true)
            {
                try
                {
                    Monitor.Enter(target);
                    break;
                }
                catch (ThreadInterruptedException)
                {
                    t_interruptOwed = true;
                }
            }
        }

        t_depth++;
    }

    /// <summary>Exits a monitor entered with <see cref="EnterMonitor"/>.</summary>
    public static void ExitMonitor(object target)
    {
        Monitor.Exit(target);
        if (--t_depth == 0 && (t_deferredFirst is not null || t_interruptOwed))
        {
            LeftLastGate();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EnterContended(Lock gate)
    {
        while (true)
        {
            try
            {
                gate.Enter();
                return;
            }
            catch (ThreadInterruptedException)
            {
                t_interruptOwed = true;
            }
        }
    }

    /// <summary>The thread left its last gate: completes the waits decided under its gates, then raises an owed interrupt.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LeftLastGate()
    {
        var node = t_deferredFirst;
        t_deferredFirst = null;
        t_deferredLast = null;
        while (node is not null)
        {
            // Read before completing: the continuation may recycle the node on another thread at once.
            var next = node.NextDeferred;
            node.NextDeferred = null;
            node.CompleteDeferred();
            node = next;
        }

        if (t_interruptOwed)
        {
            t_interruptOwed = false;
            Thread.CurrentThread.Interrupt();
        }
    }
}

/// <summary>A gate entered by <see cref="GateEntry.Enter"/>; disposing it exits the gate.</summary>
internal readonly ref struct HeldGate
{
    private readonly Lock _gate;

    public HeldGate(Lock gate) => _gate = gate;

    public void Dispose() => GateEntry.Exit(_gate);
}
