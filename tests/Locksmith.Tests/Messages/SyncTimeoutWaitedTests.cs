using System;
using System.Threading;
using Xunit;

namespace Locksmith.Tests.Messages;

/// <summary>
/// A synchronous lock's timeout gives one figure for how long the wait lasted: the <see cref="LockTimeoutEvent"/> its
/// handlers get and the <see cref="LockTimeoutException"/> thrown after them. Before, the exception read the clock again
/// once the handlers had run, so a slow handler (a log line) made the two disagree (a trial app's 25.8 ms against 39.3).
/// </summary>
public sealed class SyncTimeoutWaitedTests
{
    public static TheoryData<string> Kinds => new() { "exclusive", "reentrant", "write", "read", "semaphore" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheExceptionGivesTheWaitItsEventGave_EvenAfterASlowHandler(string kind)
    {
        using var policy = Support.PolicyScope.Capture();
        var (acquire, hold) = Make(kind);
        LockTimeoutEvent? seen = null;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            seen = e;

            // A handler that takes a while, as a logger may: the clock moves on before the exception is made.
            Thread.Sleep(5);
        };

        using var held = new ManualResetEventSlim();
        using var letGo = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            hold(() =>
            {
                held.Set();
                letGo.Wait(TimeSpan.FromMinutes(1));
            });
        })
        { IsBackground = true, Name = "holder" };
        holder.Start();
        Assert.True(held.Wait(TimeSpan.FromMinutes(1)), "the holder did not take the lock");

        LockTimeoutException ex;
        try
        {
            ex = Assert.Throws<LockTimeoutException>(() => acquire(TimeSpan.FromMilliseconds(10)));
        }
        finally
        {
            letGo.Set();
            Assert.True(holder.Join(TimeSpan.FromMinutes(1)), "the holder did not end");
        }

        Assert.NotNull(seen);
        Assert.Equal(seen.Waited, ex.Waited);
        Assert.Contains(
            $"timed out after {seen.Waited.TotalMilliseconds.ToString("0.#", System.Globalization.CultureInfo.CurrentCulture)} ms",
            ex.Message,
            StringComparison.Ordinal);
    }

    // What the kind's waiter asks for with a timeout, and what its holder runs its body under (a writer's hold for the read-write kinds).
    private static (Action<TimeSpan> Acquire, Action<Action> Hold) Make(string kind)
    {
        switch (kind)
        {
            case "exclusive":
            {
                var gate = new ExclusiveLock("waited-exclusive");
                return (t => gate.Acquire(t).Dispose(), body => { using (gate.Acquire()) { body(); } });
            }

            case "reentrant":
            {
                var gate = new ReentrantLock("waited-reentrant");
                return (t => gate.Acquire(t).Dispose(), body => { using (gate.Acquire()) { body(); } });
            }

            case "write":
            {
                var gate = new ReadWriteLock("waited-write");
                return (t => gate.AcquireWrite(t).Dispose(), body => { using (gate.AcquireWrite()) { body(); } });
            }

            case "read":
            {
                var gate = new ReadWriteLock("waited-read");
                return (t => gate.AcquireRead(t).Dispose(), body => { using (gate.AcquireWrite()) { body(); } });
            }

            default:
            {
                var pool = new CountingSemaphore(1, 1, "waited-semaphore");
                return (t => pool.Acquire(t).Dispose(), body => { using (pool.Acquire()) { body(); } });
            }
        }
    }
}
