using System;

namespace Locksmith;

/// <summary>
/// A <see cref="PhaseBarrier"/> was broken: a participant timed out, was cancelled, or the post-phase action
/// threw. Every waiter is released with this exception instead of waiting for a phase that will never end.
/// </summary>
public sealed class BrokenBarrierException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public BrokenBarrierException(string barrierName, long phase, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        BarrierName = barrierName;
        Phase = phase;
    }

    /// <summary>The barrier's name.</summary>
    public string BarrierName { get; }

    /// <summary>The phase that was broken.</summary>
    public long Phase { get; }
}
