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

    // Set while a retake that follows a failed one runs: its contention and wait are not recorded, so a listener that
    // keeps throwing cannot fail every retake while the lock stays contended.
    [ThreadStatic]
    private static LockPrimitive? t_quiet;

    /// <summary>Whether a condition wait on this thread is taking <paramref name="lockPrimitive"/> back.</summary>
    public static bool IsRetaking(ExclusiveLock lockPrimitive) => ReferenceEquals(t_lock, lockPrimitive);

    /// <summary>
    /// Whether this thread's contention and wait on <paramref name="lockPrimitive"/> go unrecorded: a condition wait is
    /// taking it back again after a metrics listener (or a long-wait handler) failed its first retake.
    /// </summary>
    public static bool IsQuiet(LockPrimitive lockPrimitive) => ReferenceEquals(t_quiet, lockPrimitive);

    /// <summary>
    /// Marks <paramref name="lockPrimitive"/> as being taken back (<paramref name="quiet"/>: without recording its
    /// contention and wait); returns what to restore (<see cref="End"/>).
    /// </summary>
    public static (ExclusiveLock? Lock, LockPrimitive? Quiet) Begin(ExclusiveLock lockPrimitive, bool quiet)
    {
        var outer = (t_lock, t_quiet);
        t_lock = lockPrimitive;
        t_quiet = quiet ? lockPrimitive : null;
        return outer;
    }

    /// <summary>The retake is over: restores what <see cref="Begin"/> returned.</summary>
    public static void End((ExclusiveLock? Lock, LockPrimitive? Quiet) outer) => (t_lock, t_quiet) = outer;
}
