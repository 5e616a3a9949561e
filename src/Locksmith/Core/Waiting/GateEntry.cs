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
    // One object per thread for all of it: a thread-static read is a call into the native TLS lookup on Linux, so a
    // gate region reads it once (entering) and its scope carries it to the exit.
    [ThreadStatic]
    private static GateThreadState? t_state;

    /// <summary>
    /// Under a gate: completes <paramref name="node"/>'s wait (decided already) once this thread holds no gate. Queuing
    /// a continuation may wake a pool thread, a system call that would otherwise keep every newcomer to the queue
    /// waiting for the gate; completing it a few instructions later changes nothing else, as the node left its queue
    /// under the gate.
    /// </summary>
    public static void DeferCompletion(AsyncWaitNode node)
    {
        var state = t_state;
        Debug.Assert(state is { Depth: > 0 }, "A wait is decided under its queue's gate.");
        if (state.DeferredLast is { } last)
        {
            last.NextDeferred = node;
        }
        else
        {
            state.DeferredFirst = node;
        }

        state.DeferredLast = node;
    }

    /// <summary>Enters <paramref name="gate"/>; the returned scope exits it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HeldGate Enter(Lock gate) => new(gate, EnterCore(gate));

    /// <summary>Enters <paramref name="gate"/> for a caller that exits it with <see cref="Exit(Lock)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnterUnscoped(Lock gate) => EnterCore(gate);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static GateThreadState EnterCore(Lock gate)
    {
        if (!gate.TryEnter())
        {
            EnterContended(gate);
        }

        var state = State;
        state.Depth++;
        return state;
    }

    /// <summary>Exits a gate entered here; the last one out raises an interrupt that arrived while entering.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exit(Lock gate) => Exit(gate, t_state!);

    /// <summary><see cref="Exit(Lock)"/> with the thread's state at hand (a scope's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Exit(Lock gate, GateThreadState state)
    {
        gate.Exit();
        Left(state);
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
                    State.InterruptOwed = true;
                }
            }
        }

        State.Depth++;
    }

    /// <summary>Exits a monitor entered with <see cref="EnterMonitor"/>.</summary>
    public static void ExitMonitor(object target)
    {
        Monitor.Exit(target);
        Left(t_state!);
    }

    /// <summary>One gate or monitor fewer; the last one out completes the deferred waits and raises an owed interrupt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Left(GateThreadState state)
    {
        if (--state.Depth == 0 && (state.DeferredFirst is not null || state.InterruptOwed))
        {
            LeftLastGate(state);
        }
    }

    private static GateThreadState State
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_state ?? NewState();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static GateThreadState NewState() => t_state = new GateThreadState();

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
                State.InterruptOwed = true;
            }
        }
    }

    /// <summary>The thread left its last gate: completes the waits decided under its gates, then raises an owed interrupt.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LeftLastGate(GateThreadState state)
    {
        var node = state.DeferredFirst;
        state.DeferredFirst = null;
        state.DeferredLast = null;
        while (node is not null)
        {
            // Read before completing: the continuation may recycle the node on another thread at once.
            var next = node.NextDeferred;
            node.NextDeferred = null;
            node.CompleteDeferred();
            node = next;
        }

        if (state.InterruptOwed)
        {
            state.InterruptOwed = false;
            Thread.CurrentThread.Interrupt();
        }
    }
}

/// <summary>What <see cref="GateEntry"/> keeps for one thread; only that thread touches it.</summary>
internal sealed class GateThreadState
{
    /// <summary>Gates (and waiter monitors) the thread holds that were entered through <see cref="GateEntry"/>.</summary>
    public int Depth;

    /// <summary>Whether an interrupt arrived while the thread entered one, owed once it holds none.</summary>
    public bool InterruptOwed;

    /// <summary>Async waits granted or refused under the gates the thread holds, oldest first: completed once it holds none.</summary>
    public AsyncWaitNode? DeferredFirst;

    /// <summary>The newest of them.</summary>
    public AsyncWaitNode? DeferredLast;
}

/// <summary>A gate entered by <see cref="GateEntry.Enter"/>; disposing it exits the gate.</summary>
internal readonly ref struct HeldGate
{
    private readonly Lock _gate;
    private readonly GateThreadState _state;

    public HeldGate(Lock gate, GateThreadState state)
    {
        _gate = gate;
        _state = state;
    }

    public void Dispose() => GateEntry.Exit(_gate, _state);
}
