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
        Blocked.OnLock(subject.Lock);
        release.Set();
        holder.JoinGuarded();
        waiter.JoinGuarded();

        var failure = Assert.IsType<InvalidOperationException>(caught);
        Assert.Equal("long-wait handler failed for " + name, failure.Message);
        LocksmithPolicy.LongWaitOccurred = null;
        Assert.True(subject.IsFree(), kind + " is still held after the failed acquisition");
        subject.Take();
        subject.Give();
    }
}
