using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Enters a wait queue's gate without letting <see cref="Thread.Interrupt"/> stop it half-way: a contended
/// <see cref="Lock.Enter()"/> is an interruptible wait, and a release, hand-off or give-up stopped between changing
/// the state and updating the queue would leave a lock held by nobody or a waiter never woken. An interrupt that arrives
/// meanwhile is kept and raised again once the gate is entered, so the thread's next blocking wait still sees it.
/// </summary>
internal static class GateEntry
{
    /// <summary>Enters <paramref name="gate"/>; the returned scope exits it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HeldGate Enter(Lock gate)
    {
        if (!gate.TryEnter())
        {
            EnterContended(gate);
        }

        return new HeldGate(gate);
    }

    /// <summary>Enters <paramref name="gate"/> for a caller that exits it itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnterUnscoped(Lock gate)
    {
        if (!gate.TryEnter())
        {
            EnterContended(gate);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EnterContended(Lock gate)
    {
        bool interrupted = false;
        while (true)
        {
            try
            {
                gate.Enter();
                break;
            }
            catch (ThreadInterruptedException)
            {
                interrupted = true;
            }
        }

        if (interrupted)
        {
            Thread.CurrentThread.Interrupt();
        }
    }

    /// <summary>Enters the monitor of <paramref name="target"/> (a parked thread's node) in the same way.</summary>
    public static void EnterMonitor(object target)
    {
        if (Monitor.TryEnter(target))
        {
            return;
        }

        bool interrupted = false;
        while (true)
        {
            try
            {
                Monitor.Enter(target);
                break;
            }
            catch (ThreadInterruptedException)
            {
                interrupted = true;
            }
        }

        if (interrupted)
        {
            Thread.CurrentThread.Interrupt();
        }
    }
}

/// <summary>A gate entered by <see cref="GateEntry.Enter"/>; disposing it exits the gate.</summary>
internal readonly ref struct HeldGate
{
    private readonly Lock _gate;

    public HeldGate(Lock gate) => _gate = gate;

    public void Dispose() => _gate.Exit();
}
