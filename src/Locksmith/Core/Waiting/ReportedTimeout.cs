using System;

namespace Locksmith;

/// <summary>
/// What the calling thread's last timeout report named: the lock and its holder (id and name as the event gave them), and
/// for a semaphore what its wait saw as it gave up.
/// A sync <c>LockSet</c> whose member's own wait timed out (and reported it) throws after that wait returned; it takes
/// the holder and a semaphore's free permits from here, so its exception says what the member's event said, never what
/// is read again after the event's handler ran (the holder may have left, its thread ended, or permits come back by then).
/// </summary>
/// <remarks>Written only as a timeout is reported (off every fast path), read and cleared by the set on the same thread.</remarks>
internal struct ReportedTimeout
{
    [ThreadStatic]
    private static ReportedTimeout s_last;

    public LockPrimitive? Lock;
    public int OwnerThreadId;
    public string? OwnerThreadName;

    /// <summary>A semaphore's <see cref="SemaphoreGaveUp"/>, packed (0 for other locks).</summary>
    public int GaveUpState;

    public static void Record(LockPrimitive lockPrimitive, int ownerThreadId, string? ownerThreadName, int gaveUpState) =>
        s_last = new ReportedTimeout { Lock = lockPrimitive, OwnerThreadId = ownerThreadId, OwnerThreadName = ownerThreadName, GaveUpState = gaveUpState };

    /// <summary>Forgets the last report, before a wait whose report the caller will read.</summary>
    public static void Clear() => s_last = default;

    /// <summary>The last report, if it was <paramref name="lockPrimitive"/>'s; cleared either way.</summary>
    public static bool TryTake(LockPrimitive lockPrimitive, out ReportedTimeout reported)
    {
        reported = s_last;
        s_last = default;
        return ReferenceEquals(reported.Lock, lockPrimitive);
    }
}
