using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Waiting;

/// <summary>
/// A timed sync wait counts from the call: its pre-wait spin stops at the deadline. On a loaded machine each yielding
/// step of the spin may cost a scheduler time slice; a hook makes every step of this thread's spin that long (30 ms)
/// and counts them, so the test needs no clock: a 50 ms wait may take two such steps, not the spin's twenty.
/// </summary>
public sealed class TimedWaitSpinDeadlineTests
{
    private const int StepMs = 30;
    private const int TimeoutMs = 50;

    [Fact]
    public void ExclusiveLock_TimedAcquire_StopsSpinningAtItsDeadline() =>
        AssertSpinStopsAtDeadline(new ExclusiveLock("spin-deadline-exclusive"), (l, inside) => { using (l.Acquire()) { inside(); } }, l => l.Acquire(TimeSpan.FromMilliseconds(TimeoutMs)).Dispose());

    [Fact]
    public void ReadWriteLock_TimedRead_StopsSpinningAtItsDeadline() =>
        AssertSpinStopsAtDeadline(new ReadWriteLock("spin-deadline-rw"), (l, inside) => { using (l.AcquireWrite()) { inside(); } }, l => l.AcquireRead(TimeSpan.FromMilliseconds(TimeoutMs)).Dispose());

    [Fact]
    public void CountingSemaphore_TimedAcquire_StopsSpinningAtItsDeadline() =>
        AssertSpinStopsAtDeadline(new CountingSemaphore(1, 1, "spin-deadline-semaphore"), (s, inside) => { using (s.Acquire()) { inside(); } }, s => s.Acquire(TimeSpan.FromMilliseconds(TimeoutMs)).Dispose());

    private static void AssertSpinStopsAtDeadline<TLock>(TLock primitive, Action<TLock, Action> holdWhile, Action<TLock> timedWait)
        where TLock : LockPrimitive
    {
        string name = primitive.Name;
        using var held = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            holdWhile(primitive, () =>
            {
                held.Set();
                done.Wait(Guard.HangLimit);
            });
        }) { IsBackground = true, Name = "spin-deadline-holder" };
        holder.Start();
        Assert.True(held.Wait(Guard.HangLimit));

        var waiter = Thread.CurrentThread;
        int steps = 0;
        Action step = () =>
        {
            if (Thread.CurrentThread == waiter)
            {
                steps++;
                Thread.Sleep(StepMs);
            }
        };

        WaitKernel.YieldStepForTests += step;
        try
        {
            var error = Assert.Throws<LockTimeoutException>(() => timedWait(primitive));
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            WaitKernel.YieldStepForTests -= step;
            done.Set();
            Assert.True(holder.Join(Guard.HangLimit));
        }

        // Two 30 ms steps pass a 50 ms deadline; a third may start if the coarse tick lags (none if the thread was
        // descheduled past the deadline before the first). Before: all twenty.
        Assert.True(steps <= 3, $"The spin took {steps} yielding steps of {StepMs} ms for a {TimeoutMs} ms wait.");
    }
}
