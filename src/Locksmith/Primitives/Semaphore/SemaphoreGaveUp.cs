namespace Locksmith;

/// <summary>
/// What a semaphore wait saw when it gave up, for its timeout message: the permits free then, and whether queued
/// waiters ahead of it had the first claim on them. Packed in one int (<see cref="Pack"/>) to ride on an async node.
/// </summary>
internal readonly record struct SemaphoreGaveUp(int Free, bool HeldBack)
{
    /// <summary>One int: the free count, complemented when held back (a count is never negative).</summary>
    public int Pack() => HeldBack ? ~Free : Free;

    public static SemaphoreGaveUp Unpack(int packed) => packed < 0 ? new(~packed, true) : new(packed, false);
}
