using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A non-reentrant spin lock with an owner: a waiter never sleeps on a wait queue, it spins (test-and-test-and-set
/// with <see cref="SpinWait"/> back-off) until the lock is free. Acquiring it again on the owning thread throws
/// <see cref="LockRecursionException"/> at once; releasing it from another thread throws
/// <see cref="SynchronizationLockException"/>.
/// </summary>
/// <remarks>
/// <para><b>When to use it:</b> only around critical sections that take well under a microsecond (a few field
/// updates, a small array write). The break-even against a sleeping lock such as <see cref="ExclusiveLock"/> is
/// about 1 µs: putting a thread to sleep and waking it again (a context switch) costs more than that, so for
/// shorter sections spinning wastes less than it saves.</para>
/// <para><b>When not to use it:</b> never around I/O, blocking calls (waits, other locks, <c>Task.Result</c>),
/// allocation-heavy code (a garbage collection stops the holder while others spin), or anything whose length you
/// do not control. On a machine with few cores, a holder that the scheduler preempts makes every waiter spin
/// through a whole time slice; the back-off yields and finally sleeps to let it run, but an <see cref="ExclusiveLock"/>
/// is the better choice whenever holders can be preempted often. When in doubt, use <see cref="ExclusiveLock"/>.</para>
/// <para>Use <c>using var scope = gate.Acquire();</c>, not the C# <c>lock</c> statement (that takes a
/// <see cref="Monitor"/> on the object). The gate is unfair: no FIFO order among spinners.</para>
/// </remarks>
public sealed class SpinGate : LockPrimitive, IExclusiveAccessLock, IThreadAffineLock, ILockSetMember
{
    // Spins between checks of the clock and the token while waiting; the clock is not read on every spin.
    private const int CheckInterval = 8;

    // SpinWait count from which each spin sleeps 1 ms, so a preempted holder gets a core (as SpinLock does).
    private const int Sleep1Threshold = 40;

    // The owner's managed thread id, 0 when free: taking the lock and recording its owner is one CAS.
    private int _ownerThreadId;

    /// <summary>Creates an unordered gate with a generated name.</summary>
    /// <remarks>
    /// Kept for <c>new()</c> constraints and reflection. Source code that writes <c>new SpinGate()</c> binds to
    /// <see cref="SpinGate(string, int?, string, string, int)"/> instead, whose generated name tells where the gate was created.
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(-1)]
    public SpinGate()
        : this(null, null, string.Empty, string.Empty, 0)
    {
    }

    /// <summary>Creates a gate.</summary>
    /// <param name="name">
    /// The name messages and metrics use. If null, one is generated from the type, a process-unique id and where the
    /// gate was created, e.g. <c>SpinGate#44 (_gate, Pool.cs:12)</c> for a field initializer; a generated name gives way
    /// to the member name a <c>[Guarded]</c> wrapper declares.
    /// </param>
    /// <param name="level">The gate's level in the global lock order, or null for an unordered gate.</param>
    /// <param name="memberName">Filled in by the compiler (the creating member; a field's name in its initializer). Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler; only the file's name is used. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    public SpinGate(
        string? name = null,
        int? level = null,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : base(name, level, LockKind.Spin, memberName, sourceFilePath, sourceLineNumber)
    {
    }

    /// <summary>Whether any thread holds the gate (a snapshot).</summary>
    public bool IsHeld => Volatile.Read(ref _ownerThreadId) != 0;

    /// <summary>Whether the current thread holds the gate.</summary>
    public bool IsHeldByCurrentThread => Volatile.Read(ref _ownerThreadId) == CurrentThreadId.Value;

    /// <summary>The managed thread id of the owner, or 0 when the gate is free (a snapshot).</summary>
    public int OwnerThreadId => Volatile.Read(ref _ownerThreadId);

    internal override int ExclusiveOwnerId => OwnerThreadId;

    internal override void GiveBackAfterListenerFault(string modeTag, int permits) => Release();

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        Enter(timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);

    internal override void ExitForSet() => Release();

    /// <summary>Acquires the gate, spinning up to <see cref="LocksmithPolicy.DefaultTimeout"/> (forever by default).</summary>
    /// <returns>A scope whose <c>Dispose</c> releases the gate.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the gate.</exception>
    /// <exception cref="LockTimeoutException">The default timeout elapsed.</exception>
    /// <exception cref="LockOrderViolationException">Acquiring would break the global lock order.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Scope Acquire()
    {
        Enter(TimeoutMathDefaults.UseDefault, default, throwOnTimeout: true, checkOrder: true);
        return new Scope(this);
    }

    /// <summary>Acquires the gate, spinning until <paramref name="cancellationToken"/> is cancelled or the default timeout elapses.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the gate is not acquired.</exception>
    /// <inheritdoc cref="Acquire()"/>
    public Scope Acquire(CancellationToken cancellationToken)
    {
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Exclusive);
        Enter(TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this);
    }

    /// <summary>Acquires the gate, spinning at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to spin; <see cref="Timeout.InfiniteTimeSpan"/> spins until the gate is free.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="LockTimeoutException">The timeout elapsed; the message names the gate, its owner and the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the gate is not acquired.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="Acquire()"/>
    public Scope Acquire(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Exclusive);
        Enter(timeoutMs, cancellationToken, throwOnTimeout: true, checkOrder: true);
        return new Scope(this);
    }

    /// <summary>Acquires the gate if it is free right now.</summary>
    /// <param name="scope">The scope to dispose when the gate was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the gate was acquired.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the gate.</exception>
    public bool TryAcquire(out Scope scope) => TryAcquire(TimeSpan.Zero, default, out scope);

    /// <summary>Acquires the gate, spinning at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to spin; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> spins until free.</param>
    /// <param name="scope">The scope to dispose when the gate was acquired; a no-op scope otherwise.</param>
    /// <returns>Whether the gate was acquired before the timeout.</returns>
    /// <exception cref="LockRecursionException">The current thread already holds the gate.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public bool TryAcquire(TimeSpan timeout, out Scope scope) => TryAcquire(timeout, default, out scope);

    /// <summary>Acquires the gate, spinning at most <paramref name="timeout"/> or until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the gate is not acquired.</exception>
    /// <inheritdoc cref="TryAcquire(TimeSpan, out Scope)"/>
    public bool TryAcquire(TimeSpan timeout, CancellationToken cancellationToken, out Scope scope)
    {
        int timeoutMs = TimeoutMath.ToMilliseconds(timeout, this);
        ThrowIfCanceledBeforeAcquiring(cancellationToken, LockMode.Exclusive);
        bool acquired = Enter(timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: true);
        scope = acquired ? new Scope(this) : default;
        return acquired;
    }

    /// <summary>Releases the gate. Prefer disposing the scope <see cref="Acquire()"/> returned.</summary>
    /// <exception cref="SynchronizationLockException">The current thread does not hold the gate.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Release()
    {
        // A plain read suffices: only the owner can find its own id here, and it wrote that id itself.
        if (_ownerThreadId != CurrentThreadId.Value)
        {
            ThrowHelper.ThrowNotOwner(this, OwnerThreadId);
        }

        if (OffFastPath)
        {
            ReleaseOffFast();
            return;
        }

        if (HoldStart != 0)
        {
            ReleaseTimed();
            return;
        }

        Volatile.Write(ref _ownerThreadId, 0);
    }

    /// <summary>The release of an ordered or controlled gate: off the held stack, freed, then a scheduling point.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseOffFast()
    {
        if (IsOrdered)
        {
            ReleasedOrdered();
        }

        try
        {
            if (HoldStart != 0)
            {
                ReleaseTimed();
            }
            else
            {
                Volatile.Write(ref _ownerThreadId, 0);
            }
        }
        finally
        {
            // Even if a hold-duration listener threw (after the gate was freed): its blocked flows must run again.
            if (Controller is not null)
            {
                ScheduleRelease();
            }
        }
    }

    /// <summary>The release of a hold that a <c>locksmith.lock.hold.duration</c> listener times; the caller owns the gate.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseTimed()
    {
        long holdStart = TakeHoldStart();
        Volatile.Write(ref _ownerThreadId, 0);
        LocksmithMetrics.RecordHold(this, LockModeTags.Exclusive, holdStart);
    }

    /// <summary>The one inlined acquire path: order check, one compare-and-swap, and the spin on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Enter(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        // Ordered gates take a separate path, so the unordered one inlines without spilling registers.
        if (OffFastPath)
        {
            return EnterOrdered(timeoutMs, cancellationToken, throwOnTimeout, checkOrder);
        }

        int threadId = CurrentThreadId.Value;
        if (Interlocked.CompareExchange(ref _ownerThreadId, threadId, 0) != 0 &&
            !EnterContended(threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterOrdered(int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout, bool checkOrder)
    {
        if (Controller is not null)
        {
            ScheduleAcquire();
            if (!IsOrdered)
            {
                int id = CurrentThreadId.Value;
                if (Interlocked.CompareExchange(ref _ownerThreadId, id, 0) != 0 && !EnterContended(id, timeoutMs, cancellationToken, throwOnTimeout))
                {
                    return false;
                }

                LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
                return true;
            }
        }

        var owner = checkOrder ? OrderGuard.Check(this) : LockOwner.Current;
        int threadId = owner.OwnerId;
        if (Interlocked.CompareExchange(ref _ownerThreadId, threadId, 0) != 0 &&
            !EnterContended(threadId, timeoutMs, cancellationToken, throwOnTimeout))
        {
            return false;
        }

        owner.Held.Push(this);
        LocksmithMetrics.RecordOwnedAcquisition(this, LockModeTags.Exclusive);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleasedOrdered() => OrderGuard.Released(this);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterContended(int threadId, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        if (Volatile.Read(ref _ownerThreadId) == threadId)
        {
            ThrowHelper.ThrowRecursion(this, "Release it before acquiring it again; a spin gate guards only short, non-nested critical sections.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            ThrowHelper.ThrowWaitCanceled(this, LockMode.Exclusive, 0, cancellationToken);
        }
        timeoutMs = WaitKernel.ResolveTimeout(timeoutMs);

        if (timeoutMs == 0)
        {
            return TryTakeFree(threadId) ||
                BlockedWait.FailedWithoutWaiting(this, LockMode.Exclusive, LockModeTags.Exclusive, OwnerThreadId, throwOnTimeout);
        }

        if (IsControlledHere)
        {
            // A controlled flow must not spin: the holder cannot run until it gives up its turn.
            while (!TryTakeFree(threadId))
            {
                if (!WaitControlled(timeoutMs, cancellationToken))
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        ThrowHelper.ThrowWaitCanceled(this, LockMode.Exclusive, 0, cancellationToken);
                    }

                    return BlockedWait.FailedWithoutWaiting(this, LockMode.Exclusive, LockModeTags.Exclusive, OwnerThreadId, throwOnTimeout, timeoutMs);
                }
            }

            return true;
        }

        // A first round of spins with no bookkeeping at all: most sub-microsecond holders leave within it.
        var spinner = new SpinWait();
        for (int i = 0; i < CheckInterval; i++)
        {
            spinner.SpinOnce(Sleep1Threshold);
            if (TryTakeFree(threadId))
            {
                return true;
            }
        }

        return SpinUntilFree(threadId, ref spinner, timeoutMs, cancellationToken, throwOnTimeout);
    }

    /// <summary>
    /// The long spin: registered as a wait (for the deadlock detector and the wait metrics), checking the token and
    /// the clock every <see cref="CheckInterval"/> spins, and before every 1 ms sleep.
    /// </summary>
    private bool SpinUntilFree(int threadId, ref SpinWait spinner, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        // The first round took microseconds, far below the clock's millisecond resolution: the deadline starts here.
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);

        // The spin polls the token itself, so no cancellation callback is registered and the gate object is unused.
        var wait = BlockedWait.Begin(this, LockMode.Exclusive, LockModeTags.Exclusive, node: null, default);
        bool acquired = false;
        try
        {
            for (int spins = 0; ; spins++)
            {
                if ((spins % CheckInterval == 0 || spinner.Count >= Sleep1Threshold) &&
                    (cancellationToken.IsCancellationRequested || TimeoutMath.Remaining(deadline) == 0))
                {
                    break;
                }

                spinner.SpinOnce(Sleep1Threshold);
                if (TryTakeFree(threadId))
                {
                    acquired = true;
                    break;
                }
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
                // A long-wait handler threw: its exception is the acquisition's, and the gate goes back.
                Volatile.Write(ref _ownerThreadId, 0);
                if (Controller is not null)
                {
                    ScheduleRelease();
                }

                throw;
            }
        }

        if (!acquired)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                ThrowHelper.ThrowWaitCanceled(this, LockMode.Exclusive, 0, cancellationToken);
            }

            int ownerThreadId = OwnerThreadId;
            wait.TimedOut(ownerThreadId, ThreadNames.NameOf(ownerThreadId), throwOnTimeout);
        }

        return acquired;
    }

    /// <summary>Test, then test-and-set: spinning on a plain read keeps the cache line shared until it is worth a CAS.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryTakeFree(int threadId) =>
        Volatile.Read(ref _ownerThreadId) == 0 && Interlocked.CompareExchange(ref _ownerThreadId, threadId, 0) == 0;

    /// <summary>
    /// An acquired <see cref="SpinGate"/>; disposing it releases the gate. Allocation-free; disposing twice is harmless.
    /// </summary>
    public ref struct Scope
    {
        private SpinGate? _gate;

        internal Scope(SpinGate gate) => _gate = gate;

        /// <summary>Whether this scope holds the gate (false for the scope of a failed <c>TryAcquire</c>).</summary>
        public readonly bool IsAcquired => _gate is not null;

        /// <summary>Releases the gate, once.</summary>
        /// <exception cref="SynchronizationLockException">Disposed on a thread that does not hold the gate.</exception>
        public void Dispose()
        {
            var gate = _gate;
            if (gate is not null)
            {
                _gate = null;
                gate.Release();
            }
        }
    }
}
