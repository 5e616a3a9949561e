using System;
using System.Threading;

namespace Locksmith;

/// <summary>Timeout validation and deadline arithmetic shared by every blocking call.</summary>
internal static class TimeoutMath
{
    /// <summary>Validates a timeout and returns it in milliseconds, -1 meaning infinite.</summary>
    public static int ToMilliseconds(TimeSpan timeout, string paramName = "timeout")
    {
        if (!InRange(timeout, out int ms))
        {
            ThrowHelper.ThrowTimeoutOutOfRange(paramName, timeout);
        }

        return ms;
    }

    /// <summary>
    /// Validates a timeout given to <paramref name="lockPrimitive"/> and returns it in milliseconds, -1 meaning infinite;
    /// one out of range names the lock.
    /// </summary>
    public static int ToMilliseconds(TimeSpan timeout, LockPrimitive lockPrimitive)
    {
        if (!InRange(timeout, out int ms))
        {
            ThrowHelper.ThrowTimeoutOutOfRange(lockPrimitive, timeout);
        }

        return ms;
    }

    /// <summary>
    /// Whether <paramref name="timeout"/> is in range, and it in milliseconds (-1 meaning infinite): for callers that
    /// are not one lock and name what they are themselves when it is not (a lock set, a condition, a barrier).
    /// </summary>
    public static bool InRange(TimeSpan timeout, out int milliseconds)
    {
        long ms = (long)timeout.TotalMilliseconds;
        milliseconds = (int)ms;
        return ms >= -1 && ms <= int.MaxValue && (ms != -1 || timeout == Timeout.InfiniteTimeSpan);
    }

    public static void Validate(TimeSpan timeout, string paramName) => ToMilliseconds(timeout, paramName);

    /// <summary>The deadline (in <see cref="Environment.TickCount64"/> ms) for a timeout, or long.MaxValue for infinite.</summary>
    public static long DeadlineFrom(int timeoutMs) => timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;

    /// <summary>Milliseconds left until <paramref name="deadline"/>: -1 for infinite, 0 when it has passed.</summary>
    public static int Remaining(long deadline)
    {
        if (deadline == long.MaxValue)
        {
            return -1;
        }

        long left = deadline - Environment.TickCount64;
        return left <= 0 ? 0 : (int)Math.Min(left, int.MaxValue);
    }
}
