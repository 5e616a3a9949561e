using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

public sealed class AsyncLockSetTests
{
    [Fact]
    public async Task ThousandRandomTransfers_AmongTenAccounts_FromFourFlows_KeepTheTotalExact()
    {
        // Accounts are guarded by async exclusive locks, one-permit semaphores and read-write locks (write mode): every kind of member.
        var guards = Enumerable.Range(0, 10)
            .Select(i => (i % 3) switch
            {
                0 => (IAsyncLockSetMember)new AsyncExclusiveLock($"account-{i}", level: 10),
                1 => new CountingSemaphore(1, 1, $"account-{i}", level: 10),
                _ => new AsyncReadWriteLock($"account-{i}", level: 10),
            })
            .ToArray();
        var balances = Enumerable.Repeat(1_000L, 10).ToArray();
        var flows = Enumerable.Range(0, 4).Select(seed => Task.Run(async () =>
        {
            var random = new Random(seed);
            for (int i = 0; i < 250; i++)
            {
                int from = random.Next(10);
                int to = random.Next(10);
                long amount = random.Next(1, 50);
                using var scope = await LockSet.AcquireAsync(guards[from], guards[to]);
                long fromBalance = balances[from];
                await Task.Yield();
                balances[from] = fromBalance - amount;
                long toBalance = balances[to];
                await Task.Yield();
                balances[to] = toBalance + amount;
            }
        }));

        await Task.WhenAll(flows);

        Assert.Equal(10_000, balances.Sum());
        Assert.All(guards.OfType<AsyncExclusiveLock>(), g => Assert.False(g.IsHeld));
        Assert.All(guards.OfType<CountingSemaphore>(), s => Assert.Equal(1, s.CurrentCount));
    }

    [Fact]
    public async Task AReadWriteMember_IsTakenInWriteMode_AndAFlowReadingItIsRefused()
    {
        var table = new AsyncReadWriteLock("set-table");
        var index = new AsyncExclusiveLock("set-index");

        await using (var set = await LockSet.AcquireAsync(table, index))
        {
            Assert.True(table.IsWriteHeldByCurrentFlow);
            // Another flow (a task started under this one would share its holds and be refused as re-entry).
            Task<AsyncLockScope> other;
            using (ExecutionContext.SuppressFlow())
            {
                other = Task.Run(async () => await table.TryAcquireReadAsync(TimeSpan.Zero));
            }

            Assert.False((await other).IsAcquired);
        }

        Assert.False(table.IsWriteHeld);
        using (await table.AcquireReadAsync())
        {
            Assert.Throws<LockRecursionException>(() => { _ = LockSet.AcquireAsync(table, index); });
            Assert.False(index.IsHeld);
        }
    }

    [Fact]
    public async Task ContendedSet_IsHeldByTheAwaitingFlow_AfterTheAwait()
    {
        var a = new AsyncExclusiveLock("a");
        var b = new AsyncExclusiveLock("b");
        var heldB = await Task.Run(async () => await b.AcquireAsync());

        var set = LockSet.AcquireAsync(a, b);
        Guard.SpinUntil(() => b.WaitingCount == 1);
        heldB.Dispose();
        using (var scope = await set)
        {
            Assert.Equal(2, scope.Count);
            Assert.True(a.IsHeldByCurrentFlow);
            Assert.True(b.IsHeldByCurrentFlow);
        }

        Assert.False(a.IsHeld);
        Assert.False(b.IsHeld);
    }

    [Fact]
    public async Task TimedOutOrCancelledSet_HoldsNothing()
    {
        var a = new AsyncExclusiveLock("free");
        var b = new AsyncExclusiveLock("busy");
        var slots = new CountingSemaphore(2, 2, "slots");
        var heldB = await Task.Run(async () => await b.AcquireAsync());
        IReadOnlyList<IAsyncLockSetMember> set = [a, slots, b];

        var tried = await LockSet.TryAcquireAsync(TimeSpan.FromMilliseconds(20), set);
        var once = await LockSet.TryAcquireAsync(TimeSpan.Zero, set);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(TimeSpan.FromMilliseconds(20), set));
        using var cancel = new CancellationTokenSource();
        var cancelled = LockSet.AcquireAsync(set, cancel.Token).AsTask();
        Guard.SpinUntil(() => b.WaitingCount == 1);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        Assert.False(tried.IsAcquired);
        Assert.False(once.IsAcquired);
        Assert.Contains("'busy'", error.Message, StringComparison.Ordinal);
        Assert.False(a.IsHeld);
        Assert.Equal(2, slots.CurrentCount);
        Assert.Equal(0, b.WaitingCount);
        heldB.Dispose();
        Assert.False(b.IsHeld);
        using (var all = await LockSet.AcquireAsync(set))
        {
            Assert.Equal(1, slots.CurrentCount);
        }

        Assert.Equal(2, slots.CurrentCount);
    }

    // A try-once that finds a member busy is no timeout (as each lock's own try-once): no event, no metric, so polling a
    // set stays quiet. A throwing zero-timeout acquisition still reports one.
    [Fact]
    public async Task ATryOnceOfABusySet_RecordsNoTimeout_AThrowingOneDoes()
    {
        using var policy = PolicyScope.Capture();
        var events = new System.Collections.Concurrent.ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = events.Enqueue;
        var free = new AsyncExclusiveLock("try-once-free");
        var busy = new AsyncExclusiveLock("try-once-busy");
        var held = await Task.Run(async () => await busy.AcquireAsync());

        var once = await LockSet.TryAcquireAsync(TimeSpan.Zero, [free, busy]);
        int afterTry = events.Count(e => e.LockName == "try-once-busy");
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(TimeSpan.Zero, [free, busy]));

        Assert.False(once.IsAcquired);
        Assert.Equal(0, afterTry);
        Assert.Equal(1, events.Count(e => e.LockName == "try-once-busy"));
        Assert.False(free.IsHeld);
        held.Dispose();
    }

    // Cancelled during its back-off pause, a set threw the pause's bare "A task was canceled."; every cancellation now
    // names the set's lock or locks it waited for. Two flows churn the members so the set keeps backing off; 100 cancelled attempts.
    [Fact]
    public async Task ACancellationDuringTheSetsBackOff_NamesTheSetsLocks()
    {
        var a = new AsyncExclusiveLock("backoff-a");
        var b = new AsyncExclusiveLock("backoff-b");
        using var stop = new CancellationTokenSource();
        var aHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task Churn(AsyncExclusiveLock gate, TaskCompletionSource held) => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using (await gate.AcquireAsync())
                {
                    held.TrySetResult();
                    await Task.Delay(2);
                }
            }
        });
        var churn = Task.WhenAll(Churn(a, aHeld), Churn(b, bHeld));

        // On a loaded machine the churners may start late: until both have taken their lock, every set is free.
        await Task.WhenAll(aHeld.Task, bHeld.Task);
        var bare = new List<string>();
        int cancelled = 0;
        try
        {
            for (int attempt = 0; attempt < 1_000 && cancelled < 100; attempt++)
            {
                using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(15));
                try
                {
                    using var set = await LockSet.AcquireAsync([a, b], cancel.Token);
                }
                catch (OperationCanceledException e)
                {
                    cancelled++;
                    if (!e.Message.Contains("'backoff-a'", StringComparison.Ordinal) && !e.Message.Contains("'backoff-b'", StringComparison.Ordinal))
                    {
                        bare.Add($"{e.GetType().Name}: {e.Message}");
                    }
                }
            }
        }
        finally
        {
            stop.Cancel();
            await churn;
        }

        Assert.Empty(bare);
        Assert.True(cancelled > 0, "no attempt was cancelled");
        Assert.False(a.IsHeld);
        Assert.False(b.IsHeld);
    }

    [Fact]
    public async Task OrderViolation_AgainstAHeldHigherLevelAsyncLock_ThrowsBeforeWaiting()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var high = new AsyncExclusiveLock("high", level: 20);
        var low1 = new AsyncExclusiveLock("low-1", level: 10);
        var low2 = new AsyncExclusiveLock("low-2", level: 10);
        var heldLow2 = await Task.Run(async () => await low2.AcquireAsync());

        using (await high.AcquireAsync())
        {
            // low-2 is busy, so the set would wait on it: the check must come first.
            var error = Assert.Throws<LockOrderViolationException>(() => { _ = LockSet.AcquireAsync(low1, low2); });
            Assert.Contains("low-1", error.Message, StringComparison.Ordinal);

            // Advice that fits a set (a trial saw "or use LockSet to take both" given to a LockSet call).
            Assert.EndsWith(
                "release 'high' before taking the set, or take it in the same set, which takes its locks in the global order.",
                error.Message,
                StringComparison.Ordinal);
        }

        Assert.Equal(0, low2.WaitingCount);
        Assert.False(low1.IsHeld);
        heldLow2.Dispose();
    }

    /// <summary>As the sync set: a list naming a lock twice is an ArgumentException naming it and both places, thrown at once.</summary>
    [Fact]
    public void ALockListedTwice_IsAnArgumentException_NamingItAndBothPlaces_AndNothingIsTaken()
    {
        var a = new AsyncExclusiveLock("a");
        var pool = new CountingSemaphore(3, 3, "pool");

        var ex = Assert.Throws<ArgumentException>(() => { _ = LockSet.AcquireAsync([a, pool, a]); });
        Assert.Equal("locks", ex.ParamName);
        Assert.Contains("listed 'a' twice in a lock set, as locks[0] and locks[2]; nothing was taken. List each lock once.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("LockSet.AcquireLocksOfAsync", ex.Message, StringComparison.Ordinal);
        var semaphore = Assert.Throws<ArgumentException>(() => { _ = LockSet.AcquireAsync(TimeSpan.FromSeconds(5), [pool, a, pool]); });
        Assert.Contains("listed 'pool' twice in a lock set, as locks[0] and locks[2]", semaphore.Message, StringComparison.Ordinal);
        Assert.Contains("call the semaphore's AcquireAsync(count) instead", semaphore.Message, StringComparison.Ordinal);
        Assert.Contains("as locks[0] and locks[1]", Assert.Throws<ArgumentException>(() => { _ = LockSet.TryAcquireAsync(TimeSpan.Zero, [pool, pool]); }).Message, StringComparison.Ordinal);
        Assert.False(a.IsHeld);
        Assert.Equal(3, pool.CurrentCount);
    }

    [Fact]
    public async Task AcquireLocksOfAsync_AndTheTwoLockForm_TakeALockGivenTwiceOnce()
    {
        var a = new AsyncExclusiveLock("a");
        var pool = new CountingSemaphore(3, 3, "pool");

        using (var scope = await LockSet.AcquireLocksOfAsync([a, pool, a, pool]))
        {
            Assert.Equal(2, scope.Count);
            Assert.True(a.IsHeldByCurrentFlow);
            Assert.Equal(2, pool.CurrentCount);
        }

        using (var scope = await LockSet.AcquireLocksOfAsync(TimeSpan.FromSeconds(5), [a, a]))
        {
            Assert.Equal(1, scope.Count);
        }

        using (var scope = await LockSet.TryAcquireLocksOfAsync(TimeSpan.Zero, [pool, pool]))
        {
            Assert.True(scope.IsAcquired);
            Assert.Equal(2, pool.CurrentCount);
        }

        using (var scope = await LockSet.AcquireAsync(a, a))
        {
            Assert.Equal(1, scope.Count);
        }

        Assert.False(a.IsHeld);
        Assert.Equal(3, pool.CurrentCount);
    }

    [Fact]
    public async Task AMemberTheFlowHolds_ThrowsAtOnce_TakingNothing()
    {
        var a = new AsyncExclusiveLock("mine");
        var b = new AsyncExclusiveLock("other");
        using (await a.AcquireAsync())
        {
            var error = Assert.Throws<LockRecursionException>(() => { _ = LockSet.AcquireAsync(b, a); });
            Assert.Contains("'mine'", error.Message, StringComparison.Ordinal);
            Assert.False(b.IsHeld);
        }
    }

    [Fact]
    public async Task DisposingASetTwice_Throws_AndReleasesNothingMore()
    {
        var a = new AsyncExclusiveLock("a");
        var slots = new CountingSemaphore(2, 2, "slots");
        var scope = await LockSet.AcquireAsync(a, slots);
        scope.Dispose();
        var later = await a.AcquireAsync();

        Assert.Throws<SynchronizationLockException>(scope.Dispose);

        Assert.True(later.IsAcquired && a.IsHeld);
        Assert.Equal(2, slots.CurrentCount);
        later.Dispose();
    }

    [Fact]
    public async Task ASetWhoseMembersFailToRelease_StillReleasesTheRest_AndThrowsTheFirstFailure()
    {
        // Two semaphores filled by other releases meanwhile refuse their permits (SemaphoreFullException); the lock the
        // set releases after them (unordered, so taken first and released last) must still be released. Before, only
        // the first failure was caught and the second left the loop, so the lock stayed held for good.
        var gate = new AsyncExclusiveLock("set-release-gate");
        var first = new CountingSemaphore(1, 1, "set-release-first", level: 1);
        var second = new CountingSemaphore(1, 1, "set-release-second", level: 2);
        var scope = await LockSet.AcquireAsync([gate, first, second]);
        first.Release();
        second.Release();

        var failure = Assert.Throws<SemaphoreFullException>(scope.Dispose);

        Assert.False(gate.IsHeld);
        Assert.False(gate.IsHeldByCurrentFlow);
        using var again = await gate.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(again.IsAcquired);
        Assert.Contains("set-release-second", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlockingOnAContendedSet_WaitsForTheSet_AndLeavesNothingHeld()
    {
        // .GetAwaiter().GetResult() on a set that waits. Before, the set ran on a pooled box that went back to its pool
        // as the blocking read threw ("Operation is not valid ..."), while the set's wait went on: once the holder let go,
        // the orphaned wait took the lock and nothing ever released it (and the box could be reused meanwhile).
        var free = new AsyncExclusiveLock("blocked-set-free");
        var busy = new AsyncExclusiveLock("blocked-set-busy");
        var holder = await HeldByAnotherFlow.StartAsync(busy);
        int reading = 0, count = 0;
        var blocking = Worker.Start("blocked-set", () =>
        {
            var set = LockSet.AcquireAsync(free, busy);
            Volatile.Write(ref reading, 1);
            using var scope = set.GetAwaiter().GetResult();
            count = scope.Count;
        });

        // The holder lets go only once the worker blocks on the pending set (or has failed reading it).
        Guard.SpinUntil(() => Volatile.Read(ref reading) == 1 && (blocking.IsBlocked || blocking.HasEnded));
        await holder.ReleaseAsync();

        blocking.JoinGuarded();
        Assert.Equal(2, count);
        Assert.False(free.IsHeld);
        Assert.False(busy.IsHeld);
        using var again = await LockSet.AcquireAsync(free, busy);
        Assert.True(again.IsAcquired);
    }

    [Fact]
    public async Task ManyFlows_LockingOverlappingSetsInAnyOrder_NeverDeadlock()
    {
        var locks = Enumerable.Range(0, 6).Select(i => (IAsyncLockSetMember)new AsyncExclusiveLock($"m{i}")).ToArray();
        int counter = 0;
        var flows = Enumerable.Range(0, 1_000).Select(i => Task.Run(async () =>
        {
            IReadOnlyList<IAsyncLockSetMember> set = [locks[i % 6], locks[(i + 3) % 6], locks[(i * 5 + 1) % 6], locks[0], locks[(i + 1) % 6]];
            // The draws repeat locks (m0 twice when i % 6 == 0): the locks of overlapping objects, each taken once.
            await using var scope = await LockSet.AcquireLocksOfAsync(set);
            int seen = counter;
            await Task.Yield();
            counter = seen + 1;
        }));

        await Task.WhenAll(flows);

        Assert.Equal(1_000, counter);
        Assert.All(locks.Cast<AsyncExclusiveLock>(), l => Assert.False(l.IsHeld));
    }

    // The set threw after its member's wait had timed out and reported it, reading the semaphore's count then: permits
    // given back from the member's TimeoutOccurred handler made the set's message say 5 were free, of a wait that saw none.
    [Fact]
    public async Task ASemaphoreMembersOwnTimeout_DescribesTheCountItsWaitSawWhenItGaveUp_NotPermitsGivenBackAfterItsEvent()
    {
        using var policy = PolicyScope.Capture();
        var permits = new CountingSemaphore(0, 8, "async-set-member-gave-up");
        var other = new AsyncExclusiveLock("async-set-member-gave-up-other");
        int reports = 0;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName == permits.Name)
            {
                Interlocked.Increment(ref reports);
                permits.Release(5);   // another thread's permits come back just as the timeout is reported
            }
        };

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(TimeSpan.FromMilliseconds(20), [permits, other]));

        Assert.Equal(1, reports);   // the member's own wait reported it; the set added no report of its own
        Assert.Contains("permit(s) of semaphore 'async-set-member-gave-up'; when it gave up, 0 of its maximum 8 were free", ex.Message, StringComparison.Ordinal);
        Assert.Equal(5, permits.CurrentCount);
        Assert.False(other.IsHeld);
    }

    // The set threw after its member's wait had timed out and reported it, reading the holder again then: a holder that
    // left during the event's handler made it say "held in a shared mode or released" with OwnerThreadId 0, of an
    // exclusive lock whose event had just named the holding flow.
    [Fact]
    public async Task AnExclusiveMembersOwnTimeout_NamesTheHolderItsEventNamed_EvenIfTheHolderLeftDuringTheEvent()
    {
        using var policy = PolicyScope.Capture();
        var gate = new AsyncExclusiveLock("async-set-holder-left");
        var other = new AsyncExclusiveLock("async-set-holder-left-other");
        var holder = await HolderLeavingOnTimeout.TakeAsync(gate);

        var ex = await Task.Run(async () =>
            await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(TimeSpan.FromMilliseconds(20), [gate, other])));

        var timeout = holder.Timeout;
        Assert.NotNull(timeout);
        Assert.False(gate.IsHeld);
        Assert.False(other.IsHeld);
        Assert.Contains("('Holder')", timeout.OwnerThreadName, StringComparison.Ordinal);
        Assert.Equal(timeout.OwnerThreadId, ex.OwnerThreadId);
        Assert.Equal(timeout.OwnerThreadName, ex.OwnerThreadName);
        Assert.Contains($"access to '{gate.Name}', held by {timeout.OwnerThreadName}.", ex.Message, StringComparison.Ordinal);
    }
}
