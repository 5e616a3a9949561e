using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Metrics;

namespace Locksmith.Tests.Composite;

/// <summary>
/// A timed set that reaches its busy member with no time left gives up at once and reports that member's timeout. Like a
/// single lock's timed wait that ran out (one that spun past its deadline still queues and gives up), it records the
/// contention and the wait that go with that timeout. Before, it recorded the timeout alone.
/// </summary>
public sealed class LockSetNoBudgetContentionTests
{
    private static readonly TimeSpan s_awaitLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public void ASyncSet_ThatFindsAMemberBusyWithNoTimeLeft_RecordsItsContentionAndWait_WithItsTimeout()
    {
        var budget = TimeSpan.FromMilliseconds(50);
        var first = new ExclusiveLock("no-budget-sync-first");
        var busy = new ExclusiveLock("no-budget-sync-busy");
        int setThread = Environment.CurrentManagedThreadId;
        int armed = 0;

        // Each time the set takes the free first member, the deadline passes before it tries the busy one: the set's
        // wait on the busy member has no time left.
        using var stall = LockInstrumentListener.Start("locksmith.lock.acquisitions", name =>
        {
            if (Volatile.Read(ref armed) == 1 && name == first.Name && Environment.CurrentManagedThreadId == setThread)
            {
                var entered = Stopwatch.StartNew();
                Guard.SpinUntil(() => entered.Elapsed > budget + TimeSpan.FromMilliseconds(2));
            }
        });
        using var counts = Counts.Start();

        using (HeldOnOtherThread.Hold("no-budget-sync-holder", release =>
        {
            using (busy.Acquire())
            {
                release.Wait();
            }
        }))
        {
            Volatile.Write(ref armed, 1);
            LockTimeoutException? thrown = null;
            try
            {
                using var set = LockSet.Acquire(budget, first, busy);
            }
            catch (LockTimeoutException ex)
            {
                thrown = ex;
            }

            Volatile.Write(ref armed, 0);
            Assert.NotNull(thrown);
            Assert.Equal(busy.Name, thrown.LockName);
        }

        Assert.Equal(1, counts.Of("locksmith.lock.timeouts", busy.Name));
        Assert.Equal(1, counts.Of("locksmith.lock.contentions", busy.Name));
        Assert.Equal(1, counts.Of("locksmith.lock.wait.duration", busy.Name));
        Assert.Equal(0, counts.Of("locksmith.lock.contentions", first.Name));
        Assert.False(first.IsHeld);
    }

    [Fact]
    public async Task AnAsyncSet_ThatFindsAMemberBusyWithNoTimeLeft_RecordsItsContentionAndWait_WithItsTimeout()
    {
        var budget = TimeSpan.FromSeconds(2);
        var first = new AsyncExclusiveLock("no-budget-async-first");
        var second = new AsyncExclusiveLock("no-budget-async-second");
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task? firstHolder = null;
        int armed = 0;

        // Held by this flow; the set, a flow of its own, queues on it.
        var secondHold = await second.AcquireAsync(s_awaitLimit);

        // When the set is granted the second member, another flow takes the first, and the deadline passes before the set
        // tries it: the set's next wait, on the first member, has no time left.
        using var stall = LockInstrumentListener.Start("locksmith.lock.acquisitions", name =>
        {
            if (name == second.Name && Interlocked.Exchange(ref armed, 0) == 1)
            {
                var entered = Stopwatch.StartNew();
                var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (ExecutionContext.SuppressFlow())
                {
                    firstHolder = Task.Run(async () =>
                    {
                        using var held = await first.AcquireAsync(s_awaitLimit);
                        taken.SetResult();
                        await releaseFirst.Task;
                    });
                }

                Assert.True(taken.Task.Wait(s_awaitLimit), "Hang guard: the first member was never taken.");
                Guard.SpinUntil(() => entered.Elapsed > budget + TimeSpan.FromMilliseconds(2));
            }
        });
        using var counts = Counts.Start();

        Task<AsyncLockSetScope> set;
        using (ExecutionContext.SuppressFlow())
        {
            set = Task.Run(async () => await LockSet.AcquireAsync(budget, [first, second]));
        }

        Guard.SpinUntil(() => second.WaitingCount == 1);
        Volatile.Write(ref armed, 1);
        secondHold.Dispose();

        var thrown = await Assert.ThrowsAsync<LockTimeoutException>(() => set.WaitAsync(s_awaitLimit));
        releaseFirst.SetResult();
        await firstHolder!.WaitAsync(s_awaitLimit);

        Assert.Equal(first.Name, thrown.LockName);
        Assert.Equal(1, counts.Of("locksmith.lock.timeouts", first.Name));
        Assert.Equal(1, counts.Of("locksmith.lock.contentions", first.Name));
        Assert.Equal(1, counts.Of("locksmith.lock.wait.duration", first.Name));
        Assert.Equal(0, counts.Of("locksmith.lock.timeouts", second.Name));
        Assert.False(first.IsHeld);
        Assert.False(second.IsHeld);
    }

    /// <summary>
    /// A try-once set (<c>TimeSpan.Zero</c>, not throwing) that takes its free first member and then finds another busy did
    /// not wait, so it records and raises nothing, as each lock's own try-once; a throwing one reports the busy member's
    /// timeout. Before, the non-throwing set counted a timeout and raised <c>TimeoutOccurred</c>.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASyncTryOnceSet_ThatFindsALaterMemberBusy_ReportsATimeoutOnlyIfItThrows(bool throwing)
    {
        var first = new ExclusiveLock($"try-once-set-first-{throwing}", level: 1);
        var busy = new ExclusiveLock($"try-once-set-busy-{throwing}", level: 2);
        int raised = 0;
        Action<LockTimeoutEvent> onTimeout = e =>
        {
            if (e.LockName == busy.Name)
            {
                Interlocked.Increment(ref raised);
            }
        };
        using var counts = Counts.Start();
        using (Support.PolicyScope.Capture())
        {
            LocksmithPolicy.TimeoutOccurred = onTimeout;
            using (HeldOnOtherThread.Hold($"try-once-set-holder-{throwing}", release =>
            {
                using (busy.Acquire())
                {
                    release.Wait();
                }
            }))
            {
                if (throwing)
                {
                    var thrown = Assert.Throws<LockTimeoutException>(() =>
                    {
                        using var set = LockSet.Acquire(TimeSpan.Zero, first, busy);
                    });
                    Assert.Equal(busy.Name, thrown.LockName);
                }
                else
                {
                    Assert.False(LockSet.TryAcquire(TimeSpan.Zero, out var set, first, busy));
                    set.Dispose();
                }
            }
        }

        int expected = throwing ? 1 : 0;
        Assert.Equal(expected, Volatile.Read(ref raised));
        Assert.Equal(expected, counts.Of("locksmith.lock.timeouts", busy.Name));
        Assert.Equal(0, counts.Of("locksmith.lock.timeouts", first.Name));
        Assert.False(first.IsHeld);
    }

    /// <summary>Counts measurements per instrument and lock name while it lives.</summary>
    private sealed class Counts : IDisposable
    {
        private readonly ConcurrentDictionary<(string, string?), int> _counts = new();
        private readonly IDisposable[] _listeners;

        private Counts() =>
            _listeners =
            [
                Listen("locksmith.lock.contentions"),
                Listen("locksmith.lock.wait.duration"),
                Listen("locksmith.lock.timeouts"),
            ];

        public static Counts Start() => new();

        public int Of(string instrument, string lockName) => _counts.TryGetValue((instrument, lockName), out int count) ? count : 0;

        public void Dispose()
        {
            foreach (var listener in _listeners)
            {
                listener.Dispose();
            }
        }

        private IDisposable Listen(string instrument) =>
            LockInstrumentListener.Start(instrument, name => _counts.AddOrUpdate((instrument, name), 1, (_, n) => n + 1));
    }
}
