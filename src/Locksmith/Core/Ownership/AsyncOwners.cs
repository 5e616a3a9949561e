using System;
using System.Collections.Generic;
using System.Threading;

namespace Locksmith;

/// <summary>An async lock the deadlock detector and messages can ask who holds it and who waits for it.</summary>
internal interface IAsyncOwnedLock
{
    /// <summary>The lock itself.</summary>
    LockPrimitive Lock { get; }

    /// <summary>The flow holding it exclusively, or null (a snapshot).</summary>
    LockOwner? ExclusiveHolder { get; }

    /// <summary>Adds the flows queued for it now, with the mode each waits for (under the lock's gate).</summary>
    void AddWaiters(List<(LockOwner Flow, LockMode Mode)> waiters);
}

/// <summary>
/// The async locks alive in the process, for the deadlock detector (flow → lock → owning flow), and how messages
/// name an owning flow. Registration happens once per lock at construction, never on an acquire or release.
/// </summary>
internal static class AsyncOwners
{
    private static readonly Lock s_gate = new();
    private static readonly List<WeakReference<IAsyncOwnedLock>> s_locks = new();

    /// <summary>Remembers a new async lock (weakly).</summary>
    public static void Register(IAsyncOwnedLock asyncLock)
    {
        lock (s_gate)
        {
            if (s_locks.Count >= 64 && (s_locks.Count & (s_locks.Count - 1)) == 0)
            {
                s_locks.RemoveAll(static r => !r.TryGetTarget(out _));
            }

            s_locks.Add(new WeakReference<IAsyncOwnedLock>(asyncLock));
        }
    }

    /// <summary>The async locks alive now.</summary>
    public static List<IAsyncOwnedLock> Snapshot()
    {
        var alive = new List<IAsyncOwnedLock>();
        lock (s_gate)
        {
            foreach (var reference in s_locks)
            {
                if (reference.TryGetTarget(out var target))
                {
                    alive.Add(target);
                }
            }
        }

        return alive;
    }

    /// <summary>The holder of an async lock as messages name it, or null when no flow holds it exclusively.</summary>
    public static string? Describe(LockPrimitive lockPrimitive) =>
        lockPrimitive is IAsyncOwnedLock { ExclusiveHolder: { } holder } ? holder.Describe() : null;
}
