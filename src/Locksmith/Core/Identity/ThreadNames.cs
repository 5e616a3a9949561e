using System;
using System.Threading;

namespace Locksmith;

/// <summary>How messages name a thread: its managed id, and its name where one is known.</summary>
internal static class ThreadNames
{
    public static string Format(int threadId, string? name) =>
        string.IsNullOrEmpty(name) ? threadId.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{threadId} ('{name}')";

    public static string Current() => Format(Environment.CurrentManagedThreadId, Thread.CurrentThread.Name);

    /// <summary>Names another thread by id; its name is known only if it ever registered as a lock owner.</summary>
    public static string Of(int threadId) => threadId == 0 ? "none" : Format(threadId, LockOwner.Find(threadId)?.Name);
}
