using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Waiting;

/// <summary>
/// A <c>LongWaitOccurred</c> handler that throws when a blocked thread finally gets the lock: the acquisition fails with
/// the handler's exception, and what the wait took goes back, so the lock is free rather than held by a thread that
/// never got its scope.
/// </summary>
public sealed class ThrowingLongWaitHandlerTests
{
    public static TheoryData<string> Kinds() =>
        ["ExclusiveLock", "ReentrantLock", "SpinGate", "ReadWriteLock write", "ReadWriteLock read", "CountingSemaphore"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AThrowingLongWaitHandler_FailsTheBlockedAcquisition_AndTheLockIsFreeAfterwards(string kind)
    {
        string name = "throwing-long-wait-" + kind.Replace(' ', '-');
        var exclusive = new ExclusiveLock(name);
        var reentrant = new ReentrantLock(name);
        var gate = new SpinGate(name);
        var readWrite = new ReadWriteLock(name);
        var semaphore = new CountingSemaphore(1, 1, name);
        // Each acquisition's scope is a ref struct: taken and given back through the lock's own Release.
        (LockPrimitive Lock, Action Take, Action Give, Func<bool> IsFree) subject = kind switch
        {
            "ExclusiveLock" => (exclusive, () => exclusive.Acquire(), exclusive.Release, () => !exclusive.IsHeld),
            "ReentrantLock" => (reentrant, () => reentrant.Acquire(), reentrant.Release, () => !reentrant.IsHeld),
            "SpinGate" => (gate, () => gate.Acquire(), gate.Release, () => !gate.IsHeld),
            "ReadWriteLock write" => ((LockPrimitive)readWrite, () => readWrite.AcquireWrite(), readWrite.ReleaseWrite, () => readWrite.WriterThreadId == 0 && readWrite.CurrentReaderCount == 0),
            "ReadWriteLock read" => (readWrite, () => readWrite.AcquireRead(), readWrite.ReleaseRead, () => readWrite.WriterThreadId == 0 && readWrite.CurrentReaderCount == 0),
            _ => (semaphore, () => semaphore.Acquire(), () => semaphore.Release(), () => semaphore.CurrentCount == 1),
        };

        using var policy = PolicyScope.Capture();
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e =>
        {
            if (e.LockName == name)
            {
                throw new InvalidOperationException("long-wait handler failed for " + e.LockName);
            }
        };

        // The holder takes the write (or only) mode, so a reader blocks too.
        using var release = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        var holder = Concurrently.Start("holder", () =>
        {
            Action take = kind == "ReadWriteLock read" ? () => readWrite.AcquireWrite() : subject.Take;
            Action give = kind == "ReadWriteLock read" ? readWrite.ReleaseWrite : subject.Give;
            take();
            held.Set();
            release.Wait();
            give();
        });
        held.Wait();

        Exception? caught = null;
        var waiter = Concurrently.Start("waiter", () =>
        {
            try
            {
                subject.Take();
                subject.Give();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        try
        {
            Blocked.OnLock(subject.Lock);
        }
        finally
        {
            release.Set();
        }

        holder.JoinGuarded();
        waiter.JoinGuarded();

        var failure = Assert.IsType<InvalidOperationException>(caught);
        Assert.Equal("long-wait handler failed for " + name, failure.Message);
        LocksmithPolicy.LongWaitOccurred = null;
        Assert.True(subject.IsFree(), kind + " is still held after the failed acquisition");
        subject.Take();
        subject.Give();
    }

    /// <summary>
    /// A condition wait takes its lock back before it returns or throws, even when a throwing long-wait handler made the
    /// take-back give the lock up: it takes it again, then throws the handler's exception with the lock held.
    /// </summary>
    [Fact]
    public void AConditionWait_ThrowsTheHandlersException_WithTheLockHeld()
    {
        const string name = "throwing-long-wait-condition";
        var gate = new ExclusiveLock(name);
        var condition = new ConditionVariable(gate, name + "-cv");
        using var policy = PolicyScope.Capture();
        Exception? caught = null;
        bool heldWhenThrown = false;
        using var waiting = new ManualResetEventSlim();
        var waiter = Concurrently.Start("condition-waiter", () =>
        {
            using var scope = gate.Acquire();
            waiting.Set();
            try
            {
                condition.Wait();
            }
            catch (InvalidOperationException exception)
            {
                caught = exception;
                heldWhenThrown = gate.IsHeldByCurrentThread;
            }
        });
        waiting.Wait();

        // Taken once the waiter's Wait has queued and let go (this thread may wait for that, so the handler comes after);
        // the notified waiter then blocks on the lock to take it back.
        gate.Acquire();
        try
        {
            LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
            LocksmithPolicy.LongWaitOccurred = e =>
            {
                if (e.LockName == name && Thread.CurrentThread.Name == "condition-waiter")
                {
                    throw new InvalidOperationException("long-wait handler failed for " + e.LockName);
                }
            };
            condition.Notify();
            Blocked.OnLock(gate);
        }
        finally
        {
            gate.Release();
        }

        waiter.JoinGuarded();
        Assert.Equal("long-wait handler failed for " + name, Assert.IsType<InvalidOperationException>(caught).Message);
        Assert.True(heldWhenThrown);
        Assert.False(gate.IsHeld);
    }

    /// <summary>
    /// A semaphore filled up by others while the handler ran cannot take the failed acquisition's permit back: the
    /// excess is dropped, and the caller still sees the handler's exception, not SemaphoreFullException.
    /// </summary>
    [Fact]
    public void ASemaphoreFilledWhileTheHandlerRan_StillFailsWithTheHandlersException()
    {
        const string name = "throwing-long-wait-full-semaphore";
        var signal = new CountingSemaphore(0, 1, name);
        using var policy = PolicyScope.Capture();
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e =>
        {
            if (e.LockName == name)
            {
                // A second producer signals while the handler runs: the semaphore is full again.
                signal.Release();
                throw new InvalidOperationException("long-wait handler failed for " + e.LockName);
            }
        };

        Exception? caught = null;
        var waiter = Concurrently.Start("signal-waiter", () =>
        {
            try
            {
                signal.Acquire();
            }
            catch (Exception exception)
            {
                caught = exception;
            }
        });
        Blocked.OnLock(signal);
        signal.Release();
        waiter.JoinGuarded();

        Assert.Equal("long-wait handler failed for " + name, Assert.IsType<InvalidOperationException>(caught).Message);
        Assert.Equal(1, signal.CurrentCount);
    }
}
