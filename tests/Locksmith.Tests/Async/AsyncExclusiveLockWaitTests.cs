using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>Waiting on an <see cref="AsyncExclusiveLock"/>: hand-off, continuations, cancellation and timeouts.</summary>
public sealed class AsyncExclusiveLockWaitTests
{
    [ThreadStatic]
    private static bool s_releasing;

    [Fact]
    public async Task TenThousandQueuedWaiters_NeverRunOnTheReleasingStack_AndTheStackStaysFlat()
    {
        var gate = new AsyncExclusiveLock("deep-queue");
        await using var holder = await HeldByAnotherFlow.StartAsync(gate, onRelease: releasing => s_releasing = releasing);
        int inline = 0;
        var depths = new ConcurrentBag<int>();

        // Started from this test's frame, which holds nothing: each waiter is a flow of its own.
        var waiters = Enumerable.Range(0, 10_000).Select(_ => Wait()).ToArray();
        Assert.Equal(10_000, gate.WaitingCount);

        await holder.ReleaseAsync();
        await Task.WhenAll(waiters);

        Assert.Equal(0, inline);
        Assert.Equal(10_000, depths.Count);
        // Inline continuations would nest one hand-off inside the next: thousands of frames deep.
        Assert.True(depths.Max() - depths.Min() < 50, $"stack depth ranged {depths.Min()}..{depths.Max()}");
        Assert.False(gate.IsHeld);

        async Task Wait()
        {
            var scope = await gate.AcquireAsync();
            if (s_releasing)
            {
                Interlocked.Increment(ref inline);
            }

            depths.Add(new StackTrace().FrameCount);
            s_releasing = true;
            scope.Dispose();
            s_releasing = false;
        }
    }

    [Fact]
    public async Task ATimerThatFiresBeforeTheDeadline_IsSetAgain_AndTheWaitStillTimesOut()
    {
        // A timer queue on another clock than Environment.TickCount64 (Windows') can fire a little early. Before, such a
        // firing was taken for a leftover of an earlier wait and dropped: the wait never timed out.
        var gate = new AsyncExclusiveLock("early-timer");
        await using var holder = await HeldByAnotherFlow.StartAsync(gate);

        // Long enough that the real timer cannot have fired before the early firing below, even on a loaded machine.
        var waiting = gate.AcquireAsync(TimeSpan.FromSeconds(3)).AsTask();
        Assert.Equal(1, gate.WaitingCount);

        gate.FirstWaiterForTests!.FireTimerEarlyForTests();
        Assert.Equal(1, gate.WaitingCount);
        Assert.False(waiting.IsCompleted);

        var error = await Assert.ThrowsAsync<LockTimeoutException>(() => waiting.WaitAsync(Guard.HangLimit));
        Assert.Contains("'early-timer'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, gate.WaitingCount);
    }

    [Fact]
    public async Task AnEarlyFiringOfAFinishedWait_DoesNotSetTheTimerOfTheNodesNextWait()
    {
        // An early firing found the wait still on, and was about to set the timer again for the ten minutes left; the
        // wait was granted and its node taken for a 3 s wait meanwhile. Before, the firing then set the new wait's
        // timer to ten minutes.
        var gate = new AsyncExclusiveLock("reused-timer");
        var holder = await HeldByAnotherFlow.StartAsync(gate);
        ExceptionDispatchInfo? failure = null;

        // A thread of its own: its spare-node slot starts empty, so the second wait is sure to take the first one's node.
        var waiter = new Thread(() =>
        {
            try
            {
                var first = gate.AcquireAsync(TimeSpan.FromMinutes(10));
                var node = gate.FirstWaiterForTests!;
                using var inWindow = new ManualResetEventSlim();
                using var resume = new ManualResetEventSlim();
                var firing = new Thread(() => node.FireTimerEarlyForTests(beforeSetAgain: () =>
                {
                    inWindow.Set();
                    resume.Wait();
                }));
                firing.Start();
                Assert.True(inWindow.Wait(Guard.HangLimit));

                Assert.True(holder.ReleaseAsync().Wait(Guard.HangLimit));
                Assert.True(first.IsCompleted);
                first.GetAwaiter().GetResult().Dispose();
                var nextHolder = HeldByAnotherFlow.StartAsync(gate).GetAwaiter().GetResult();

                var second = gate.AcquireAsync(TimeSpan.FromSeconds(3)).AsTask();
                Assert.Same(node, gate.FirstWaiterForTests);
                resume.Set();
                firing.Join();

                var error = Assert.Throws<LockTimeoutException>(() => second.WaitAsync(Guard.HangLimit).GetAwaiter().GetResult());
                Assert.Contains("'reused-timer'", error.Message, StringComparison.Ordinal);
                Assert.Equal(0, gate.WaitingCount);
                Assert.True(nextHolder.ReleaseAsync().Wait(Guard.HangLimit));
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        });
        waiter.Start();
        waiter.Join();
        failure?.Throw();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public async Task BlockingOnAPendingAcquisition_ThrowsNamingTheLock_AndWithdrawsTheWait()
    {
        // .GetAwaiter().GetResult() on the ValueTask of a queued wait: the wait's outcome would never be read, so a grant
        // would leave the lock held for good. Before, a bare "Operation is not valid due to the current state of the
        // object." and the lock stayed held by the orphaned wait once its holder released it.
        var exclusive = new AsyncExclusiveLock("orders");
        var holder = await HeldByAnotherFlow.StartAsync(exclusive);
        var error = await Task.Run(() => Assert.Throws<InvalidOperationException>(() => exclusive.AcquireAsync().GetAwaiter().GetResult()));
        Assert.Contains("its wait for exclusive access to 'orders' before the wait completed", error.Message, StringComparison.Ordinal);
        Assert.Contains("The wait was withdrawn; nothing is held. Await the acquisition, or call .AsTask()", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, exclusive.WaitingCount);
        await holder.ReleaseAsync();
        Assert.False(exclusive.IsHeld);
        using (var again = await exclusive.AcquireAsync(TimeSpan.Zero))
        {
            Assert.True(again.IsAcquired);
        }

        var prices = new AsyncReadWriteLock("prices");
        var reading = await prices.AcquireReadAsync();
        Task<InvalidOperationException> blocking;
        using (ExecutionContext.SuppressFlow())
        {
            // A flow of its own: this one reads.
            blocking = Task.Run(() => Assert.Throws<InvalidOperationException>(() => prices.AcquireWriteAsync().GetAwaiter().GetResult()));
        }

        var blockedWriter = await blocking;
        Assert.Contains("write access to 'prices'", blockedWriter.Message, StringComparison.Ordinal);
        reading.Dispose();
        Assert.False(prices.IsWriteHeld);
        Assert.Equal(0, prices.CurrentReaderCount);
        Assert.Equal(0, prices.WaitingCount);

        var slots = new CountingSemaphore(1, 2, "slots");
        var blockedPermits = await Task.Run(() => Assert.Throws<InvalidOperationException>(() => slots.AcquireAsync(2).GetAwaiter().GetResult()));
        Assert.Contains("'slots'", blockedPermits.Message, StringComparison.Ordinal);
        slots.Release();
        Assert.Equal(2, slots.CurrentCount);
        Assert.Equal(0, slots.QueuedWaiterCount);
    }

    [Fact]
    public async Task ReadingAQueuedAcquisitionsValueTaskAgain_ThrowsClearly_AndNeverPoolsItsNodeTwice()
    {
        // Before, the second read (an await, or .AsTask() after one) completed again on the recycled node: a
        // NullReferenceException, and the node was put in the pool a second time, so two later waits shared it.
        var gate = new AsyncExclusiveLock("read-twice");
        var holder = await HeldByAnotherFlow.StartAsync(gate);
        var queued = gate.AcquireAsync();
        Assert.Equal(1, gate.WaitingCount);
        await holder.ReleaseAsync();
        (await queued).Dispose();

        // From here to the rents nothing awaits anything incomplete: one thread reads again and rents, so the node the
        // first read recycled on this thread is in reach of the rents.
        var awaitedAgain = await Assert.ThrowsAsync<InvalidOperationException>(async () => await queued);
        // A faulted task, not a throw: the same read registered as the wait ends is told through its task as well.
        var asTask = await Record.ExceptionAsync(() => queued.AsTask());
        var blocked = Record.Exception(() => queued.GetAwaiter().GetResult());

        // The pool holds every node once: as many rents as it can serve, and more, are all different nodes.
        var rented = Enumerable.Range(0, 40).Select(_ => AsyncWaitNode.Rent()).ToArray();
        Assert.Equal(rented.Length, rented.Distinct().Count());
        Assert.Contains("read the ValueTask of an async lock acquisition that was read already", awaitedAgain.Message, StringComparison.Ordinal);
        Assert.Contains("call .AsTask() once", awaitedAgain.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(asTask);
        Assert.IsType<InvalidOperationException>(blocked);
        Assert.False(gate.IsHeld);
        foreach (var node in rented)
        {
            node.Recycle();
        }

        // And the lock still hands over in order.
        var second = await HeldByAnotherFlow.StartAsync(gate);
        var next = gate.AcquireAsync().AsTask();
        await second.ReleaseAsync();
        (await next.WaitAsync(Guard.HangLimit)).Dispose();
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
    }

    [Fact]
    public async Task AQueuedAcquisitionsValueTaskReadFromTwoThreadsAtOnce_GivesTheScopeOnce_AndNeverPoolsItsNodeTwice()
    {
        // Before, both reads could pass the stale-token check before either recycled the node: both got the scope, and
        // the node went into the pool twice. Each round: a queued acquisition (the lock held by the test's flow, asked
        // for by a worker under SuppressFlow, a flow of its own) is granted, then two threads read its result at once.
        const int Rounds = 3_000;
        var gates = Enumerable.Range(0, Rounds).Select(r => new AsyncExclusiveLock($"read-at-once-{r}")).ToArray();
        var holds = new AsyncLockScope[Rounds];
        for (int r = 0; r < Rounds; r++)
        {
            holds[r] = await gates[r].AcquireAsync();
        }

        var queued = new ValueTask<AsyncLockScope>[Rounds];
        var took = new int[Rounds];
        var refused = new int[Rounds];
        int ready = 0, answered = 0;
        using (ExecutionContext.SuppressFlow())
        {
            Concurrently.Run(2, thread =>
            {
                for (int r = 0; r < Rounds; r++)
                {
                    if (thread == 0)
                    {
                        queued[r] = gates[r].AcquireAsync();
                        holds[r].Dispose();
                        Guard.SpinUntil(() => queued[r].IsCompleted);
                    }

                    Meet(ref ready, r);
                    AsyncLockScope scope = default;
                    bool taken = false;
                    try
                    {
                        scope = queued[r].GetAwaiter().GetResult();
                        taken = true;
                        Interlocked.Increment(ref took[r]);
                    }
                    catch (InvalidOperationException error) when (error.Message.Contains("read already", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref refused[r]);
                    }
                    catch (Exception)
                    {
                        // Anything else (a node completed twice) is neither, and fails the round.
                    }

                    Meet(ref answered, r);
                    if (taken)
                    {
                        try
                        {
                            scope.Dispose();
                        }
                        catch (SynchronizationLockException)
                        {
                            // Two scopes of one hold (before the fix): the second finds it released.
                        }
                    }
                }
            });
        }

        Assert.Equal(0, Enumerable.Range(0, Rounds).Count(r => took[r] != 1 || refused[r] != 1));
        Assert.All(gates, gate => Assert.False(gate.IsHeld));

        // The pool holds every node once: as many rents as it can serve, and more, are all different nodes.
        var rented = Enumerable.Range(0, 40).Select(_ => AsyncWaitNode.Rent()).ToArray();
        Assert.Equal(rented.Length, rented.Distinct().Count());
        foreach (var node in rented)
        {
            node.Recycle();
        }

        static void Meet(ref int arrivals, int round)
        {
            Interlocked.Increment(ref arrivals);
            var spinner = default(SpinWait);
            for (int spins = 0; Volatile.Read(ref arrivals) < 2 * (round + 1); spins++)
            {
                if (spins > 10_000)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }
        }
    }

    [Fact]
    public async Task ACancelledWaiter_LeavesAtOnce_AndTheNextWaiterGetsTheHandOff()
    {
        var gate = new AsyncExclusiveLock("cancel-first");
        await using var holder = await HeldByAnotherFlow.StartAsync(gate);
        using var cancel = new CancellationTokenSource();
        var first = gate.AcquireAsync(cancel.Token).AsTask();
        var second = gate.AcquireAsync().AsTask();
        Assert.Equal(2, gate.WaitingCount);

        cancel.Cancel();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal(1, gate.WaitingCount);
        Assert.Contains("'cancel-first'", error.Message, StringComparison.Ordinal);

        await holder.ReleaseAsync();
        var held = await second;
        Assert.True(held.IsAcquired);
        Assert.True(gate.IsHeld);
        held.Dispose();
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
    }

    [Fact]
    public async Task CancellationRacingTheRelease_NeverLosesTheLock()
    {
        var gate = new AsyncExclusiveLock("cancel-race");
        int granted = 0, cancelled = 0;
        for (int round = 0; round < 2_000; round++)
        {
            var holder = await HeldByAnotherFlow.StartAsync(gate);
            using var cancel = new CancellationTokenSource();
            var racer = Task.Run(async () =>
            {
                try
                {
                    using var scope = await gate.AcquireAsync(cancel.Token);
                    Interlocked.Increment(ref granted);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelled);
                }
            });
            var follower = Task.Run(async () => { using var scope = await gate.AcquireAsync(); });

            var cancelling = Task.Run(cancel.Cancel);
            await holder.ReleaseAsync();
            await Task.WhenAll(racer, follower, cancelling);
        }

        Assert.Equal(2_000, granted + cancelled);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
    }

    [Fact]
    public async Task TimeoutAndCancellationStorm_LeavesCountsAndOwnershipExact()
    {
        var gate = new AsyncExclusiveLock("storm");
        int counter = 0, successes = 0, failures = 0;

        async Task Flow(int seed)
        {
            var random = new Random(seed);
            for (int attempt = 0; attempt < 400; attempt++)
            {
                using var cancel = new CancellationTokenSource();
                if (random.Next(3) == 0)
                {
                    cancel.CancelAfter(random.Next(0, 3));
                }

                try
                {
                    var scope = await gate.TryAcquireAsync(TimeSpan.FromMilliseconds(random.Next(0, 3)), cancel.Token);
                    if (!scope.IsAcquired)
                    {
                        Interlocked.Increment(ref failures);
                        continue;
                    }

                    using (scope)
                    {
                        int seen = counter;
                        if (random.Next(4) == 0)
                        {
                            await Task.Yield();
                        }

                        counter = seen + 1;
                        Interlocked.Increment(ref successes);
                    }
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => Flow(i))));

        Assert.Equal(1_600, successes + failures);
        Assert.Equal(successes, counter);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        using var after = await gate.AcquireAsync();
        Assert.True(after.IsAcquired);
    }

    [Fact]
    public async Task ATimeout_NamesTheLock_TheOwningFlowAndItsActivity_AndTheWait()
    {
        var gate = new AsyncExclusiveLock("orders");
        var holderHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(async () =>
        {
            using var activity = new Activity("ImportOrders").Start();
            using var scope = await gate.AcquireAsync();
            holderHolds.SetResult();
            await letGo.Task;
        });
        await holderHolds.Task;

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(TimeSpan.FromMilliseconds(20)));

        Assert.Contains("'orders'", error.Message, StringComparison.Ordinal);
        Assert.Contains("held by flow #", error.Message, StringComparison.Ordinal);
        Assert.Contains("ImportOrders", error.Message, StringComparison.Ordinal);
        Assert.Contains("timed out after", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, gate.WaitingCount);
        letGo.SetResult();
        await holder;
        Assert.False(gate.IsHeld);

        var tried = await gate.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(tried.IsAcquired);
        tried.Dispose();
    }
}

/// <summary>
/// Holds an async lock in a flow of its own until released, so the test's frame (which holds nothing) and the tasks it
/// starts wait like any other flow instead of sharing the holder's ownership.
/// </summary>
internal sealed class HeldByAnotherFlow : IAsyncDisposable
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _flow = Task.CompletedTask;

    public static async Task<HeldByAnotherFlow> StartAsync(AsyncExclusiveLock gate, Action<bool>? onRelease = null)
    {
        var held = new HeldByAnotherFlow();
        var holds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (ExecutionContext.SuppressFlow())
        {
            held._flow = Task.Run(async () =>
            {
                var scope = await gate.AcquireAsync();
                holds.SetResult();
                await held._release.Task;
                onRelease?.Invoke(true);
                scope.Dispose();
                onRelease?.Invoke(false);
            });
        }

        await holds.Task;
        return held;
    }

    public Task ReleaseAsync()
    {
        _release.TrySetResult();
        return _flow;
    }

    public async ValueTask DisposeAsync() => await ReleaseAsync();
}
