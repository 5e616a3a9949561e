using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

/// <summary>The messages of <see cref="PhaseBarrier"/>: each names the barrier, the phase and the thread.</summary>
internal static partial class ThrowHelper
{
    /// <summary>For a participant released from its wait, or the one whose post-phase action threw.</summary>
    public static BrokenBarrierException CreateBarrierBroken(PhaseBarrier barrier, long phase, string reason, Exception? cause) =>
        new(barrier.Name, phase,
            $"Barrier '{barrier.Name}' was broken in phase {phase}: {reason}. Thread {ThreadNames.Current()} leaves without the phase " +
            "completing; every other participant is released the same way.",
            cause);

    /// <summary>For a participant arriving at a barrier that is already broken.</summary>
    public static BrokenBarrierException CreateBarrierAlreadyBroken(PhaseBarrier barrier, long phase, string reason, Exception? cause) =>
        new(barrier.Name, phase,
            $"Thread {ThreadNames.Current()} arrived at barrier '{barrier.Name}', which is broken since phase {phase}: {reason}. " +
            "Call Reset() once no participant is waiting to use it again.",
            cause);

    /// <summary>For the participant whose token was cancelled, before it arrived or while it waited: the barrier is now broken.</summary>
    [DoesNotReturn]
    public static void ThrowBarrierWaitCanceled(PhaseBarrier barrier, long phase, CancellationToken cancellationToken) =>
        throw new OperationCanceledException(
            $"Thread {ThreadNames.Current()} did not complete phase {phase} of barrier '{barrier.Name}': its cancellation token was " +
            "cancelled. The phase " +
            "cannot complete without it, so the barrier is broken for every participant; Reset() repairs it once none is waiting.",
            cancellationToken);

    [DoesNotReturn]
    public static void ThrowBarrierResetWhileWaiting(PhaseBarrier barrier, int waiting) =>
        throw new InvalidOperationException(
            $"Thread {ThreadNames.Current()} called Reset on barrier '{barrier.Name}' while {waiting} participant(s) are still inside " +
            $"SignalAndWait in phase {barrier.CurrentPhase}. Reset only after every participant has returned.");

    [DoesNotReturn]
    public static void ThrowBarrierCalledFromPostPhaseAction(PhaseBarrier barrier, string member) =>
        throw new InvalidOperationException(
            $"Thread {ThreadNames.Current()}, running the post-phase action of barrier '{barrier.Name}' (phase {barrier.CurrentPhase}), " +
            $"called {member} on it. The action runs between phases while the participants wait, so it must not use the barrier.");
}
