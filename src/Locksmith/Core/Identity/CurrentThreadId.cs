using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The current thread's managed id, cached in a thread-static: reading it there is cheaper than
/// <see cref="Environment.CurrentManagedThreadId"/>, which every owner check on a fast path needs.
/// </summary>
/// <remarks>
/// The first read on a thread also registers it with <see cref="ThreadNames"/>, so messages can name a lock's holder
/// by its thread name; the fast paths never pay for that again.
/// </remarks>
internal static class CurrentThreadId
{
    [ThreadStatic]
    private static int t_id;

    public static int Value
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int id = t_id;
            return id != 0 ? id : Initialize();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Initialize()
    {
        var thread = Thread.CurrentThread;
        ThreadNames.Register(thread);
        return t_id = thread.ManagedThreadId;
    }
}
