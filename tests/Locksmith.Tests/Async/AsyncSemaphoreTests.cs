using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

public sealed class AsyncSemaphoreTests
{
    [Fact]
    public async Task OnePermit_AsAMutex_TenThousandFlows_IncrementExactly()
    {
        var semaphore = new CountingSemaphore(1, 1, "counter");
        int counter = 0;
        var flows = Enumerable.Range(0, 10_000).Select(_ => Task.Run(async () =>
        {
            using var scope = await semaphore.AcquireAsync();
            int seen = counter;
            await Task.Yield();
            counter = seen + 1;
        }));

        await Task.WhenAll(flows);

        Assert.Equal(10_000, counter);
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task ThreePermits_TenThousandFlows_NeverMoreThanThreeInside()
    {
        var semaphore = new CountingSemaphore(3, 3, "pool");
        int inside = 0;
        int maxInside = 0;
        int entries = 0;
        var flows = Enumerable.Range(0, 10_000).Select(i => Task.Run(async () =>
        {
            using var scope = await semaphore.AcquireAsync();
            int now = Interlocked.Increment(ref inside);
            int seen = Volatile.Read(ref maxInside);
            while (now > seen && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
            {
                seen = Volatile.Read(ref maxInside);
            }

            Interlocked.Increment(ref entries);
            await Task.Yield();
            Interlocked.Decrement(ref inside);
        }));

        await Task.WhenAll(flows);

        Assert.Equal(10_000, entries);
        Assert.InRange(maxInside, 1, 3);
        Assert.Equal(3, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task MultiPermitFlows_NeverExceedMax_AndAllComplete()
    {
        var semaphore = new CountingSemaphore(3, 3, "mixed-counts");
        int inUse = 0;
        int maxInUse = 0;
        var flows = Enumerable.Range(0, 2_000).Select(i => Task.Run(async () =>
        {
            int want = 1 + (i % 3);
            using var scope = await semaphore.AcquireAsync(want);
            int now = Interlocked.Add(ref inUse, want);
            int seen = Volatile.Read(ref maxInUse);
            while (now > seen && Interlocked.CompareExchange(ref maxInUse, now, seen) != seen)
            {
                seen = Volatile.Read(ref maxInUse);
            }

            await Task.Yield();
            Interlocked.Add(ref inUse, -want);
        }));

        await Task.WhenAll(flows);

        Assert.InRange(maxInUse, 1, 3);
        Assert.Equal(3, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task CancellationAndTimeoutStorm_LeavesEveryPermitFree_AndNothingQueued()
    {
        var semaphore = new CountingSemaphore(2, 2, "storm");
        int acquired = 0;
        int gaveUp = 0;
        for (int round = 0; round < 20; round++)
        {
            var held = await semaphore.AcquireAsync(2);
            var waiters = new List<Task>();
            using var cancel = new CancellationTokenSource();
            for (int i = 0; i < 100; i++)
            {
                int kind = i % 4;
                waiters.Add(Task.Run(async () =>
                {
                    try
                    {
                        switch (kind)
                        {
                            case 0:
                                using (await semaphore.AcquireAsync(cancel.Token))
                                {
                                    Interlocked.Increment(ref acquired);
                                }

                                break;
                            case 1:
                                using (var scope = await semaphore.TryAcquireAsync(TimeSpan.FromMilliseconds(1 + (round % 3))))
                                {
                                    Interlocked.Increment(ref scope.IsAcquired ? ref acquired : ref gaveUp);
                                }

                                break;
                            case 2:
                                using (await semaphore.AcquireAsync(2, TimeSpan.FromMilliseconds(2), cancel.Token))
                                {
                                    Interlocked.Increment(ref acquired);
                                }

                                break;
                            default:
                                using (await semaphore.AcquireAsync(1, Timeout.InfiniteTimeSpan, cancel.Token))
                                {
                                    Interlocked.Increment(ref acquired);
                                }

                                break;
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        Interlocked.Increment(ref gaveUp);
                    }
                    catch (LockTimeoutException)
                    {
                        Interlocked.Increment(ref gaveUp);
                    }
                }));
            }

            // Cancel while they queue, and release in the middle of the storm: a give-up racing a hand-off.
            await Task.Yield();
            cancel.Cancel();
            held.Dispose();
            await Task.WhenAll(waiters);
        }

        Assert.Equal(2_000, acquired + gaveUp);
        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task CancelledWaiter_DoesNotSwallowTheReleaseMeantForTheNext()
    {
        var semaphore = new CountingSemaphore(1, 1, "handoff");
        var held = await semaphore.AcquireAsync();
        using var cancel = new CancellationTokenSource();
        var first = Task.Run(async () => await semaphore.AcquireAsync(cancel.Token));
        Guard.SpinUntil(() => semaphore.QueuedAsyncWaiterCount == 1);
        var second = Task.Run(async () => await semaphore.AcquireAsync());
        Guard.SpinUntil(() => semaphore.QueuedAsyncWaiterCount == 2);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        held.Dispose();
        var scope = await second;

        Assert.True(scope.IsAcquired);
        Assert.Equal(0, semaphore.CurrentCount);
        scope.Dispose();
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task CancelledHeadWaiterForSeveralPermits_LetsTheWaitersBehindItIn()
    {
        var semaphore = new CountingSemaphore(3, 3, "head");
        var held = await semaphore.AcquireAsync(2);
        using var cancel = new CancellationTokenSource();
        // Wants 2 of the 1 free: it blocks the head, and the waiter for 1 queues behind it (FIFO).
        var big = Task.Run(async () => await semaphore.AcquireAsync(2, cancel.Token));
        Guard.SpinUntil(() => semaphore.QueuedAsyncWaiterCount == 1);
        var small = Task.Run(async () => await semaphore.AcquireAsync());
        Guard.SpinUntil(() => semaphore.QueuedAsyncWaiterCount == 2);
        Assert.False(small.IsCompleted);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => big);
        var scope = await small;

        Assert.Equal(0, semaphore.CurrentCount);
        scope.Dispose();
        held.Dispose();
        Assert.Equal(3, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task AThreadArrivingWhileAnAsyncWaiterIsQueued_TakesNoPermitAheadOfIt()
    {
        // One of two permits free and a flow queued for both: a thread's try-once, its timed wait (spin and queue) and
        // a LockSet member all leave the free permit to the flow. Before, each of them took it, and a stream of
        // one-permit threads could keep the flow waiting indefinitely.
        var semaphore = new CountingSemaphore(1, 2, "mixed-fifo");
        var both = Task.Run(async () => await semaphore.AcquireAsync(2));
        Guard.SpinUntil(() => semaphore.QueuedAsyncWaiterCount == 1);

        Assert.False(semaphore.TryAcquire(out _));
        Assert.False(semaphore.TryAcquire(TimeSpan.FromMilliseconds(20), out _));
        Assert.False(LockSet.TryAcquire(TimeSpan.Zero, out _, semaphore));
        Assert.Equal(1, semaphore.CurrentCount);

        // A thread that queues behind the flow gets its permit after the flow's, in order.
        var behind = new Thread(() =>
        {
            using var scope = semaphore.Acquire();
        });
        behind.Start();
        Guard.SpinUntil(() => semaphore.QueuedWaiterCount == 2);
        Assert.False(both.IsCompleted);

        semaphore.Release();
        var scope = await both;
        Assert.True(scope.IsAcquired);
        Assert.Equal(0, semaphore.CurrentCount);
        Assert.True(behind.IsAlive);
        scope.Dispose();
        behind.JoinGuarded();
        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task AFlowsTryOnce_TakesFreePermits_ThatAQueuedThreadCannotUse()
    {
        // Two of three permits free and a thread queued for all three: a flow's try-once (and a LockSet's) takes one, as
        // a thread's try-once and the flow's own timed wait do. Before, any queued waiter, even a thread, failed it.
        var semaphore = new CountingSemaphore(2, 3, "try-once-past-thread");
        var all = new Thread(() =>
        {
            using var scope = semaphore.Acquire(3);
        });
        all.Start();
        Guard.SpinUntil(() => semaphore.QueuedWaiterCount == 1);

        var scope = await semaphore.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(scope.IsAcquired);
        var set = await LockSet.TryAcquireAsync(TimeSpan.Zero, [semaphore]);
        Assert.True(set.IsAcquired);
        Assert.Equal(0, semaphore.CurrentCount);

        set.Dispose();
        scope.Dispose();
        semaphore.Release();
        all.JoinGuarded();
        Assert.Equal(3, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task TimedOutWaiter_ThrowsNamingTheSemaphore_AndHoldsNothing()
    {
        var semaphore = new CountingSemaphore(1, 1, "slots");
        var held = await semaphore.AcquireAsync();

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await semaphore.AcquireAsync(TimeSpan.FromMilliseconds(5)));
        var tried = await semaphore.TryAcquireAsync(TimeSpan.Zero);
        var zero = await Assert.ThrowsAsync<LockTimeoutException>(async () => await semaphore.AcquireAsync(TimeSpan.Zero));

        Assert.Contains("'slots'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Flow #", error.Message, StringComparison.Ordinal);
        Assert.Contains("'slots'", zero.Message, StringComparison.Ordinal);
        Assert.False(tried.IsAcquired);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
        held.Dispose();
        Assert.Equal(1, semaphore.CurrentCount);

        // A queued wait for several permits says how many it asked for, as a try-once does (it said "waiting for permits").
        var two = new CountingSemaphore(2, 3, "pairs");
        var one = await two.AcquireAsync();
        var timedOut = await Assert.ThrowsAsync<LockTimeoutException>(async () => await two.AcquireAsync(2, TimeSpan.FromMilliseconds(5)));
        Assert.Contains("waiting for 2 permit(s) of semaphore 'pairs'; when it gave up, 1 of its maximum 3 were free.", timedOut.Message, StringComparison.Ordinal);
        one.Dispose();
    }

    [Fact]
    public async Task ATimeout_DescribesTheCountItSawWhenItGaveUp_NotPermitsGivenBackAfter()
    {
        // Before, the message read the count when it was built, after the timeout event: permits given back in between
        // made it say "which had 5 of its maximum 8 free" of a wait for one permit that had just timed out.
        using var policy = PolicyScope.Capture();
        var tryOnce = new CountingSemaphore(0, 8, "async-gave-up-try-once");
        var queued = new CountingSemaphore(0, 8, "async-gave-up-queued");
        LocksmithPolicy.TimeoutOccurred = e =>
            (e.LockName == tryOnce.Name ? tryOnce : e.LockName == queued.Name ? queued : null)?.Release(5);

        var once = await Assert.ThrowsAsync<LockTimeoutException>(async () => await tryOnce.AcquireAsync(TimeSpan.Zero));
        var waited = await Assert.ThrowsAsync<LockTimeoutException>(async () => await queued.AcquireAsync(TimeSpan.FromMilliseconds(20)));

        Assert.Contains("waiting for 1 permit(s) of semaphore 'async-gave-up-try-once'; when it gave up, 0 of its maximum 8 were free.", once.Message, StringComparison.Ordinal);
        Assert.Contains("waiting for 1 permit(s) of semaphore 'async-gave-up-queued'; when it gave up, 0 of its maximum 8 were free.", waited.Message, StringComparison.Ordinal);
        Assert.Equal(5, tryOnce.CurrentCount);
        Assert.Equal(5, queued.CurrentCount);

        // Free permits a try-once may not take, because a flow queued ahead comes first, are said to be held for it.
        var pairs = new CountingSemaphore(1, 3, "async-gave-up-held");
        var ahead = pairs.AcquireAsync(2);
        Assert.False(ahead.IsCompleted);
        var behind = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pairs.AcquireAsync(TimeSpan.Zero));
        Assert.Contains("when it gave up, 1 of its maximum 3 were free but held for waiters queued ahead of it.", behind.Message, StringComparison.Ordinal);
        pairs.Release();
        (await ahead).Dispose();
    }

    [Fact]
    public async Task MixedSyncAndAsyncWaiters_OnOneSemaphore_AllComplete()
    {
        var semaphore = new CountingSemaphore(2, 2, "mixed");
        int inside = 0;
        int maxInside = 0;
        long entries = 0;
        void Enter()
        {
            int now = Interlocked.Increment(ref inside);
            int seen = Volatile.Read(ref maxInside);
            while (now > seen && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
            {
                seen = Volatile.Read(ref maxInside);
            }

            Interlocked.Increment(ref entries);
        }

        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                using var scope = i % 2 == 0 ? semaphore.Acquire() : semaphore.Acquire(2);
                Enter();
                Thread.SpinWait(20);
                Interlocked.Decrement(ref inside);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        var flows = Enumerable.Range(0, 4_000).Select(i => Task.Run(async () =>
        {
            using var scope = await semaphore.AcquireAsync(1 + (i % 2));
            Enter();
            await Task.Yield();
            Interlocked.Decrement(ref inside);
        })).ToList();

        await Task.WhenAll(flows);
        threads.ForEach(t => t.JoinGuarded());

        Assert.Equal(8_000, entries);
        Assert.InRange(maxInside, 1, 2);
        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public async Task DisposingAScopeTwice_Throws_NamingTheSemaphore_AndGivesThePermitsBackOnce()
    {
        var semaphore = new CountingSemaphore(3, 3, "permits");
        var first = await semaphore.AcquireAsync(2);
        var copy = first;
        first.Dispose();
        var other = await semaphore.AcquireAsync();

        var error = Assert.Throws<SynchronizationLockException>(copy.Dispose);
        var again = Assert.Throws<SynchronizationLockException>(first.Dispose);

        Assert.Contains("'permits'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'permits'", again.Message, StringComparison.Ordinal);
        Assert.Equal(2, semaphore.CurrentCount);
        other.Dispose();
        Assert.Equal(3, semaphore.CurrentCount);
    }

    [Fact]
    public async Task OrderedSemaphore_BelowAHeldAsyncLock_ThrowsBeforeWaiting()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var high = new AsyncExclusiveLock("high", level: 20);
        var semaphore = new CountingSemaphore(0, 1, "low-slots", level: 10);
        using (await high.AcquireAsync())
        {
            var error = Assert.Throws<LockOrderViolationException>(() => { _ = semaphore.AcquireAsync(); });
            Assert.Contains("low-slots", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, semaphore.QueuedWaiterCount);

        // In order it is fine, and it is recorded as held by the flow while its permit is out.
        semaphore.Release();
        using (await semaphore.AcquireAsync())
        {
            Assert.Throws<LockOrderViolationException>(() => { _ = new AsyncExclusiveLock("lower", level: 5).AcquireAsync(); });
        }

        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact]
    public async Task PermitsHaveNoOwner_AScopeDisposedByAnotherFlow_GivesThemBack_AndWakesAWaiter()
    {
        var semaphore = new CountingSemaphore(2, 2, "signal");
        var scope = await Task.Run(async () => await semaphore.AcquireAsync(2));
        var waiter = Task.Run(async () => await semaphore.AcquireAsync());
        Guard.SpinUntil(() => semaphore.QueuedAsyncWaiterCount == 1);

        await Task.Run(scope.Dispose);
        var next = await waiter;

        Assert.Equal(1, semaphore.CurrentCount);
        next.Dispose();
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact]
    public void Uncontended_AcquireAndRelease_AllocatesNothing()
    {
        var semaphore = new CountingSemaphore(2, 2, "alloc");
        void Body()
        {
            var task = semaphore.AcquireAsync();
            task.Result.Dispose();
            var two = semaphore.TryAcquireAsync(2, TimeSpan.FromSeconds(1));
            two.Result.Dispose();
        }

        Assert.Equal(0, Allocations.FewestOfThreeWindows(Body));
        Assert.Equal(2, semaphore.CurrentCount);
    }

    /// <summary>
    /// The public count of queued waiters (a new user could not see the queue the FIFO promise is about): threads and
    /// flows are counted while queued, and leave it when served, cancelled or timed out.
    /// </summary>
    [Fact]
    public async Task WaitingCount_CountsQueuedThreadsAndFlows_UntilServedOrGone()
    {
        var pool = new CountingSemaphore(1, 1, "connections");
        var held = await pool.AcquireAsync();
        Assert.Equal(0, pool.WaitingCount);

        using var cancel = new CancellationTokenSource();
        var cancelled = Task.Run(() => pool.AcquireAsync(cancel.Token).AsTask());
        Guard.SpinUntil(() => pool.WaitingCount == 1);
        var flow = Task.Run(() => pool.AcquireAsync().AsTask());
        Guard.SpinUntil(() => pool.WaitingCount == 2);
        var thread = new Thread(() =>
        {
            using var scope = pool.Acquire();
        });
        thread.Start();
        Guard.SpinUntil(() => pool.WaitingCount == 3);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Guard.HangLimit));
        Assert.Equal(2, pool.WaitingCount);

        held.Dispose();
        using (await flow.WaitAsync(Guard.HangLimit))
        {
            // The thread still waits (a thread woken to retry leaves the queue for a moment, so this waits to see it back).
            Guard.SpinUntil(() => pool.WaitingCount == 1);
            Assert.True(thread.IsAlive);
        }

        thread.JoinGuarded();
        Assert.Equal(0, pool.WaitingCount);
        Assert.Equal(1, pool.CurrentCount);
    }
}
