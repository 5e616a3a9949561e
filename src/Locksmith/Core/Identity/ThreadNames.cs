using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Threading;

namespace Locksmith;

/// <summary>How messages name a thread: its managed id, and its name where one is known.</summary>
/// <remarks>
/// <para>A lock word stores only its holder's managed id, and .NET cannot find a thread by id. So every thread that
/// takes a Locksmith lock is remembered here, weakly, when it first reads <see cref="CurrentThreadId"/> — a one-time
/// step that already runs outside the fast paths. A timeout then names a holder that never blocked on anything (and
/// so has no <see cref="LockOwner"/> record) by the name it has at that moment, even one set after it took the lock.</para>
/// <para>Managed ids are reused once a thread ends, so an entry is trusted only while its thread is alive and still has
/// that id; a new thread with a reused id overwrites it. The table holds at most one entry per id in use at once.</para>
/// </remarks>
internal static class ThreadNames
{
    private static readonly ConcurrentDictionary<int, WeakReference<Thread>> s_threads = new();

    public static string Format(int threadId, string? name) =>
        string.IsNullOrEmpty(name) ? threadId.ToString(CultureInfo.InvariantCulture) : $"{threadId} ('{name}')";

    public static string Current() => Format(Environment.CurrentManagedThreadId, Thread.CurrentThread.Name);

    /// <summary>Names another thread by id: its id, and its name if it has one and ever used a Locksmith lock.</summary>
    public static string Of(int threadId) => threadId == 0 ? "none" : Format(threadId, NameOf(threadId));

    /// <summary>The current name of the thread with this managed id, or null when it has none or is unknown.</summary>
    public static string? NameOf(int threadId)
    {
        if (threadId == 0)
        {
            return null;
        }

        if (LockOwner.Find(threadId)?.Name is { } ownerName)
        {
            return ownerName;
        }

        return s_threads.TryGetValue(threadId, out var entry) && entry.TryGetTarget(out var thread) &&
            thread.IsAlive && thread.ManagedThreadId == threadId
            ? thread.Name
            : null;
    }

    /// <summary>Remembers <paramref name="thread"/> (the calling thread); once per thread, off every fast path.</summary>
    public static void Register(Thread thread) => s_threads[thread.ManagedThreadId] = new WeakReference<Thread>(thread);
}
