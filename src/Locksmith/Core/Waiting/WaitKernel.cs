using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The one slow path every queued primitive shares: the default timeout, the brief pre-wait spin, the try-once
/// failure, and the blocked wait (wait-for registration, queue, park, cancellation, timeout report).
/// </summary>
/// <remarks>
/// <para>Primitives keep their own inlined fast paths; on contention they hand the kernel a protocol
/// (<see cref="IWaitProtocol"/>) that knows their state word. The kernel knows nothing of any primitive.</para>
/// <para>Waking is wake-and-retry or hand-off, as the protocol chooses: a woken waiter calls
/// <see cref="IWaitProtocol.TryAcquireOrQueue"/> again; a granted one finds the resource already its own.</para>
/// </remarks>
internal static class WaitKernel
{
    /// <summary>
    /// Spins before sleeping: most critical sections end within it, and sleeping costs microseconds. The first
    /// <see cref="PauseSteps"/> steps pause on the core with exponential back-off; the rest yield it, so on an
    /// oversubscribed machine a preempted holder gets to run instead of being kept off the core by its waiters.
    /// </summary>
    public const int SpinCount = 30;

    /// <summary>For tests: called before each yielding step of the pre-wait spin (one that a busy machine may make long).</summary>
    internal static Action? YieldStepForTests;

    /// <summary>The steps of the spin that pause on the core before the spin starts yielding.</summary>
    public const int PauseSteps = 10;

    /// <summary>Resolves <see cref="TimeoutMathDefaults.UseDefault"/> to the policy's default timeout, in milliseconds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ResolveTimeout(int timeoutMs) =>
        timeoutMs == TimeoutMathDefaults.UseDefault ? LocksmithPolicy.DefaultTimeoutMilliseconds : timeoutMs;

    /// <summary>
    /// A bounded spin of lock-free attempts (see <see cref="SpinCount"/>) that stops at <paramref name="deadline"/>
    /// (<see cref="Environment.TickCount64"/> ms; long.MaxValue for none): on a loaded machine each yield may cost a
    /// scheduler time slice, and a timed wait must not spend its whole timeout, or more, before it starts.
    /// </summary>
    public static bool Spin<TProtocol>(scoped ref TProtocol protocol, long deadline = long.MaxValue)
        where TProtocol : IWaitProtocol, allows ref struct
    {
        protocol.BeginSpin();
        try
        {
            for (int i = 0; i < SpinCount; i++)
            {
                if (i >= PauseSteps)
                {
                    if (deadline != long.MaxValue && Environment.TickCount64 >= deadline)
                    {
                        return false;
                    }

                    YieldStepForTests?.Invoke();
                }

                Pause(i);
                if (protocol.TryAcquire())
                {
                    return true;
                }
            }

            return false;
        }
        finally
        {
            protocol.EndSpin();
        }
    }

    /// <summary>
    /// One step of the pre-wait spin: exponential back-off in normalized pauses (tens of ns each) capped at about
    /// two microseconds, then, from step <paramref name="pauseSteps"/> on, a yield of the core.
    /// </summary>
    public static void Pause(int iteration, int pauseSteps = PauseSteps)
    {
        if (iteration < pauseSteps)
        {
            Thread.SpinWait(Math.Min(1 << iteration, 64));
        }
        else
        {
            Thread.Yield();
        }
    }

    /// <summary>
    /// One step of a spin that waits for a signal rather than a lock (a barrier's phase): twice as many steps on the
    /// core before yielding, since the others usually arrive within microseconds and a yield or a park then costs
    /// more than the wait (measured: 0.93× <c>Barrier</c> with two threads, against 1.25× with the lock's spin).
    /// </summary>
    public static void PauseForSignal(int iteration) => Pause(iteration, 2 * PauseSteps);

    /// <summary>
    /// Sleeps on <paramref name="node"/> with <paramref name="gate"/> released, and takes the gate back. True when a
    /// waker changed the node's status; false when the deadline passed or the token was cancelled with nothing
    /// handed over (a wake that raced with either still counts as a wake, so a hand-over is never dropped).
    /// <paramref name="waitedFor"/>: the lock the node waits for, whose controlled scheduler (if any) hears of the park.
    /// </summary>
    public static bool ParkOutside(Lock gate, ThreadWaitNode node, long deadline, CancellationToken cancellationToken, LockPrimitive? waitedFor = null) =>
        ParkOutside(gate, node, deadline, cancellationToken, waitedFor?.Controller, waitedFor);

    /// <summary>
    /// <see cref="ParkOutside(Lock, ThreadWaitNode, long, CancellationToken, LockPrimitive?)"/> for any primitive:
    /// <paramref name="controller"/> (the primitive's controlled scheduler, or null) hears of the park on <paramref name="waitedFor"/>.
    /// </summary>
    public static bool ParkOutside(
        Lock gate, ThreadWaitNode node, long deadline, CancellationToken cancellationToken, ISchedulingController? controller, object? waitedFor)
    {
        GateEntry.Exit(gate);
        try
        {
            if (controller is not null)
            {
                TellOutsidePark(controller, waitedFor!, node, deadline, cancellationToken);
            }

            node.Park(deadline, cancellationToken);
        }
        finally
        {
            GateEntry.EnterUnscoped(gate);
        }

        return node.Status != WaitStatus.Waiting;
    }

    /// <summary>
    /// Tells <paramref name="controller"/> that the calling thread is about to park <paramref name="node"/> on
    /// <paramref name="waitedFor"/> until <paramref name="deadline"/> or a cancellation. Only a thread outside a controlled
    /// run parks on a controlled primitive (a flow waits for its turn instead); its scheduler may be waiting for what this
    /// thread holds or would take: told now, not after its idle period. Called with no gate held.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void TellOutsidePark(ISchedulingController controller, object waitedFor, ThreadWaitNode node, long deadline, CancellationToken cancellationToken) =>
        controller.OutsideWaiterParks(waitedFor, deadline != long.MaxValue || cancellationToken.CanBeCanceled, node);

    /// <summary>
    /// Tells <paramref name="controller"/> that an async flow it does not run queued <paramref name="node"/> on
    /// <paramref name="waitedFor"/> with <paramref name="timeoutMs"/> (resolved) and <paramref name="cancellationToken"/>. A
    /// flow of the run waits for its turn instead, so only code outside the run queues on a controlled lock; its scheduler
    /// may be waiting for what that flow holds: told now, not after its idle period. Called after the node is armed, with no
    /// gate held.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void TellOutsideQueued(ISchedulingController controller, LockPrimitive waitedFor, AsyncWaitNode node, int timeoutMs, CancellationToken cancellationToken) =>
        controller.OutsideAsyncWaiterQueued(waitedFor, timeoutMs != Timeout.Infinite || cancellationToken.CanBeCanceled, node);

    private static bool SpinOutside<TProtocol>(Lock gate, scoped ref TProtocol protocol, long deadline)
        where TProtocol : IWaitProtocol, allows ref struct
    {
        GateEntry.Exit(gate);
        try
        {
            return Spin(ref protocol, deadline);
        }
        finally
        {
            GateEntry.EnterUnscoped(gate);
        }
    }

    /// <summary>
    /// The contended acquisition after a failed fast path: cancellation check, default timeout, spin, then (unless
    /// the timeout is zero) the blocked wait. Returns false on timeout unless <paramref name="throwOnTimeout"/>.
    /// </summary>
    public static bool Acquire<TProtocol>(
        scoped ref TProtocol protocol, ref WaitQueue queue, LockPrimitive lockPrimitive, LockMode mode, string modeTag,
        int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
        where TProtocol : IWaitProtocol, allows ref struct
    {
        if (cancellationToken.IsCancellationRequested)
        {
            protocol.GiveUp();
            ThrowHelper.ThrowWaitCanceled(lockPrimitive, mode, protocol.Permits, cancellationToken);
        }

        timeoutMs = ResolveTimeout(timeoutMs);
        if (lockPrimitive.IsControlledHere)
        {
            return AcquireControlled(ref protocol, lockPrimitive, mode, modeTag, timeoutMs, cancellationToken, throwOnTimeout);
        }

        // A timed wait counts from the call, spin included: its deadline and the clock its message reads start here.
        long start = timeoutMs > 0 ? Stopwatch.GetTimestamp() : 0;
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        if (timeoutMs != 0 && Spin(ref protocol, deadline))
        {
            return true;
        }

        if (protocol.TryAcquire())
        {
            return true;
        }

        if (timeoutMs == 0)
        {
            protocol.GiveUp();
            return FailedWithoutWaiting(ref protocol, lockPrimitive, mode, modeTag, throwOnTimeout);
        }

        // Past its deadline already (the spin ran long): the wait queues and gives up at once, reported as any timeout.
        return Block(ref protocol, ref queue, lockPrimitive, mode, modeTag, deadline, start, cancellationToken, throwOnTimeout);
    }

    /// <summary>
    /// The wait of a flow under a controlled scheduler: its thread never parks here. It tries, and while the resource is
    /// taken it hands its turn to the scheduler until a release on this lock (or the scheduler's choice of a timeout).
    /// </summary>
    private static bool AcquireControlled<TProtocol>(
        scoped ref TProtocol protocol, LockPrimitive lockPrimitive, LockMode mode, string modeTag,
        int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
        where TProtocol : IWaitProtocol, allows ref struct
    {
        while (!protocol.TryAcquire())
        {
            if (lockPrimitive.WaitControlled(timeoutMs, cancellationToken))
            {
                continue;
            }

            protocol.GiveUp();
            if (cancellationToken.IsCancellationRequested)
            {
                ThrowHelper.ThrowWaitCanceled(lockPrimitive, mode, protocol.Permits, cancellationToken);
            }

            return FailedWithoutWaiting(ref protocol, lockPrimitive, mode, modeTag, throwOnTimeout, timeoutMs);
        }

        return true;
    }

    /// <summary>
    /// A try-once that found the resource taken, or a controlled wait the scheduler timed out (<paramref name="timeoutMs"/>,
    /// the time it stood for): reported and thrown like any timeout when the caller throws.
    /// </summary>
    public static bool FailedWithoutWaiting<TProtocol>(
        scoped ref TProtocol protocol, LockPrimitive lockPrimitive, LockMode mode, string modeTag, bool throwOnTimeout, int timeoutMs = 0)
        where TProtocol : IWaitProtocol, allows ref struct
    {
        if (throwOnTimeout)
        {
            // One read of the holder for the event and the exception: they name the same one.
            // Its name too: a holder whose thread ends during the event's handler keeps the name the event gave it.
            int ownerThreadId = protocol.OwnerId;
            string? ownerThreadName = ThreadNames.NameOf(ownerThreadId);
            BlockedWait.ReportFailedWithoutWaiting(lockPrimitive, mode, modeTag, ownerThreadId, ownerThreadName, timeoutMs, protocol.GaveUpState);
            protocol.ThrowTimeout(TimeSpan.FromMilliseconds(timeoutMs), ownerThreadId, ownerThreadName);
        }

        return false;
    }

    /// <summary>
    /// For tests: called on a thread that parked in <see cref="Block"/> and then took what it waited for, with no gate held
    /// and before its wait ends (its record still reads as waiting, and a node queued again to retry reads as not woken).
    /// </summary>
    internal static Action<LockPrimitive>? TookAfterParkForTests;

    /// <summary>
    /// The blocked wait: queue a node, park until woken, retry; on timeout or cancellation leave the queue. The
    /// gate is held only to try-or-queue and to leave, never while parked. <paramref name="deadline"/> and
    /// <paramref name="start"/> (a <see cref="Stopwatch"/> timestamp, 0 for now) were taken when the call began.
    /// </summary>
    public static bool Block<TProtocol>(
        scoped ref TProtocol protocol, ref WaitQueue queue, LockPrimitive lockPrimitive, LockMode mode, string modeTag,
        long deadline, long start, CancellationToken cancellationToken, bool throwOnTimeout)
        where TProtocol : IWaitProtocol, allows ref struct
    {
        var gate = queue.Gate;
        var node = ThreadWaitNode.Rent();
        BlockedWait wait;
        try
        {
            wait = BlockedWait.Begin(lockPrimitive, mode, modeTag, node, cancellationToken, start);
        }
        catch
        {
            // A contention counter that threw: the wait never began, and the thread keeps its node for the next one.
            ThreadWaitNode.Return(node);
            throw;
        }

        bool acquired = false;
        bool parked = false;
        try
        {
            // Reset after Begin: its metric callbacks may run user code that waits too (on a node of its own).
            node.Reset(0, 0);
            GateEntry.EnterUnscoped(gate);
            try
            {
                while (true)
                {
                    if (protocol.TryAcquireOrQueue(node))
                    {
                        acquired = true;
                        break;
                    }

                    parked = true;
                    if (!ParkOutside(gate, node, deadline, cancellationToken, lockPrimitive))
                    {
                        break;
                    }

                    // Woken to retry: spin first, as a newcomer would. Meanwhile releasers wake nobody else, so
                    // a busy lock costs its holder no wake-ups while the woken waiter looks for its chance.
                    if (protocol.SpinsAfterWake && node.Status == WaitStatus.Woken && SpinOutside(gate, ref protocol, deadline))
                    {
                        protocol.TookAfterWake();
                        acquired = true;
                        break;
                    }
                }
            }
            finally
            {
                // A timeout, a cancellation, or an exception while parked (an interrupted thread): leave the queue, or
                // pass on a wake or hand-off the node received and will not use.
                if (!acquired)
                {
                    protocol.Abandon(node);
                }

                GateEntry.Exit(gate);
            }

            if (acquired && parked && TookAfterParkForTests is { } took)
            {
                took(lockPrimitive);
            }
        }
        finally
        {
            try
            {
                wait.End(acquired);
            }
            catch when (acquired)
            {
                // A long-wait handler threw: its exception is the acquisition's, and what the wait took goes back.
                protocol.Undo();
                throw;
            }
            finally
            {
                ThreadWaitNode.Return(node);
            }
        }

        if (!acquired)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                ThrowHelper.ThrowWaitCanceled(lockPrimitive, mode, protocol.Permits, cancellationToken);
            }

            // One read of the holder for the event and the exception: they name the same one.
            // Its name too: a holder whose thread ends during the event's handler keeps the name the event gave it.
            int ownerThreadId = protocol.OwnerId;
            string? ownerThreadName = ThreadNames.NameOf(ownerThreadId);
            // The event's figure, not the clock read again after its handlers ran.
            var waited = wait.TimedOut(ownerThreadId, ownerThreadName, throwOnTimeout: false, protocol.GaveUpState);
            if (throwOnTimeout)
            {
                protocol.ThrowTimeout(waited, ownerThreadId, ownerThreadName);
            }
        }

        return acquired;
    }
}
