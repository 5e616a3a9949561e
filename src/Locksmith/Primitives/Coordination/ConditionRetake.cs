using System;

namespace Locksmith;

/// <summary>
/// The lock a condition wait on this thread is taking back (<see cref="ExclusiveLock.Retake"/>): its caller still holds
/// the scope, so a metrics listener that throws as the lock comes back leaves it held.
/// </summary>
internal static class ConditionRetake
{
    [ThreadStatic]
    private static ExclusiveLock? t_lock;

    /// <summary>Whether a condition wait on this thread is taking <paramref name="lockPrimitive"/> back.</summary>
    public static bool IsRetaking(ExclusiveLock lockPrimitive) => ReferenceEquals(t_lock, lockPrimitive);

    /// <summary>Marks <paramref name="lockPrimitive"/> as being taken back; returns what to restore (<see cref="End"/>).</summary>
    public static ExclusiveLock? Begin(ExclusiveLock lockPrimitive)
    {
        var outer = t_lock;
        t_lock = lockPrimitive;
        return outer;
    }

    /// <summary>The retake is over: restores what <see cref="Begin"/> returned.</summary>
    public static void End(ExclusiveLock? outer) => t_lock = outer;
}
