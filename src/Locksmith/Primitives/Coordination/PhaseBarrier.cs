using System;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A reusable barrier for a fixed number of participants working in phases: each participant calls
/// <see cref="SignalAndWait()"/> at the end of a phase, and none passes until all have arrived. An optional
/// post-phase action runs once between phases.
/// </summary>
/// <remarks>
/// <para>A barrier that cannot complete its phase is <b>broken</b> rather than left to hang: when a participant times
/// out, is cancelled or interrupted, or the post-phase action throws, every waiting participant is released at once
/// with <see cref="BrokenBarrierException"/>, and later calls throw it too until <see cref="Reset"/>. The participant
/// that timed out gets <see langword="false"/>; the one that was cancelled gets <see cref="OperationCanceledException"/>
/// and an interrupted one <see cref="ThreadInterruptedException"/>.</para>
/// <para>Waiting participants sleep on a private monitor; a phase is told apart from the next by its number alone,
/// so passing a phase allocates nothing (a cancellable wait allocates its token registration).</para>
/// </remarks>
public sealed class PhaseBarrier
{
    private static long s_nextId;

    private static readonly Action<object?> s_nudge = static node => ((WaitNode)node!).Nudge();

    // The kernel's queue of sleeping participants; its gate guards the barrier's state.
    private WaitQueue _queue;
    private readonly Action<PhaseBarrier>? _postPhaseAction;

    // Written under the gate (_waiting with interlocked operations, since spinning waiters leave without it).
    // _phase and _broken are also read without the gate: by spinning waiters and the public snapshots.
    private long _phase;
    private int _remaining;
    private int _waiting;
    private bool _broken;
    private string? _brokenReason;
    private Exception? _brokenCause;
    private int _actionThreadId;

    // The controlled scheduler the barrier was created under (Locksmith.Testing), or null.
    private readonly ISchedulingController? _controller;

    /// <summary>Creates a barrier.</summary>
    /// <param name="participantCount">How many participants must arrive to complete a phase; at least 1.</param>
    /// <param name="postPhaseAction">
    /// Runs once at the end of each phase, on the last participant to arrive, before the others are released; it sees
    /// <see cref="CurrentPhase"/> as the number of the phase just completed. If it throws, the barrier breaks.
    /// It must not call <see cref="SignalAndWait()"/> or <see cref="Reset"/> on this barrier.
    /// </param>
    /// <param name="name">The name messages use; a generated one if null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="participantCount"/> is less than 1.</exception>
    public PhaseBarrier(int participantCount, Action<PhaseBarrier>? postPhaseAction = null, string? name = null)
    {
        if (participantCount < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(participantCount), participantCount, "A barrier needs at least one participant.");
        }

        ParticipantCount = participantCount;
        _controller = SchedulingHooks.Current;
        _remaining = participantCount;
        _postPhaseAction = postPhaseAction;
        Name = string.IsNullOrWhiteSpace(name) ? $"{nameof(PhaseBarrier)}#{Interlocked.Increment(ref s_nextId)}" : name;
    }

    /// <summary>The barrier's name, used in every exception message.</summary>
    public string Name { get; }

    /// <summary>How many participants complete a phase.</summary>
    public int ParticipantCount { get; }

    /// <summary>The number of the phase in progress, starting at 0 (a snapshot).</summary>
    public long CurrentPhase => Volatile.Read(ref _phase);

    /// <summary>Whether the barrier is broken and will throw <see cref="BrokenBarrierException"/> until <see cref="Reset"/> (a snapshot).</summary>
    public bool IsBroken => Volatile.Read(ref _broken);

    /// <summary>How many participants are inside <see cref="SignalAndWait()"/> waiting for the phase to end (for tests and diagnostics).</summary>
    internal int WaitingCount
    {
        get
        {
            using (GateEntry.Enter(_queue.Gate))
            {
                return _waiting;
            }
        }
    }

    /// <summary>Signals that this participant reached the end of the phase and waits, without a timeout, for the others.</summary>
    /// <exception cref="BrokenBarrierException">The barrier is, or became while waiting, broken; the message says why.</exception>
    /// <exception cref="InvalidOperationException">Called from the post-phase action.</exception>
    public void SignalAndWait() => SignalAndWaitCore(Timeout.Infinite, default);

    /// <summary>Signals that this participant reached the end of the phase and waits for the others until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="cancellationToken">Cancels the wait; cancelling breaks the barrier for every participant.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled before the phase completed; the barrier is now broken.</exception>
    /// <inheritdoc cref="SignalAndWait()"/>
    public void SignalAndWait(CancellationToken cancellationToken) => SignalAndWaitCore(Timeout.Infinite, cancellationToken);

    /// <summary>Signals that this participant reached the end of the phase and waits for the others at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever. A timeout breaks the barrier.</param>
    /// <param name="cancellationToken">Cancels the wait; cancelling breaks the barrier for every participant.</param>
    /// <returns>True when the phase completed; false when this participant timed out (the barrier is now broken).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before the phase completed; the barrier is now broken.</exception>
    /// <inheritdoc cref="SignalAndWait()"/>
    public bool SignalAndWait(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        SignalAndWaitCore(TimeoutMs(timeout), cancellationToken);

    /// <summary>Repairs a broken barrier: the broken phase starts again, with no participant arrived.</summary>
    /// <remarks>Call it only after every participant has returned from <see cref="SignalAndWait()"/> (with an exception or false).
    /// On a barrier that is not broken and has no one waiting it changes nothing.</remarks>
    /// <exception cref="InvalidOperationException">A participant is still inside <see cref="SignalAndWait()"/>, or it was called from the post-phase action.</exception>
    public void Reset()
    {
        using (GateEntry.Enter(_queue.Gate))
        {
            ThrowIfInPostPhaseAction(nameof(Reset));
            if (_waiting != 0)
            {
                ThrowHelper.ThrowBarrierResetWhileWaiting(this, _waiting);
            }

            _remaining = ParticipantCount;
            _brokenReason = null;
            _brokenCause = null;
            Volatile.Write(ref _broken, false);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Validates a timeout given to this barrier; one out of range names the barrier.</summary>
    private int TimeoutMs(TimeSpan timeout)
    {
        if (!TimeoutMath.InRange(timeout, out int ms))
        {
            ThrowHelper.ThrowTimeoutOutOfRangeFor($"phase barrier '{Name}'", timeout);
        }

        return ms;
    }

    private bool SignalAndWaitCore(int timeoutMs, CancellationToken cancellationToken)
    {
        if (_controller is { } controller && controller.ControlsCurrentThread)
        {
            return ArriveControlled(controller, timeoutMs, cancellationToken);
        }

        var node = ThreadWaitNode.Rent();
        var registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(s_nudge, node) : default;
        bool completed;
        try
        {
            completed = ArriveAndWait(node, timeoutMs, cancellationToken);
        }
        finally
        {
            // Outside the node's monitor: disposing waits for a running callback, which takes that monitor.
            registration.Dispose();
            ThreadWaitNode.Return(node);
        }

        if (!completed && cancellationToken.IsCancellationRequested)
        {
            ThrowHelper.ThrowBarrierWaitCanceled(this, CurrentPhase, cancellationToken);
        }

        return completed;
    }

    private bool ArriveAndWait(ThreadWaitNode node, int timeoutMs, CancellationToken cancellationToken)
    {
        long phase;
        using (GateEntry.Enter(_queue.Gate))
        {
            ThrowIfInPostPhaseAction(nameof(SignalAndWait));
            phase = _phase;
            if (_broken)
            {
                throw ThrowHelper.CreateBarrierAlreadyBroken(this, phase, _brokenReason!, _brokenCause);
            }

            // A participant cancelled before it arrives will never arrive: waiting for it would hang the others.
            if (cancellationToken.IsCancellationRequested)
            {
                Break($"participant thread {ThreadNames.Current()} was cancelled", null);
                return false;
            }

            if (--_remaining == 0)
            {
                CompletePhase(phase);
                return true;
            }

            Interlocked.Increment(ref _waiting);
        }

        try
        {
            // Spin briefly outside the gate first: when the others arrive within microseconds, as in a tight
            // phase loop, this saves a sleep and a wake-up (two context switches) per participant and phase.
            if (timeoutMs != 0 && SpinUntilPhaseEnds(phase))
            {
                return true;
            }

            using (GateEntry.Enter(_queue.Gate))
            {
                node.Reset(0, 0);
                try
                {
                    return WaitForPhaseEnd(node, phase, timeoutMs, cancellationToken);
                }
                catch (ThreadInterruptedException) when (_phase == phase && !_broken)
                {
                    // Interrupted while parked, it leaves as a cancelled participant does: its arrival is counted, so
                    // without the break the others (or its own next call) would complete the phase without it.
                    Break($"participant thread {ThreadNames.Current()} was interrupted", null);
                    throw;
                }
                finally
                {
                    if (node.IsQueued)
                    {
                        _queue.Remove(node);
                    }
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private bool SpinUntilPhaseEnds(long phase)
    {
        for (int i = 0; i < WaitKernel.SpinCount; i++)
        {
            if (Volatile.Read(ref _phase) != phase)
            {
                return true;
            }

            if (Volatile.Read(ref _broken))
            {
                return false;
            }

            WaitKernel.PauseForSignal(i);
        }

        return false;
    }

    private bool WaitForPhaseEnd(ThreadWaitNode node, long phase, int timeoutMs, CancellationToken cancellationToken)
    {
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        while (true)
        {
            // Tested before the broken flag: once our phase completed we passed it, even if the next one broke.
            if (_phase != phase)
            {
                return true;
            }

            if (_broken)
            {
                throw ThrowHelper.CreateBarrierBroken(this, phase, _brokenReason!, _brokenCause);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                Break($"participant thread {ThreadNames.Current()} was cancelled", null);
                return false;
            }

            int remaining = TimeoutMath.Remaining(deadline);
            if (remaining == 0)
            {
                Break($"participant thread {ThreadNames.Current()} timed out after {timeoutMs} ms", null);
                return false;
            }

            if (!node.IsQueued)
            {
                _queue.EnqueueLast(node);
            }

            WaitKernel.ParkOutside(_queue.Gate, node, deadline, cancellationToken, _controller, this);
        }
    }

    /// <summary>
    /// A controlled flow's arrival: a scheduling point, then the phase's bookkeeping as usual; a participant that is not
    /// the last gives up its turn until the phase ends (or the scheduler times its wait out).
    /// </summary>
    private bool ArriveControlled(ISchedulingController controller, int timeoutMs, CancellationToken cancellationToken)
    {
        controller.Point(SchedulingOperation.Arrive, this, Name);

        // No gate: one flow runs at a time, and a post-phase action may reach a scheduling point (a lock) where another
        // flow runs and arrives here too; holding the gate then would block that flow's thread for real.
        // Another flow's post-phase action is running (it reached a scheduling point): wait for it, as the gate would.
        while (_actionThreadId != 0 && _actionThreadId != Environment.CurrentManagedThreadId)
        {
            controller.Enlist(SchedulingOperation.Arrive, this, Name, canTimeOut: false);
            controller.Block();
        }

        ThrowIfInPostPhaseAction(nameof(SignalAndWait));
        long phase = _phase;
        if (_broken)
        {
            throw ThrowHelper.CreateBarrierAlreadyBroken(this, phase, _brokenReason!, _brokenCause);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            Break($"participant thread {ThreadNames.Current()} was cancelled", null);
            controller.Signal(this, all: true);
            ThrowHelper.ThrowBarrierWaitCanceled(this, phase, cancellationToken);
        }

        if (--_remaining == 0)
        {
            try
            {
                CompletePhase(phase);
            }
            finally
            {
                controller.Signal(this, all: true);
            }

            return true;
        }

        if (timeoutMs == 0)
        {
            Break($"participant thread {ThreadNames.Current()} timed out after 0 ms", null);
            controller.Signal(this, all: true);
            return false;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            controller.Enlist(SchedulingOperation.Arrive, this, Name, canTimeOut: timeoutMs != Timeout.Infinite);
            bool signalled = SchedulingHooks.BlockWakingOnCancel(controller, this, cancellationToken);
            if (_phase != phase)
            {
                return true;
            }

            if (_broken)
            {
                throw ThrowHelper.CreateBarrierBroken(this, phase, _brokenReason!, _brokenCause);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                // As an uncontrolled participant's: the others would wait for it for good.
                Break($"participant thread {ThreadNames.Current()} was cancelled", null);
                controller.Signal(this, all: true);
                ThrowHelper.ThrowBarrierWaitCanceled(this, phase, cancellationToken);
            }

            if (!signalled)
            {
                Break($"participant thread {ThreadNames.Current()} timed out after {timeoutMs} ms", null);
                controller.Signal(this, all: true);
            }

            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private void CompletePhase(long phase)
    {
        if (_postPhaseAction is { } action)
        {
            _actionThreadId = Environment.CurrentManagedThreadId;
            try
            {
                action(this);
            }
            catch (Exception ex)
            {
                string reason = $"its post-phase action threw {ex.GetType().Name} on thread {ThreadNames.Current()}: {ex.Message}";
                Break(reason, ex);
                throw ThrowHelper.CreateBarrierBroken(this, phase, reason, ex);
            }
            finally
            {
                _actionThreadId = 0;
            }
        }

        _remaining = ParticipantCount;
        Volatile.Write(ref _phase, phase + 1);
        // Waiters count themselves under the gate before they spin or sleep, so none is missed here.
        if (_queue.Count != 0)
        {
            _queue.WakeAll(WaitStatus.Woken);
        }
    }

    /// <summary>Under the gate: marks the phase broken and releases every waiter.</summary>
    private void Break(string reason, Exception? cause)
    {
        _brokenReason = reason;
        _brokenCause = cause;
        Volatile.Write(ref _broken, true);
        _queue.WakeAll(WaitStatus.Woken);
    }

    private void ThrowIfInPostPhaseAction(string member)
    {
        // Only the action's own thread can hold the gate while the action runs, so this catches re-entry alone.
        if (_actionThreadId != 0)
        {
            ThrowHelper.ThrowBarrierCalledFromPostPhaseAction(this, member);
        }
    }
}
