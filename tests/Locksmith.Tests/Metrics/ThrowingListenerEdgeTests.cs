using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Metrics;

/// <summary>
/// Edges of the rule <see cref="ThrowingListenerTests"/> and <see cref="ThrowingListenerSyncTests"/> check (a listener's
/// exception at a recording site is the acquisition's, and what the acquisition got is given back first): a lock taken
/// back for a caller that still holds its scope, a controlled scheduler's books of a semaphore's permits, and a flow's
/// order entries for a semaphore it holds more than once.
/// </summary>
public sealed class ThrowingListenerEdgeTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A <see cref="MeterListener"/> that throws when <paramref name="instrument"/> records the named lock, once armed and
    /// at most <paramref name="budget"/> times (so a caller that retries forever ends, and the count shows it).
    /// </summary>
    private sealed class CountingThrowingListener : IDisposable
    {
        private readonly MeterListener _listener;
        private int _budget;
        private int _thrown;
        private volatile bool _armed;

        public CountingThrowingListener(string instrument, string lockName, int budget)
        {
            _budget = budget;
            _listener = LockInstrumentListener.Start(instrument, name =>
            {
                if (_armed && name == lockName && Interlocked.Decrement(ref _budget) >= 0)
                {
                    Interlocked.Increment(ref _thrown);
                    throw new InvalidOperationException($"{instrument} listener refused {lockName}");
                }
            });
        }

        public int Thrown => Volatile.Read(ref _thrown);

        public void Arm() => _armed = true;

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>A <see cref="MeterListener"/> that counts what <paramref name="instrument"/> records for the named lock once armed.</summary>
    private sealed class MeasurementCount : IDisposable
    {
        private readonly MeterListener _listener;
        private int _count;
        private volatile bool _armed;

        public MeasurementCount(string instrument, string lockName) =>
            _listener = LockInstrumentListener.Start(instrument, name =>
            {
                if (_armed && name == lockName)
                {
                    Interlocked.Increment(ref _count);
                }
            });

        public int Count => Volatile.Read(ref _count);

        public void Arm() => _armed = true;

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>
    /// A scheduling controller that runs no flow and only keeps the books a lock reports: permits taken less permits
    /// given back, as Locksmith.Testing's run counts a flow's or an outside taker's, and the signals that make the flows
    /// blocked on a lock runnable again.
    /// </summary>
    private sealed class PermitBooks : ISchedulingController
    {
        private int _held;
        private int _signals;

        public int Held => Volatile.Read(ref _held);

        public int Signals => Volatile.Read(ref _signals);

        public bool ControlsCurrentThread => false;

        /// <summary>A semaphore made with this controller installed on the thread, which keeps it.</summary>
        public CountingSemaphore NewSemaphore(int count, string name, int? level = null) =>
            Create(() => new CountingSemaphore(count, count, name, level));

        /// <summary>A lock made with this controller installed on the thread, which keeps it.</summary>
        public T Create<T>(Func<T> make)
        {
            var previous = SchedulingHooks.Install(this);
            try
            {
                return make();
            }
            finally
            {
                SchedulingHooks.Install(previous);
            }
        }

        public void PermitsTaken(CountingSemaphore semaphore, int count, LockOwner? grantee) => Interlocked.Add(ref _held, count);

        public void PermitsReturned(CountingSemaphore semaphore, int count, int freeAfter) => Interlocked.Add(ref _held, -count);

        public void Point(SchedulingOperation operation, object resource, string name)
        {
        }

        public void Enlist(SchedulingOperation operation, object resource, string name, bool canTimeOut)
        {
        }

        public bool Block() => false;

        public void Signal(object resource, bool all) => Interlocked.Increment(ref _signals);

        public void AcquireEnded(CountingSemaphore semaphore)
        {
        }

        public void OutsideWaiterParks(object resource, bool canEnd, WaitNode node)
        {
        }

        public void OutsideAsyncWaiterQueued(LockPrimitive resource, bool canEnd, AsyncWaitNode node)
        {
        }
    }

    /// <summary>
    /// A condition wait takes its lock back for a caller that still holds the scope, and returns or throws with it held.
    /// Before, a counter that threw as it was taken back gave the lock back, and the wait took it again, and again, for
    /// as long as the listener threw: a listener that always throws hung the wait (here it stops after 50 throws).
    /// </summary>
    [Fact]
    public async Task AConditionWaitWhoseRetakeCounterThrows_ThrowsOnce_WithTheLockHeld()
    {
        string name = $"throwing-listener-edge-condition-{Guid.NewGuid():N}";
        var lockPrimitive = new ExclusiveLock(name);
        var condition = new ConditionVariable(lockPrimitive);
        using var listener = new CountingThrowingListener("locksmith.lock.acquisitions", name, budget: 50);
        await Task.Run(() =>
        {
            using (lockPrimitive.Acquire())
            {
                listener.Arm();
                var error = Assert.Throws<InvalidOperationException>(() => condition.Wait(TimeSpan.FromMilliseconds(1)));
                Assert.Equal($"locksmith.lock.acquisitions listener refused {name}", error.Message);
                Assert.True(lockPrimitive.IsHeldByCurrentThread);
            }
        }).WaitAsync(s_hangGuard);

        Assert.Equal(1, listener.Thrown);
        Assert.False(lockPrimitive.IsHeld);
    }

    /// <summary>
    /// A condition wait notified while another thread holds the lock takes it back contended. A contention counter that
    /// throws there fails that retake (the wait never began); the next retake records no contention and no wait, so it
    /// waits for the lock, and the wait throws the counter's exception once, holding it. Before, every retake recorded
    /// its contention again and threw again, a busy loop for as long as the lock stayed held (here the listener stops
    /// after 200 throws, and the holder keeps the lock until the waiter is seen waiting for it).
    /// </summary>
    [Fact]
    public async Task AConditionWaitWhoseRetakeContentionThrows_WaitsQuietly_ThenThrowsOnceWithTheLockHeld()
    {
        string name = $"throwing-listener-edge-condition-contended-{Guid.NewGuid():N}";
        var lockPrimitive = new ExclusiveLock(name);
        var condition = new ConditionVariable(lockPrimitive);
        using var listener = new CountingThrowingListener("locksmith.lock.contentions", name, budget: 200);
        using var waits = new MeasurementCount("locksmith.lock.wait.duration", name);
        using var holding = new ManualResetEventSlim();
        var waiter = Task.Run(() =>
        {
            using (lockPrimitive.Acquire())
            {
                holding.Set();
                var error = Assert.Throws<InvalidOperationException>(() => condition.Wait());
                Assert.Equal($"locksmith.lock.contentions listener refused {name}", error.Message);
                Assert.True(lockPrimitive.IsHeldByCurrentThread);
            }
        });

        await Task.Run(() =>
        {
            Assert.True(holding.Wait(s_hangGuard));

            // Free again only once the waiter's condition wait let it go.
            Assert.True(SpinWait.SpinUntil(() => !lockPrimitive.IsHeld, s_hangGuard));
            using (lockPrimitive.Acquire())
            {
                listener.Arm();
                waits.Arm();
                condition.Notify();
                Assert.True(SpinWait.SpinUntil(() => WaitsFor(name), s_hangGuard), "the notified waiter never waited for the lock");
            }
        }).WaitAsync(s_hangGuard);

        await waiter.WaitAsync(s_hangGuard);
        Assert.Equal(1, listener.Thrown);
        Assert.Equal(0, waits.Count);
        Assert.False(lockPrimitive.IsHeld);

        static bool WaitsFor(string lockName)
        {
            foreach (var wait in DeadlockDetector.CurrentWaits())
            {
                if (wait.LockName == lockName)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// A controlled semaphore's thread acquisition whose counter throws gives its permits back without telling the
    /// scheduler they came back: it was never told they were taken. Before, the give-back was a release, and the books
    /// read the thread as holding fewer permits than none (a signal), which skews who a waiting flow is said to wait for.
    /// </summary>
    [Fact]
    public async Task AControlledSemaphoreAcquisitionWhoseCounterThrows_LeavesTheSchedulersBooksEven()
    {
        string name = $"throwing-listener-edge-books-{Guid.NewGuid():N}";
        var books = new PermitBooks();
        var semaphore = books.NewSemaphore(2, name);
        await Task.Run(() =>
        {
            using (new ThrowingListenerTests.ThrowingListener("locksmith.lock.acquisitions", name))
            {
                var error = Assert.Throws<InvalidOperationException>(() => semaphore.Acquire(2).Dispose());
                Assert.Equal($"locksmith.lock.acquisitions listener refused {name}", error.Message);
            }
        }).WaitAsync(s_hangGuard);

        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Equal(0, books.Held);
    }

    /// <summary>
    /// The same for a flow's acquisition taken at once: the permits are booked as taken before the counter runs, so its
    /// give-back evens them out. Before, the booking came after the counter, which threw first: only the return was told.
    /// </summary>
    [Fact]
    public async Task AControlledSemaphoreAsyncAcquisitionWhoseCounterThrows_LeavesTheSchedulersBooksEven()
    {
        string name = $"throwing-listener-edge-async-books-{Guid.NewGuid():N}";
        var books = new PermitBooks();
        var semaphore = books.NewSemaphore(2, name);
        using (new ThrowingListenerTests.ThrowingListener("locksmith.lock.acquisitions", name))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => (await semaphore.AcquireAsync(2).AsTask().WaitAsync(s_hangGuard)).Dispose());
            Assert.Equal($"locksmith.lock.acquisitions listener refused {name}", error.Message);
        }

        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Equal(0, books.Held);
    }

    /// <summary>
    /// A flow holding a permit of an ordered semaphore asks for another, whose counter throws: giving that one back clears
    /// its own order entry, not the first permit's. Before, the entry was pushed after the counter ran, so the give-back
    /// cleared the first permit's: the flow held the semaphore unseen by the order check, and took a lower lock unreported.
    /// </summary>
    [Fact]
    public async Task AFlowHoldingAnOrderedPermit_WhoseSecondPermitsCounterThrows_StillHoldsItInTheOrder()
    {
        string name = $"throwing-listener-edge-order-{Guid.NewGuid():N}";
        var semaphore = new CountingSemaphore(2, 2, name, level: 20);
        var lower = new AsyncExclusiveLock($"{name}-lower", level: 10);
        using (await semaphore.AcquireAsync().AsTask().WaitAsync(s_hangGuard))
        {
            using (new ThrowingListenerTests.ThrowingListener("locksmith.lock.acquisitions", name))
            {
                var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => (await semaphore.AcquireAsync().AsTask().WaitAsync(s_hangGuard)).Dispose());
                Assert.Equal($"locksmith.lock.acquisitions listener refused {name}", error.Message);
            }

            Assert.Equal(1, semaphore.CurrentCount);
            await Assert.ThrowsAsync<LockOrderViolationException>(async () => (await lower.AcquireAsync().AsTask().WaitAsync(s_hangGuard)).Dispose());
        }

        Assert.Equal(2, semaphore.CurrentCount);
        Assert.False(lower.IsHeld);
    }

    /// <summary>
    /// A thread whose contention counter throws as its blocked wait begins keeps the wait node it rented for it, so its
    /// later waits reuse it and allocate nothing. Before, the node stayed marked in use for good, and every later blocked
    /// wait of that thread made a new one.
    /// </summary>
    [Fact]
    public async Task AThreadWhoseContentionCounterThrows_KeepsItsWaitNodeForItsNextWaits()
    {
        string name = $"throwing-listener-edge-node-{Guid.NewGuid():N}";
        var lockPrimitive = new ExclusiveLock(name);
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = Task.Factory.StartNew(
            () =>
            {
                using (lockPrimitive.Acquire())
                {
                    held.SetResult();
                    release.Task.Wait(s_hangGuard);
                }
            },
            TaskCreationOptions.LongRunning);
        await held.Task.WaitAsync(s_hangGuard);

        bool reused = await Task.Factory.StartNew(
            () =>
            {
                using (new ThrowingListenerTests.ThrowingListener("locksmith.lock.contentions", name))
                {
                    Assert.Throws<InvalidOperationException>(() => lockPrimitive.Acquire().Dispose());
                }

                var first = ThreadWaitNode.Rent();
                ThreadWaitNode.Return(first);
                var second = ThreadWaitNode.Rent();
                ThreadWaitNode.Return(second);
                return ReferenceEquals(first, second);
            },
            TaskCreationOptions.LongRunning).WaitAsync(s_hangGuard);

        release.SetResult();
        await holder.WaitAsync(s_hangGuard);
        Assert.True(reused, "The thread's wait node was left in use: each later wait made a new one.");
        Assert.False(lockPrimitive.IsHeld);
    }

    /// <summary>
    /// A flow refused as it queues (a task of its own took the lock meanwhile) has its wait measured out of the queue's
    /// gate, as every other measurement of an async lock: a listener's code never runs under it. Before, it ran there.
    /// The task of the same flow takes the lock from the contention counter's callback, between the two recursion checks.
    /// </summary>
    [Fact]
    public async Task AWaitRefusedAsItQueues_IsMeasuredOutOfTheGate()
    {
        string name = $"throwing-listener-edge-refused-{Guid.NewGuid():N}";
        var lockPrimitive = new AsyncExclusiveLock(name);
        var gate = ((IAsyncWaitHost)lockPrimitive).Gate;
        var holder = await Task.Run(async () => await lockPrimitive.AcquireAsync()).WaitAsync(s_hangGuard);
        AsyncLockScope sibling = default;
        int contentions = 0;
        int measuredUnderGate = 0;
        int measured = 0;
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (published, l) =>
            {
                if (published.Meter.Name == LocksmithMetrics.MeterName && published.Name is "locksmith.lock.contentions" or "locksmith.lock.wait.duration")
                {
                    l.EnableMeasurementEvents(published);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                if (Names(tags) && Interlocked.Increment(ref contentions) == 1)
                {
                    // The flow's other task: the lock is freed and taken by the asking flow itself.
                    holder.Dispose();
                    sibling = lockPrimitive.AcquireAsync().Result;
                }
            });
            listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
            {
                if (Names(tags))
                {
                    Interlocked.Increment(ref measured);
                    if (gate.IsHeldByCurrentThread)
                    {
                        Interlocked.Increment(ref measuredUnderGate);
                    }
                }
            });
            listener.Start();

            await Task.Run(() => Assert.Throws<LockRecursionException>(() => lockPrimitive.AcquireAsync())).WaitAsync(s_hangGuard);
        }

        Assert.True(sibling.IsAcquired);
        sibling.Dispose();
        Assert.False(lockPrimitive.IsHeld);
        Assert.Equal(1, measured);
        Assert.Equal(0, measuredUnderGate);

        bool Names(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value == name)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public static TheoryData<string> TimedHoldKinds => ["exclusive", "spin", "write", "async-exclusive", "async-write"];

    /// <summary>
    /// A release whose hold-duration listener throws still tells a controlled scheduler the lock was released, so the
    /// flows blocked on it run again. Before, the listener's exception skipped the signal: the lock was free, and its
    /// waiters stranded (a controlled run then reads them as deadlocked).
    /// </summary>
    [Theory]
    [MemberData(nameof(TimedHoldKinds))]
    public async Task AControlledReleaseWhoseHoldDurationThrows_StillSignalsTheScheduler(string kind)
    {
        string name = $"throwing-listener-edge-hold-{kind}-{Guid.NewGuid():N}";
        var books = new PermitBooks();
        Func<bool> free;
        Func<Task> holdAndRelease;
        switch (kind)
        {
            case "exclusive":
                var exclusive = books.Create(() => new ExclusiveLock(name));
                free = () => !exclusive.IsHeld;
                holdAndRelease = () => Task.Run(() => exclusive.Acquire().Dispose());
                break;
            case "spin":
                var spin = books.Create(() => new SpinGate(name));
                free = () => !spin.IsHeld;
                holdAndRelease = () => Task.Run(() => spin.Acquire().Dispose());
                break;
            case "write":
                var readWrite = books.Create(() => new ReadWriteLock(name));
                free = () => readWrite.WriterThreadId == 0;
                holdAndRelease = () => Task.Run(() => readWrite.AcquireWrite().Dispose());
                break;
            case "async-exclusive":
                var asyncExclusive = books.Create(() => new AsyncExclusiveLock(name));
                free = () => !asyncExclusive.IsHeld;
                holdAndRelease = () => Task.Run(async () => (await asyncExclusive.AcquireAsync()).Dispose());
                break;
            default:
                var asyncReadWrite = books.Create(() => new AsyncReadWriteLock(name));
                free = () => !asyncReadWrite.IsWriteHeld;
                holdAndRelease = () => Task.Run(async () => (await asyncReadWrite.AcquireWriteAsync()).Dispose());
                break;
        }

        using (new ThrowingListenerTests.ThrowingListener("locksmith.lock.hold.duration", name))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => holdAndRelease().WaitAsync(s_hangGuard));
            Assert.Equal($"locksmith.lock.hold.duration listener refused {name}", error.Message);
        }

        Assert.True(free(), name);
        Assert.Equal(1, books.Signals);
    }

    public static TheoryData<string> TookAtOnceKinds => ["exclusive", "read", "write", "semaphore"];

    /// <summary>
    /// A flow that counted its contention and then took the lock as it queued, whose acquisition counter throws, still
    /// has its wait measured (one wait measurement per contention, whichever way the wait ends) and its node recycled.
    /// Before, the counter's exception skipped both: no measurement, and the node was dropped from the pool. The holder
    /// lets go from the contention counter's callback, so the flow finds the lock free as it queues.
    /// </summary>
    [Theory]
    [MemberData(nameof(TookAtOnceKinds))]
    public async Task AFlowThatTookTheLockAsItQueued_WhoseCounterThrows_HasItsWaitMeasured(string kind)
    {
        string name = $"throwing-listener-edge-took-{kind}-{Guid.NewGuid():N}";
        Func<ValueTask<AsyncLockScope>> acquire;
        Func<bool> free;
        AsyncLockScope holder;
        switch (kind)
        {
            case "exclusive":
                var exclusive = new AsyncExclusiveLock(name);
                acquire = () => exclusive.AcquireAsync();
                free = () => !exclusive.IsHeld;
                holder = await Task.Run(async () => await exclusive.AcquireAsync()).WaitAsync(s_hangGuard);
                break;
            case "read":
            case "write":
                var readWrite = new AsyncReadWriteLock(name);
                acquire = kind == "read" ? () => readWrite.AcquireReadAsync() : () => readWrite.AcquireWriteAsync();
                free = () => !readWrite.IsWriteHeld && readWrite.CurrentReaderCount == 0;
                holder = await Task.Run(async () => await readWrite.AcquireWriteAsync()).WaitAsync(s_hangGuard);
                break;
            default:
                var semaphore = new CountingSemaphore(1, 1, name);
                acquire = () => semaphore.AcquireAsync();
                free = () => semaphore.CurrentCount == 1;
                holder = await Task.Run(async () => await semaphore.AcquireAsync()).WaitAsync(s_hangGuard);
                break;
        }

        int contentions = 0;
        int waits = 0;
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (published, l) =>
            {
                if (published.Meter.Name == LocksmithMetrics.MeterName
                    && published.Name is "locksmith.lock.contentions" or "locksmith.lock.acquisitions" or "locksmith.lock.wait.duration")
                {
                    l.EnableMeasurementEvents(published);
                }
            };
            listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
            {
                if (!NamesLock(tags, name))
                {
                    return;
                }

                if (instrument.Name == "locksmith.lock.contentions")
                {
                    Interlocked.Increment(ref contentions);
                    holder.Dispose();
                }
                else
                {
                    throw new InvalidOperationException($"{instrument.Name} listener refused {name}");
                }
            });
            listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
            {
                if (NamesLock(tags, name))
                {
                    Interlocked.Increment(ref waits);
                }
            });
            listener.Start();

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(async () => (await acquire()).Dispose()).WaitAsync(s_hangGuard));
            Assert.Equal($"locksmith.lock.acquisitions listener refused {name}", error.Message);
        }

        Assert.True(free(), name);
        Assert.Equal(1, contentions);
        Assert.Equal(1, waits);
    }

    private static bool NamesLock(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "lock.name" && (string?)tag.Value == name)
            {
                return true;
            }
        }

        return false;
    }

}
