using System;
using System.Collections.Concurrent;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Messages;

/// <summary>
/// A timeout names the holder's thread by name even when the holder never blocked on a Locksmith lock (so it has no
/// owner record): the holders here take an unordered lock on the fast path and then wait on a plain event.
/// </summary>
public sealed class HolderNameTests
{
    private static LockTimeoutException TimeoutWhileHeld(string holderName, Action<ReleaseSignal> hold, Func<bool> isHeld, Action timedAcquire)
    {
        using var holder = new HeldOnOtherThread(holderName, hold);
        holder.WaitUntilHeld(isHeld);
        Assert.Null(LockOwner.Find(holder.ThreadId));   // no owner record: the name must come from elsewhere
        var ex = Assert.Throws<LockTimeoutException>(timedAcquire);
        Assert.Equal(holder.ThreadId, ex.OwnerThreadId);
        return ex;
    }

    [Fact]
    public void ExclusiveLock_Timeout_NamesTheHolderThread()
    {
        var gate = new ExclusiveLock("named-holder-exclusive");
        var ex = TimeoutWhileHeld(
            "ledger-writer",
            release =>
            {
                using var scope = gate.Acquire();
                release.Wait();
            },
            () => gate.IsHeld,
            () => gate.Acquire(TimeSpan.FromMilliseconds(20)));

        Assert.Contains("('ledger-writer')", ex.Message);
        Assert.Equal("ledger-writer", ex.OwnerThreadName);
    }

    [Fact]
    public void ReadWriteLock_WriteHeld_Timeout_NamesTheWriterThread()
    {
        var rw = new ReadWriteLock("named-holder-rw");
        var ex = TimeoutWhileHeld(
            "price-updater",
            release =>
            {
                using var scope = rw.AcquireWrite();
                release.Wait();
            },
            () => rw.WriterThreadId != 0,
            () => rw.AcquireRead(TimeSpan.FromMilliseconds(20)));

        Assert.Contains("('price-updater')", ex.Message);

        using var holder = rw.HoldWrite("price-updater-2");
        var writeEx = Assert.Throws<LockTimeoutException>(() => rw.AcquireWrite(TimeSpan.FromMilliseconds(20)));
        Assert.Contains("('price-updater-2')", writeEx.Message);
    }

    [Fact]
    public void SpinGate_Timeout_NamesTheHolderThread()
    {
        var gate = new SpinGate("named-holder-spin");
        var ex = TimeoutWhileHeld(
            "spin-holder",
            release =>
            {
                using var scope = gate.Acquire();
                release.Wait();
            },
            () => gate.IsHeld,
            () => gate.Acquire(TimeSpan.FromMilliseconds(20)));

        Assert.Contains("('spin-holder')", ex.Message);
    }

    [Fact]
    public void TryOnce_Timeout_NamesTheHolderThread()
    {
        var gate = new ExclusiveLock("named-holder-try-once");
        var ex = TimeoutWhileHeld(
            "try-once-holder",
            release =>
            {
                using var scope = gate.Acquire();
                release.Wait();
            },
            () => gate.IsHeld,
            () => gate.Acquire(TimeSpan.Zero));

        Assert.Contains("('try-once-holder')", ex.Message);
    }

    [Fact]
    public void ThreadNamedAfterTakingTheLock_IsNamedByItsCurrentName()
    {
        var gate = new ExclusiveLock("named-late");
        using var release = new ManualResetEventSlim(false);
        var thread = new Thread(() =>
        {
            using var scope = gate.Acquire();
            Thread.CurrentThread.Name = "named-after-acquire";
            release.Wait();
        }) { IsBackground = true };
        thread.Start();
        try
        {
            // The name is read when the wait times out, not when the lock was taken.
            Guard.SpinUntil(() => gate.IsHeld && thread.Name is not null);
            var ex = Assert.Throws<LockTimeoutException>(() => gate.Acquire(TimeSpan.FromMilliseconds(20)));
            Assert.Contains("('named-after-acquire')", ex.Message);
        }
        finally
        {
            release.Set();
            thread.JoinGuarded();
        }
    }

    [Fact]
    public void TimeoutEvent_CarriesTheHolderThreadName()
    {
        using var policy = PolicyScope.Capture();
        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = events.Enqueue;
        var gate = new ExclusiveLock("named-holder-event");
        using var holder = new HeldOnOtherThread("event-holder", release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        Assert.False(gate.TryAcquire(TimeSpan.FromMilliseconds(20), out _));

        var timeout = Assert.Single(events, e => e.LockName == "named-holder-event");
        Assert.Equal(holder.ThreadId, timeout.OwnerThreadId);
        Assert.Equal("event-holder", timeout.OwnerThreadName);
    }

    [Fact]
    public void ATryOnceTimeout_NamesTheHolderItsEventNamed_EvenIfTheHolderLeftRightAfter()
    {
        // Before, the event named the holder and the exception read the owner again: a holder gone by then made it say
        // "held in a shared mode or released as the wait ended" of the same timeout.
        using var policy = PolicyScope.Capture();
        var gate = new ExclusiveLock("holder-left-after-try-once");
        using var held = new ManualResetEventSlim(false);
        using var leave = new ManualResetEventSlim(false);
        using var threadDone = new ManualResetEventSlim(false);
        int holderId = 0;
        var thread = new Thread(() =>
        {
            Volatile.Write(ref holderId, Environment.CurrentManagedThreadId);
            using (gate.Acquire())
            {
                held.Set();
                leave.Wait(Guard.HangLimit);
            }

            // The thread lives on (a thread that ended is named by id only): only the lock is gone.
            threadDone.Wait(Guard.HangLimit);
        })
        { Name = "departing-holder", IsBackground = true };
        thread.Start();
        try
        {
            Assert.True(held.Wait(Guard.HangLimit));
            var events = new ConcurrentQueue<LockTimeoutEvent>();
            LocksmithPolicy.TimeoutOccurred = e =>
            {
                events.Enqueue(e);
                if (e.LockName == gate.Name)
                {
                    // The holder leaves as the timeout is reported.
                    leave.Set();
                    Guard.SpinUntil(() => !gate.IsHeld, "the holder released the lock");
                }
            };

            var ex = Assert.Throws<LockTimeoutException>(() => gate.Acquire(TimeSpan.Zero));

            var timeout = Assert.Single(events, e => e.LockName == gate.Name);
            Assert.Equal(holderId, timeout.OwnerThreadId);
            Assert.Equal(holderId, ex.OwnerThreadId);
            Assert.Equal("departing-holder", ex.OwnerThreadName);
            Assert.Contains("held by thread", ex.Message, StringComparison.Ordinal);
            Assert.Contains("('departing-holder')", ex.Message, StringComparison.Ordinal);
            Assert.False(gate.IsHeld);
        }
        finally
        {
            leave.Set();
            threadDone.Set();
            thread.Join(Guard.HangLimit);
        }
    }

    public static TheoryData<string> WaysToTimeOut => new() { "try-once", "blocked wait", "lock set try-once", "lock set member's wait" };

    [Theory]
    [MemberData(nameof(WaysToTimeOut))]
    public void ATimeout_NamesTheHolderByTheNameItsEventGave_EvenIfTheHoldersThreadEndedRightAfter(string way)
    {
        // Before, the event named the holder's thread and the exception read its name again: a thread ended by then is
        // no longer known by name, so the exception of the same timeout named it by id only.
        using var policy = PolicyScope.Capture();
        var gate = new ExclusiveLock("holder-thread-ended-" + way);
        var other = new ExclusiveLock("free-member-" + way);   // made after: the set blocks on 'gate' first
        using var held = new ManualResetEventSlim(false);
        using var end = new ManualResetEventSlim(false);
        int holderId = 0;
        var thread = new Thread(() =>
        {
            Volatile.Write(ref holderId, Environment.CurrentManagedThreadId);
            gate.Acquire();   // never released: the thread ends holding it
            held.Set();
            end.Wait(Guard.HangLimit);
        })
        { Name = "ending-holder", IsBackground = true };
        thread.Start();
        Assert.True(held.Wait(Guard.HangLimit));

        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            events.Enqueue(e);
            if (e.LockName == gate.Name)
            {
                // The holder's thread ends as the timeout is reported.
                end.Set();
                Assert.True(thread.Join(Guard.HangLimit));
            }
        };

        var ex = Assert.Throws<LockTimeoutException>(() =>
        {
            switch (way)
            {
                case "try-once":
                    gate.Acquire(TimeSpan.Zero);
                    break;
                case "blocked wait":
                    gate.Acquire(TimeSpan.FromMilliseconds(20));
                    break;
                case "lock set try-once":
                    using (LockSet.Acquire(TimeSpan.Zero, gate, other))
                    {
                    }

                    break;
                default:
                    using (LockSet.Acquire(TimeSpan.FromMilliseconds(20), gate, other))
                    {
                    }

                    break;
            }
        });

        var timeout = Assert.Single(events, e => e.LockName == gate.Name);
        Assert.Equal("ending-holder", timeout.OwnerThreadName);
        Assert.False(thread.IsAlive);
        Assert.Equal(holderId, ex.OwnerThreadId);
        Assert.Equal("ending-holder", ex.OwnerThreadName);
        Assert.Contains($"held by thread {holderId} ('ending-holder')", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnnamedHolderThread_IsNamedByIdOnly()
    {
        var gate = new ExclusiveLock("unnamed-holder");
        using var release = new ManualResetEventSlim(false);
        int holderId = 0;
        var thread = new Thread(() =>
        {
            Volatile.Write(ref holderId, Environment.CurrentManagedThreadId);
            using var scope = gate.Acquire();
            release.Wait();
        }) { IsBackground = true };
        thread.Start();
        try
        {
            Guard.SpinUntil(() => gate.IsHeld);
            var ex = Assert.Throws<LockTimeoutException>(() => gate.Acquire(TimeSpan.FromMilliseconds(20)));
            Assert.EndsWith($"held by thread {Volatile.Read(ref holderId)}.", ex.Message);
            Assert.Null(ex.OwnerThreadName);
        }
        finally
        {
            release.Set();
            thread.JoinGuarded();
        }
    }
}
