using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using Locksmith.Tests.Metrics;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Composite;

/// <summary>
/// User code that runs on a sync lock set's thread while the set waits on its busy member (a long-wait handler, a
/// metrics listener) and itself takes and gives back a member of that set: the set still takes all its locks, and a
/// timeout of the set is still reported as the set's.
/// </summary>
public sealed class LockSetWaitCallbackTests
{
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public void ALongWaitHandler_TakingAndReleasingAnotherMemberOnTheSetsThread_LeavesTheSetToTakeAll()
    {
        using var policy = PolicyScope.Capture();
        var x = new ExclusiveLock("set-callback-long-wait-x");
        var y = new ExclusiveLock("set-callback-long-wait-y");
        var z = new ExclusiveLock("set-callback-long-wait-z");
        int setThread = Environment.CurrentManagedThreadId;
        int handled = 0;
        bool inHandler = false;

        // The set's wait on x ends granted, and its handler, on the set's thread, waits for y (held) and lets it go.
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e =>
        {
            if (Environment.CurrentManagedThreadId != setThread || e.LockName != x.Name || inHandler)
            {
                return;
            }

            inHandler = true;
            try
            {
                using (y.Acquire(s_hangLimit))
                {
                    handled++;
                }
            }
            finally
            {
                inHandler = false;
            }
        };
        using var contended = new SemaphoreSlim(0);
        using var listener = LockInstrumentListener.Start("locksmith.lock.contentions", name =>
        {
            if (Environment.CurrentManagedThreadId == setThread && (name == x.Name || name == y.Name))
            {
                contended.Release();
            }
        });

        for (int round = 0; round < 50; round++)
        {
            // The holder lets x go once the set waits on it, then y once the handler waits on it.
            var holder = Holder.Start(
                x,
                y,
                () => Assert.True(contended.Wait(s_hangLimit), "the set never waited on x"),
                () => Assert.True(contended.Wait(s_hangLimit), "the handler never waited on y"));

            using (LockSet.Acquire(s_hangLimit, x, y, z))
            {
                Assert.True(x.IsHeldByCurrentThread && y.IsHeldByCurrentThread && z.IsHeldByCurrentThread, $"round {round}");
            }

            holder.Join();
            Assert.Equal(round + 1, handled);
            Assert.False(x.IsHeld || y.IsHeld || z.IsHeld, $"round {round}");
            Assert.Equal(0, contended.CurrentCount);
        }
    }

    [Fact]
    public void AContentionListener_TakingAndReleasingTheBusyMemberOnTheSetsThread_LeavesTheSetToTakeAll()
    {
        var x = new ExclusiveLock("set-callback-contention-x");
        var y = new ExclusiveLock("set-callback-contention-y");
        int setThread = Environment.CurrentManagedThreadId;
        int handled = 0;
        bool inListener = false;
        using var nestedWaits = new SemaphoreSlim(0);

        // As the set's wait on x begins, the listener (on the set's thread) waits for x itself, gets it, and lets it go.
        using var listener = LockInstrumentListener.Start("locksmith.lock.contentions", name =>
        {
            if (Environment.CurrentManagedThreadId != setThread || name != x.Name)
            {
                return;
            }

            if (inListener)
            {
                nestedWaits.Release();
                return;
            }

            inListener = true;
            try
            {
                using (x.Acquire(s_hangLimit))
                {
                    handled++;
                }
            }
            finally
            {
                inListener = false;
            }
        });

        for (int round = 0; round < 50; round++)
        {
            var holder = Holder.Start(x, null, () => Assert.True(nestedWaits.Wait(s_hangLimit), "the listener never waited on x"));

            using (LockSet.Acquire(s_hangLimit, x, y))
            {
                Assert.True(x.IsHeldByCurrentThread && y.IsHeldByCurrentThread, $"round {round}");
            }

            holder.Join();
            Assert.Equal(round + 1, handled);
            Assert.False(x.IsHeld || y.IsHeld, $"round {round}");
        }
    }

    [Theory]
    [InlineData("locksmith.lock.contentions")]
    [InlineData("locksmith.lock.wait.duration")]
    public void AListenersOwnWaitOnTheBusyMember_TimingOut_LeavesTheSetsTimeoutReportedAsTheSets(string instrument)
    {
        // The set's wait on its busy member takes the set's start as it times out (its event and the set's exception give
        // the set's whole wait). Before, a listener's own timed-out wait on that member, on the set's thread (as the set's
        // wait began, or as it ended before its timeout was reported), took it instead: the set's event gave the member's
        // wait alone, and the set's exception the listener's wait.
        using var policy = PolicyScope.Capture();
        var x = new ExclusiveLock("set-callback-nested-timeout-x");
        var y = new ExclusiveLock("set-callback-nested-timeout-y");
        int setThread = Environment.CurrentManagedThreadId;
        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName == x.Name)
            {
                events.Enqueue(e);
            }
        };
        bool inListener = false;
        int nested = 0;
        using var listener = LockInstrumentListener.Start(instrument, name =>
        {
            if (Environment.CurrentManagedThreadId != setThread || name != x.Name || inListener)
            {
                return;
            }

            inListener = true;
            try
            {
                Assert.False(x.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
                nested++;
            }
            finally
            {
                inListener = false;
            }
        });

        using var release = new ManualResetEventSlim();
        var holder = Holder.Start(x, null, () => Assert.True(release.Wait(s_hangLimit), "the test never let the holder go"));
        for (int round = 0; round < 3; round++)
        {
            events.Clear();
            var ex = Assert.Throws<LockTimeoutException>(() => LockSet.Acquire(TimeSpan.FromMilliseconds(100), x, y).Dispose());

            // The listener's wait timed out first, then the set's: the set's event gives what its exception gives.
            Assert.Equal(2, events.Count);
            var setEvent = events.Last();
            Assert.Equal(ex.Waited, setEvent.Waited);
            Assert.True(events.First().Waited < setEvent.Waited, $"round {round}: the listener's wait gave {events.First().Waited}, the set's {setEvent.Waited}");
            Assert.False(y.IsHeld);
        }

        Assert.Equal(3, nested);
        release.Set();
        holder.Join();
        Assert.False(x.IsHeld || y.IsHeld);
    }

    /// <summary>A thread that takes one or two locks, lets the first go after one step, then the second after another.</summary>
    private sealed class Holder
    {
        private readonly Thread _thread;
        private Exception? _failure;

        private Holder(ExclusiveLock first, ExclusiveLock? second, Action beforeFirst, Action? beforeSecond)
        {
            using var holds = new ManualResetEventSlim();
            _thread = new Thread(() =>
            {
                try
                {
                    first.Acquire(s_hangLimit);
                    second?.Acquire(s_hangLimit);
                    holds.Set();
                    beforeFirst();
                    first.Release();
                    beforeSecond?.Invoke();
                    second?.Release();
                }
                catch (Exception error)
                {
                    _failure = error;
                    holds.Set();
                }
            })
            { IsBackground = true, Name = "set-callback-holder" };
            _thread.Start();
            Assert.True(holds.Wait(s_hangLimit), "the holder never took its locks");
            Assert.Null(_failure);
        }

        public static Holder Start(ExclusiveLock first, ExclusiveLock? second, Action beforeFirst, Action? beforeSecond = null) =>
            new(first, second, beforeFirst, beforeSecond);

        public void Join()
        {
            Assert.True(_thread.Join(s_hangLimit), "the holder never ended");
            if (_failure is not null)
            {
                throw new InvalidOperationException("The holder failed.", _failure);
            }
        }
    }
}
