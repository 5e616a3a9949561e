using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Who holds and who waits: the locks an owner holds (for order checking and diagnostics) and the lock it is
/// blocked on (for the deadlock detector).
/// </summary>
/// <remarks>
/// Today every owner is a thread, found through a thread-static. The record is deliberately not a
/// <see cref="Thread"/>: an async flow can later keep its own <see cref="LockOwner"/> in an
/// <c>AsyncLocal</c> and reuse the same order checks and wait-for graph. Owners are created lazily, the first
/// time a thread takes an ordered lock or blocks, so unordered uncontended locking never touches this type.
/// </remarks>
internal sealed class LockOwner
{
    [ThreadStatic]
    private static LockOwner? t_current;

    private static readonly object s_registryGate = new();
    private static List<LockOwner> s_registry = new();

    private readonly WeakReference<Thread>? _thread;

    private LockOwner(int ownerId, Thread? thread)
    {
        OwnerId = ownerId;
        _thread = thread is null ? null : new WeakReference<Thread>(thread);
    }

    /// <summary>The owner's id: the managed thread id for thread owners. A field: ordered fast paths read it instead of asking for the thread id again.</summary>
    public readonly int OwnerId;

    /// <summary>The owner's display name: the thread's name when it has one.</summary>
    public string? Name => _thread is not null && _thread.TryGetTarget(out var t) ? t.Name : null;

    /// <summary>Whether the owner can still act (a thread that ended cannot).</summary>
    public bool IsAlive => _thread is null || (_thread.TryGetTarget(out var t) && t.IsAlive);

    /// <summary>The ordered locks this owner holds, in acquisition order.</summary>
    public HeldLockStack Held = new(8);

    /// <summary>The lock this owner is blocked on, or null. Written by the owner, read by the detector.</summary>
    public volatile LockPrimitive? WaitingFor;

    /// <summary>The mode of the blocked wait in <see cref="WaitingFor"/>.</summary>
    public LockMode WaitingMode;

    /// <summary>The current thread's owner record, or null if it never needed one.</summary>
    public static LockOwner? CurrentOrNull
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current;
    }

    /// <summary>The current thread's owner record, created on first use.</summary>
    public static LockOwner Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ?? CreateForCurrentThread();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner CreateForCurrentThread()
    {
        var thread = Thread.CurrentThread;
        var owner = new LockOwner(thread.ManagedThreadId, thread);
        lock (s_registryGate)
        {
            // Copy-on-write so the detector walks a snapshot without a lock; dead threads are pruned here.
            var next = new List<LockOwner>(s_registry.Count + 1);
            foreach (var existing in s_registry)
            {
                if (existing.IsAlive)
                {
                    next.Add(existing);
                }
            }

            next.Add(owner);
            s_registry = next;
        }

        t_current = owner;
        return owner;
    }

    /// <summary>A snapshot of every live owner record.</summary>
    public static IReadOnlyList<LockOwner> Snapshot() => Volatile.Read(ref s_registry);

    /// <summary>Finds the registered owner with this id, for naming it in messages.</summary>
    public static LockOwner? Find(int ownerId)
    {
        foreach (var owner in Snapshot())
        {
            if (owner.OwnerId == ownerId && owner.IsAlive)
            {
                return owner;
            }
        }

        return null;
    }
}
