using System;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Process-wide locking policy: the default timeout of acquisitions that name none, what an order violation
/// does, and plain callbacks for the runtime's events (no logging dependency; hosting turns them into logs).
/// </summary>
/// <remarks>
/// Set it once at start-up. Reads on the hot path are plain field reads; the callbacks run on the thread
/// that hit the event, so they must be quick and must not take Locksmith locks.
/// </remarks>
public static class LocksmithPolicy
{
    private static TimeSpan s_defaultTimeout = Timeout.InfiniteTimeSpan;

    // The same timeout in milliseconds, converted once when set: every wait that names none resolves it.
    private static int s_defaultTimeoutMilliseconds = Timeout.Infinite;
    private static TimeSpan s_longWaitThreshold = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// The timeout of acquisitions that pass none (<c>Acquire()</c>, generated wrappers without a timeout).
    /// <see cref="Timeout.InfiniteTimeSpan"/> (the default) waits forever.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative (other than infinite) or too large.</exception>
    public static TimeSpan DefaultTimeout
    {
        get => s_defaultTimeout;
        set
        {
            int milliseconds = TimeoutMath.ToMilliseconds(value, nameof(value));
            s_defaultTimeout = value;
            s_defaultTimeoutMilliseconds = milliseconds;
        }
    }

    /// <summary><see cref="DefaultTimeout"/> in milliseconds, -1 meaning infinite.</summary>
    internal static int DefaultTimeoutMilliseconds => s_defaultTimeoutMilliseconds;

    /// <summary>What an acquisition against the global lock order does. Default: <see cref="OrderViolationAction.Throw"/>.</summary>
    public static OrderViolationAction OrderViolationAction { get; set; } = OrderViolationAction.Throw;

    /// <summary>Called for every order violation found (under <see cref="OrderViolationAction.Throw"/>, before the throw).</summary>
    public static Action<LockOrderViolation>? OrderViolationReported { get; set; }

    /// <summary>Called when an acquisition gives up at its timeout, before it returns false or throws.</summary>
    public static Action<LockTimeoutEvent>? TimeoutOccurred { get; set; }

    /// <summary>How long a blocked acquisition may wait before <see cref="LongWaitOccurred"/> reports it. Infinite (off) by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative (other than infinite) or too large.</exception>
    public static TimeSpan LongWaitThreshold
    {
        get => s_longWaitThreshold;
        set
        {
            TimeoutMath.Validate(value, nameof(value));
            s_longWaitThreshold = value;
        }
    }

    /// <summary>Called after a blocked acquisition that waited at least <see cref="LongWaitThreshold"/> succeeds.</summary>
    public static Action<LongWaitEvent>? LongWaitOccurred { get; set; }
}
