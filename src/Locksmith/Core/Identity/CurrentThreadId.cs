using System;
using System.Runtime.CompilerServices;

namespace Locksmith;

/// <summary>
/// The current thread's managed id, cached in a thread-static: reading it there is cheaper than
/// <see cref="Environment.CurrentManagedThreadId"/>, which every owner check on a fast path needs.
/// </summary>
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
    private static int Initialize() => t_id = Environment.CurrentManagedThreadId;
}
