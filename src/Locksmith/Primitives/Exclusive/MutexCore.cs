using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The owned-mutex engine behind <see cref="ExclusiveLock"/> and <see cref="ReentrantLock"/>: the owner's thread id
/// as the lock word, a waiter count, and the slow path (brief spin, then park on a lazily created monitor).
/// </summary>
/// <remarks>
/// The owner's id is the state: taking the lock and recording its owner is one CAS, and the release's CAS from the
/// caller's id back to 0 is also its ownership check. Waiters are counted apart so the fast paths never see them;
/// a waiter counts itself before re-testing the owner and a releaser reads the count after its CAS — both full
/// fences — so one of them always sees the other and no wake-up is lost. The lock is unfair: a thread arriving
/// while it is free may take it ahead of a sleeping waiter, which keeps the hand-over cheap (no convoy).
/// </remarks>
internal struct MutexCore
{
    private const int SpinCount = 24;

    private int _owner;
    private int _waiters;
    private object? _gate;

    /// <summary>The owner's managed thread id, or 0 when free (a snapshot).</summary>
    public int Owner => Volatile.Read(ref _owner);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnterFast(int threadId) => Interlocked.CompareExchange(ref _owner, threadId, 0) == 0;

    /// <summary>Frees the lock if <paramref name="threadId"/> owns it; false (and nothing changed) otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryExit(int threadId)
    {
        if (Interlocked.CompareExchange(ref _owner, 0, threadId) != threadId)
        {
            return false;
        }

        if (Volatile.Read(ref _waiters) != 0)
        {
            WakeOneWaiter();
        }

        return true;
    }

    /// <summary>The slow path after a failed fast CAS: spin briefly, then sleep until released, timed out or cancelled.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EnterContended(LockPrimitive lockPrimitive, int threadId, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (timeoutMs == TimeoutMathDefaults.UseDefault)
        {
            timeoutMs = TimeoutMath.ToMilliseconds(LocksmithPolicy.DefaultTimeout);
        }

        // Brief test-and-test-and-set spin: most critical sections end within it, and sleeping costs microseconds.
        var spinner = new SpinWait();
        for (int i = 0; i < SpinCount && timeoutMs != 0; i++)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (TryTakeFree(threadId))
            {
                return true;
            }
        }

        if (TryTakeFree(threadId))
        {
            return true;
        }

        return timeoutMs == 0
            ? BlockedWait.FailedWithoutWaiting(lockPrimitive, LockMode.Exclusive, LockModeTags.Exclusive, Owner, throwOnTimeout)
            : WaitForRelease(lockPrimitive, threadId, timeoutMs, cancellationToken, throwOnTimeout);
    }

    // Test, then test-and-set: spinning on a plain read keeps the cache line shared until the lock looks free.
    private bool TryTakeFree(int threadId) =>
        Volatile.Read(ref _owner) == 0 && Interlocked.CompareExchange(ref _owner, threadId, 0) == 0;

    private bool WaitForRelease(LockPrimitive lockPrimitive, int threadId, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        object gate = _gate ?? EnsureGate();
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        var wait = BlockedWait.Begin(lockPrimitive, LockMode.Exclusive, LockModeTags.Exclusive, gate, cancellationToken);
        bool acquired = false;
        try
        {
            Interlocked.Increment(ref _waiters);
            lock (gate)
            {
                while (true)
                {
                    if (TryTakeFree(threadId))
                    {
                        Interlocked.Decrement(ref _waiters);
                        acquired = true;
                        break;
                    }

                    int remaining = TimeoutMath.Remaining(deadline);
                    if (remaining == 0 || cancellationToken.IsCancellationRequested)
                    {
                        Interlocked.Decrement(ref _waiters);
                        // We may have swallowed the releaser's pulse: pass it on so no other waiter is stranded.
                        Monitor.Pulse(gate);
                        break;
                    }

                    Monitor.Wait(gate, remaining);
                }
            }
        }
        finally
        {
            wait.End(acquired);
        }

        if (!acquired)
        {
            cancellationToken.ThrowIfCancellationRequested();
            wait.TimedOut(Owner, throwOnTimeout);
        }

        return acquired;
    }

    private object EnsureGate()
    {
        Interlocked.CompareExchange(ref _gate, new object(), null);
        return _gate!;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeOneWaiter()
    {
        object? gate = Volatile.Read(ref _gate);
        Debug.Assert(gate is not null, "A waiter counts itself only after creating the gate.");
        lock (gate)
        {
            Monitor.Pulse(gate);
        }
    }
}
