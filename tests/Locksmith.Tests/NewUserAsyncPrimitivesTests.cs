using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests;

/// <summary>
/// A new user's scenarios for the async primitives of a hosted service (caches, rate limiters, connection pools,
/// ledgers), written from README's "Async locks", "Global lock order and LockSet", "Deadlock detection", "Policy and
/// events" and "Metrics" sections only. Each ends by checking that permits, holders and queues are exactly as README says.
/// </summary>
public sealed class NewUserAsyncPrimitivesTests
{
    private const int FlowIdBase = 1 << 30;

    private static readonly TimeSpan s_short = TimeSpan.FromMilliseconds(20);

    [ThreadStatic]
    private static bool s_releasing;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A flow of its own (started while the caller holds nothing) that takes a lock, logs it, and holds it until told.</summary>
    private sealed class Participant
    {
        private readonly TaskCompletionSource _granted = NewSignal();
        private readonly TaskCompletionSource _release = NewSignal();

        public string Name { get; }

        public Task Done { get; }

        private Participant(string name, Func<ValueTask<AsyncLockScope>> acquire, ConcurrentQueue<string>? log, string? activity)
        {
            Name = name;
            Done = Task.Run(async () =>
            {
                using var trace = activity is null ? null : new Activity(activity).Start();
                var scope = await acquire();
                log?.Enqueue(name);
                _granted.SetResult();
                await _release.Task;
                s_releasing = true;
                try
                {
                    scope.Dispose();
                }
                finally
                {
                    s_releasing = false;
                }
            });
        }

        public static Participant Start(string name, Func<ValueTask<AsyncLockScope>> acquire, ConcurrentQueue<string>? log = null, string? activity = null) =>
            new(name, acquire, log, activity);

        public static async Task<Participant> Holding(string name, Func<ValueTask<AsyncLockScope>> acquire, string? activity = null)
        {
            var participant = Start(name, acquire, null, activity);
            await participant.Granted;
            return participant;
        }

        public Task Granted => _granted.Task.WaitAsync(Guard.HangLimit);

        public bool IsGranted => _granted.Task.IsCompleted;

        public async Task ReleaseAndEnd()
        {
            _release.TrySetResult();
            await Done.WaitAsync(Guard.HangLimit);
        }
    }

    private static void AssertFree(AsyncReadWriteLock rw)
    {
        Assert.False(rw.IsWriteHeld);
        Assert.Equal(0, rw.WriterFlowId);
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.Equal(0, rw.WaitingCount);
    }

    private static void AssertFree(AsyncExclusiveLock gate)
    {
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.HolderFlowId);
        Assert.Equal(0, gate.WaitingCount);
    }

    /// <summary>
    /// README: an acquisition still queued has claimed the flow already, so a task started meanwhile is part of the flow
    /// and shares the holds that wait brings (a new user's first draft hung on it: the child's lock read as the parent's).
    /// </summary>
    [Fact]
    public async Task ATaskStartedWhileTheFlowWaits_IsPartOfTheFlow_AndSharesTheHoldsThatWaitBrings()
    {
        var gate = new AsyncExclusiveLock("while-waiting-gate");
        var other = new AsyncExclusiveLock("while-waiting-other");
        var holder = await Participant.Holding("holder", () => gate.AcquireAsync());

        // A flow of its own for the parent, started while the test's flow holds nothing.
        await Task.Run(async () =>
        {
            var pending = gate.AcquireAsync().AsTask();
            Guard.SpinUntil(() => gate.WaitingCount == 1);
            var childTook = NewSignal();
            var childEnd = NewSignal();
            var child = Task.Run(async () =>
            {
                using var scope = await other.AcquireAsync();
                childTook.SetResult();
                await childEnd.Task;
            });
            await childTook.Task.WaitAsync(Guard.HangLimit);

            await holder.ReleaseAndEnd();
            using (await pending.WaitAsync(Guard.HangLimit))
            {
                Assert.True(other.IsHeldByCurrentFlow);
                Assert.Equal(gate.HolderFlowId, other.HolderFlowId);
                await Assert.ThrowsAsync<LockRecursionException>(async () => await other.TryAcquireAsync(TimeSpan.Zero));
                childEnd.SetResult();
                await child.WaitAsync(Guard.HangLimit);
            }
        });

        AssertFree(gate);
        AssertFree(other);
    }

    // ---- AsyncReadWriteLock: one arrival pattern, three policies ----

    // A writer holds; then, in this order, a reader, a writer and a reader queue. README (and the sync table) says:
    // WriterPreferred lets no reader overtake a queued writer; ReaderPreferred lets every queued reader in before a
    // writer; Fair serves arrival order, readers that arrived together before the next writer going in together.
    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred, "w2", "r1+r2")]
    [InlineData(ReadWritePolicy.ReaderPreferred, "r1+r2", "w2")]
    [InlineData(ReadWritePolicy.Fair, "r1", "w2", "r2")]
    public async Task ACatalogCache_ServesQueuedReadersAndWriters_InTheOrderItsPolicyPromises(ReadWritePolicy policy, params string[] expectedRounds)
    {
        var catalog = new AsyncReadWriteLock("catalog-" + policy, policy: policy);
        Assert.Equal(policy, catalog.Policy);
        var log = new ConcurrentQueue<string>();
        var w1 = await Participant.Holding("w1", () => catalog.AcquireWriteAsync());

        var r1 = Participant.Start("r1", () => catalog.AcquireReadAsync(), log);
        Guard.SpinUntil(() => catalog.WaitingCount == 1);
        var w2 = Participant.Start("w2", () => catalog.AcquireWriteAsync(), log);
        Guard.SpinUntil(() => catalog.WaitingCount == 2);
        var r2 = Participant.Start("r2", () => catalog.AcquireReadAsync(), log);
        Guard.SpinUntil(() => catalog.WaitingCount == 3);
        Assert.Empty(log);

        var all = new Dictionary<string, Participant> { ["r1"] = r1, ["w2"] = w2, ["r2"] = r2 };
        var previousRound = new List<Participant> { w1 };
        int served = 0;
        foreach (string round in expectedRounds)
        {
            var members = round.Split('+').Select(name => all[name]).ToList();
            foreach (var member in previousRound)
            {
                await member.ReleaseAndEnd();
            }

            foreach (var member in members)
            {
                await member.Granted;
            }

            served += members.Count;
            Assert.Equal(served, log.Count);
            Assert.Equal(3 - served, catalog.WaitingCount);
            Assert.All(all.Values.Except(members).Where(p => !p.Done.IsCompleted), p => Assert.False(p.IsGranted, p.Name + " got in out of turn"));
            bool writerRound = members.Count == 1 && members[0].Name.StartsWith('w');
            Assert.Equal(writerRound, catalog.IsWriteHeld);
            Assert.Equal(writerRound ? 0 : members.Count, catalog.CurrentReaderCount);
            previousRound = members;
        }

        foreach (var member in previousRound)
        {
            await member.ReleaseAndEnd();
        }

        // Readers let in together log in any order among themselves; the rounds keep theirs.
        var logged = log.ToArray();
        int at = 0;
        foreach (string round in expectedRounds)
        {
            var names = round.Split('+');
            Assert.Equal(names.Order(), logged.Skip(at).Take(names.Length).Order());
            at += names.Length;
        }

        Assert.Equal(3, logged.Length);
        AssertFree(catalog);
    }

    [Fact]
    public async Task WriterPreferred_AReaderArrivingBehindAQueuedWriter_NeverGetsInFirst_EvenWhileOnlyReadersHold()
    {
        var prices = new AsyncReadWriteLock("prices", policy: ReadWritePolicy.WriterPreferred);
        var log = new ConcurrentQueue<string>();
        var early = await Participant.Holding("early", () => prices.AcquireReadAsync());

        var writer = Participant.Start("writer", () => prices.AcquireWriteAsync(), log);
        Guard.SpinUntil(() => prices.WaitingCount == 1);

        // A try-once and a short wait are refused while only a reader holds.
        using (var tryOnce = await prices.TryAcquireReadAsync(TimeSpan.Zero))
        {
            Assert.False(tryOnce.IsAcquired);
        }

        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(async () => await prices.AcquireReadAsync(s_short));
        Assert.Contains("held in a shared mode with 1 writer queued ahead of it, and under WriterPreferred a reader waits behind a queued writer.", timeout.Message, StringComparison.Ordinal);
        Assert.Equal("prices", timeout.LockName);

        var late = Participant.Start("late", () => prices.AcquireReadAsync(), log);
        Guard.SpinUntil(() => prices.WaitingCount == 2);
        Assert.Equal(1, prices.CurrentReaderCount);
        Assert.Empty(log);

        await early.ReleaseAndEnd();
        await writer.Granted;
        Assert.False(late.IsGranted);
        Assert.True(prices.IsWriteHeld);
        Assert.Equal(1, prices.WaitingCount);

        await writer.ReleaseAndEnd();
        await late.Granted;
        Assert.Equal(1, prices.CurrentReaderCount);
        await late.ReleaseAndEnd();

        Assert.Equal(["writer", "late"], log);
        AssertFree(prices);
    }

    // A writer that gives up while readers hold and others queue behind it must not strand them: under WriterPreferred
    // and Fair the readers behind it were waiting only for it.
    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred, false)]
    [InlineData(ReadWritePolicy.WriterPreferred, true)]
    [InlineData(ReadWritePolicy.Fair, false)]
    [InlineData(ReadWritePolicy.Fair, true)]
    public async Task AQueuedWriterThatGivesUp_LetsTheReadersQueuedBehindItJoinTheHoldingReaders(ReadWritePolicy policy, bool byTimeout)
    {
        await UntilTheScenarioHappened(attempt => WriterGivesUpOnce(policy, byTimeout, attempt));
    }

    /// <summary>
    /// Repeats a scenario whose timed waiter may give up before the others queue behind it (a loaded machine) until it
    /// happened once; every attempt checks its end state either way. The bound is a hang guard, not a timing assertion.
    /// </summary>
    private static async Task UntilTheScenarioHappened(Func<int, Task<bool>> attempt)
    {
        for (int i = 0; ; i++)
        {
            Assert.True(i < 8, "the waiter gave up before the others queued in every attempt");
            if (await attempt(i))
            {
                return;
            }
        }
    }

    private static TimeSpan GrowingTimeout(int attempt) => TimeSpan.FromMilliseconds(200 << attempt);

    private static async Task<bool> WriterGivesUpOnce(ReadWritePolicy policy, bool byTimeout, int attempt)
    {
        var menu = new AsyncReadWriteLock($"menu-{policy}-{byTimeout}-{attempt}", policy: policy);
        var early = await Participant.Holding("early", () => menu.AcquireReadAsync());
        using var cancel = new CancellationTokenSource();
        // A flow of its own: a pending acquisition claims the test's flow, which tasks started after it would share.
        var writer = Task.Run(() => byTimeout
            ? menu.AcquireWriteAsync(GrowingTimeout(attempt), CancellationToken.None).AsTask()
            : menu.AcquireWriteAsync(cancel.Token).AsTask());
        Guard.SpinUntil(() => menu.WaitingCount == 1);
        var late1 = Participant.Start("late1", () => menu.AcquireReadAsync());
        var late2 = Participant.Start("late2", () => menu.AcquireReadAsync());
        Guard.SpinUntil(() => menu.WaitingCount == 3 || writer.IsCompleted);
        bool happened = !writer.IsCompleted;

        if (!byTimeout)
        {
            await cancel.CancelAsync();
        }

        if (byTimeout)
        {
            await Assert.ThrowsAsync<LockTimeoutException>(() => writer.WaitAsync(Guard.HangLimit));
        }
        else
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.WaitAsync(Guard.HangLimit));
        }

        await late1.Granted;
        await late2.Granted;
        Assert.Equal(3, menu.CurrentReaderCount);
        Assert.Equal(0, menu.WaitingCount);
        await early.ReleaseAndEnd();
        await late1.ReleaseAndEnd();
        await late2.ReleaseAndEnd();
        AssertFree(menu);
        return happened;
    }

    [Fact]
    public async Task ReaderPreferred_ANewReaderJoinsHoldingReaders_PastAQueuedWriter()
    {
        var sessions = new AsyncReadWriteLock("sessions", policy: ReadWritePolicy.ReaderPreferred);
        var early = await Participant.Holding("early", () => sessions.AcquireReadAsync());
        var writer = Participant.Start("writer", () => sessions.AcquireWriteAsync());
        Guard.SpinUntil(() => sessions.WaitingCount == 1);

        var joined = await Participant.Holding("joined", () => sessions.AcquireReadAsync());
        Assert.Equal(2, sessions.CurrentReaderCount);
        Assert.Equal(1, sessions.WaitingCount);
        Assert.False(writer.IsGranted);

        await early.ReleaseAndEnd();
        Assert.False(writer.IsGranted);
        await joined.ReleaseAndEnd();
        await writer.Granted;
        Assert.True(sessions.IsWriteHeld);
        await writer.ReleaseAndEnd();
        AssertFree(sessions);
    }

    [Fact]
    public async Task AReadDoesNotUpgrade_AndNeitherModeReenters_ThrowingAtOnceNamingTheLockAndTheFlow()
    {
        var config = new AsyncReadWriteLock("config");
        using (await config.AcquireReadAsync())
        {
            Assert.True(config.IsReadHeldByCurrentFlow);
            var upgrade = await Assert.ThrowsAsync<LockRecursionException>(async () => await config.AcquireWriteAsync(Guard.HangLimit));
            Assert.StartsWith("Flow #", upgrade.Message, StringComparison.Ordinal);
            Assert.Contains("'config'", upgrade.Message, StringComparison.Ordinal);
            var again = await Assert.ThrowsAsync<LockRecursionException>(async () => await config.AcquireReadAsync(Guard.HangLimit));
            Assert.Contains("'config'", again.Message, StringComparison.Ordinal);
            Assert.Equal(1, config.CurrentReaderCount);
        }

        using (await config.AcquireWriteAsync())
        {
            Assert.True(config.IsWriteHeldByCurrentFlow);
            await Assert.ThrowsAsync<LockRecursionException>(async () => await config.AcquireReadAsync(Guard.HangLimit));
            await Assert.ThrowsAsync<LockRecursionException>(async () => await config.TryAcquireWriteAsync(Guard.HangLimit));
            Assert.True(config.IsWriteHeld);
        }

        AssertFree(config);
    }

    // ---- CountingSemaphore, async forms ----

    [Fact]
    public async Task ARateLimiter_ServesAsyncWaitersFirstComeFirstServed_AndNoNewcomerTakesPermitsAheadOfThem()
    {
        var limiter = new CountingSemaphore(0, 4, "rate-limiter");
        var log = new ConcurrentQueue<string>();
        var big = Participant.Start("big", () => limiter.AcquireAsync(3), log);
        Guard.SpinUntil(() => limiter.QueuedWaiterCount == 1);
        var small = Participant.Start("small", () => limiter.AcquireAsync(1), log);
        Guard.SpinUntil(() => limiter.QueuedWaiterCount == 2);

        // One permit is free, enough for 'small', but 'big' is ahead of it: nobody takes it.
        limiter.Release(1);
        Assert.Equal(1, limiter.CurrentCount);
        Assert.False(limiter.TryAcquire(out var threadTry));
        Assert.False(threadTry.IsAcquired);
        using (var flowTry = await limiter.TryAcquireAsync(TimeSpan.Zero))
        {
            Assert.False(flowTry.IsAcquired);
        }

        var held = await Assert.ThrowsAsync<LockTimeoutException>(async () => await limiter.AcquireAsync(1, s_short));
        Assert.Contains("waiting for 1 permit(s) of semaphore 'rate-limiter'; when it gave up, 1 of its maximum 4 were free but held for waiters queued ahead of it.", held.Message, StringComparison.Ordinal);
        Assert.Equal(2, limiter.QueuedWaiterCount);
        Assert.Empty(log);

        limiter.Release(2);
        await big.Granted;
        Assert.False(small.IsGranted);
        Assert.Equal(0, limiter.CurrentCount);
        Assert.Equal(1, limiter.QueuedWaiterCount);

        await big.ReleaseAndEnd();
        await small.Granted;
        Assert.Equal(2, limiter.CurrentCount);
        await small.ReleaseAndEnd();

        Assert.Equal(["big", "small"], log);
        Assert.Equal(3, limiter.CurrentCount);
        Assert.Equal(0, limiter.QueuedWaiterCount);
        limiter.Release(1);
        Assert.Equal(limiter.MaxCount, limiter.CurrentCount);
        Assert.Throws<SemaphoreFullException>(() => limiter.Release(1));
        Assert.Equal(4, limiter.CurrentCount);
    }

    // The head waiter asks for more than is free; when it gives up, the free permits go to the waiters behind it at once.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARateLimiter_WhoseHeadWaiterGivesUp_ServesTheWaitersBehindIt_WithTheFreePermits(bool byTimeout)
    {
        await UntilTheScenarioHappened(attempt => HeadGivesUpOnce(byTimeout, attempt));
    }

    private static async Task<bool> HeadGivesUpOnce(bool byTimeout, int attempt)
    {
        var limiter = new CountingSemaphore(0, 4, $"head-gives-up-{byTimeout}-{attempt}");
        using var cancel = new CancellationTokenSource();
        var head = Task.Run(() => byTimeout
            ? limiter.AcquireAsync(4, GrowingTimeout(attempt), CancellationToken.None).AsTask()
            : limiter.AcquireAsync(4, cancel.Token).AsTask());
        Guard.SpinUntil(() => limiter.QueuedWaiterCount == 1);
        var flow = Participant.Start("flow", () => limiter.AcquireAsync(2));
        Guard.SpinUntil(() => limiter.QueuedWaiterCount == 2);
        limiter.Release(3);
        var thread = Worker.Start("limiter-thread", () =>
        {
            using var scope = limiter.Acquire(1, Guard.HangLimit);
        });
        Guard.SpinUntil(() => limiter.QueuedWaiterCount == 3 || head.IsCompleted);
        bool happened = !head.IsCompleted;
        if (happened)
        {
            // Three permits free, enough for both waiters behind, yet the head's turn holds them back.
            Assert.Equal(3, limiter.CurrentCount);
            Assert.False(flow.IsGranted);
        }

        if (!byTimeout)
        {
            await cancel.CancelAsync();
        }

        if (byTimeout)
        {
            var error = await Assert.ThrowsAsync<LockTimeoutException>(() => head.WaitAsync(Guard.HangLimit));
            Assert.Contains("waiting for 4 permit(s) of semaphore", error.Message, StringComparison.Ordinal);
        }
        else
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => head.WaitAsync(Guard.HangLimit));
        }

        await flow.Granted;
        thread.JoinGuarded();
        Assert.Equal(1, limiter.CurrentCount);
        await flow.ReleaseAndEnd();
        Assert.Equal(3, limiter.CurrentCount);
        Assert.Equal(0, limiter.QueuedWaiterCount);
        return happened;
    }

    [Fact]
    public async Task AConnectionPool_ABlockedThreadArrivingBehindAnAsyncWaiter_IsServedAfterIt()
    {
        var pool = new CountingSemaphore(0, 3, "connections");
        var log = new ConcurrentQueue<string>();
        var flow = Participant.Start("flow", () => pool.AcquireAsync(2), log);
        Guard.SpinUntil(() => pool.QueuedWaiterCount == 1);

        pool.Release(1);
        var thread = Worker.Start("pool-thread", () =>
        {
            using var scope = pool.Acquire(1, Guard.HangLimit);
            log.Enqueue("thread");
        });
        Guard.SpinUntil(() => pool.QueuedWaiterCount == 2);
        Assert.Equal(1, pool.CurrentCount);
        Assert.Empty(log);

        pool.Release(1);
        await flow.Granted;
        Assert.False(thread.HasEnded);
        await flow.ReleaseAndEnd();
        thread.JoinGuarded();

        Assert.Equal(["flow", "thread"], log);
        Assert.Equal(2, pool.CurrentCount);
        Assert.Equal(0, pool.QueuedWaiterCount);
    }

    [Fact]
    public async Task AConnectionPool_CancellationAndTimeoutStorms_LeaveThePermitsExact()
    {
        const int max = 4;
        var pool = new CountingSemaphore(0, max, "storm-pool");
        int inUse = 0, peak = 0;

        async Task<string> Use(int count, TimeSpan? timeout, CancellationToken ct)
        {
            AsyncLockScope scope;
            try
            {
                scope = timeout is { } t ? await pool.TryAcquireAsync(count, t, ct) : await pool.AcquireAsync(count, ct);
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }

            if (!scope.IsAcquired)
            {
                return "timed out";
            }

            using (scope)
            {
                RaisePeak(ref peak, Interlocked.Add(ref inUse, count));

                await Task.Yield();
                Interlocked.Add(ref inUse, -count);
            }

            return "granted";
        }

        // Round 1, deterministic: no permit is free until every timed waiter timed out and every cancelled one ended.
        var sources = Enumerable.Range(0, 300).Select(_ => new CancellationTokenSource()).ToArray();
        var round1 = Enumerable.Range(0, 300).Select(i => Task.Run(() => Use(1 + (i % max), i % 3 == 1 ? TimeSpan.FromMilliseconds(1) : null, sources[i].Token))).ToArray();
        for (int i = 0; i < 300; i += 3)
        {
            sources[i].Cancel();
        }

        var cancelledOrTimedOut = round1.Where((_, i) => i % 3 != 2).ToArray();
        var outcomes = await Task.WhenAll(cancelledOrTimedOut).WaitAsync(Guard.HangLimit);
        Assert.Equal(100, outcomes.Count(o => o == "cancelled"));
        Assert.Equal(100, outcomes.Count(o => o == "timed out"));
        Guard.SpinUntil(() => pool.QueuedWaiterCount == 100);
        Assert.Equal(0, pool.CurrentCount);

        pool.Release(max);
        var granted = await Task.WhenAll(round1.Where((_, i) => i % 3 == 2)).WaitAsync(Guard.HangLimit);
        Assert.All(granted, o => Assert.Equal("granted", o));
        Assert.Equal(max, pool.CurrentCount);
        Assert.Equal(0, pool.QueuedWaiterCount);

        // Round 2: tokens cancelled at random moments while permits are changing hands; each waiter either gets its
        // permits or ends cancelled, and the pool ends with every permit back.
        var sources2 = Enumerable.Range(0, 400).Select(_ => new CancellationTokenSource()).ToArray();
        var round2 = Enumerable.Range(0, 400).Select(i => Task.Run(() => Use(1 + (i % 3), null, sources2[i].Token))).ToArray();
        var cancellers = Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
        {
            for (int i = c; i < 400; i += 8)
            {
                await Task.Yield();
                sources2[i].Cancel();
            }
        }));
        await Task.WhenAll(cancellers).WaitAsync(Guard.HangLimit);
        var outcomes2 = await Task.WhenAll(round2).WaitAsync(Guard.HangLimit);
        Assert.Equal(400, outcomes2.Count(o => o is "granted" or "cancelled"));
        Assert.Equal(200, outcomes2.Where((_, i) => i % 8 >= 4).Count(o => o == "granted"));

        Assert.InRange(peak, 1, max);
        Assert.Equal(0, Volatile.Read(ref inUse));
        Assert.Equal(max, pool.CurrentCount);
        Assert.Equal(0, pool.QueuedWaiterCount);
        foreach (var source in sources.Concat(sources2))
        {
            source.Dispose();
        }
    }

    [Fact]
    public async Task ASemaphoreTimeout_SaysHowManyPermitsWereFree_AndACancelledTokenTakesNothing()
    {
        var pool = new CountingSemaphore(0, 8, "db-pool");
        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pool.AcquireAsync(s_short));
        Assert.StartsWith("Flow #", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("waiting for 1 permit(s) of semaphore 'db-pool'; when it gave up, 0 of its maximum 8 were free.", timeout.Message, StringComparison.Ordinal);

        pool.Release(8);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pool.AcquireAsync(3, cancelled.Token));
        Assert.Contains("'db-pool'", error.Message, StringComparison.Ordinal);
        Assert.Equal(8, pool.CurrentCount);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await pool.AcquireAsync(9));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await pool.AcquireAsync(0));
        Assert.Equal(8, pool.CurrentCount);
        Assert.Equal(0, pool.QueuedWaiterCount);
    }

    private static void RaisePeak(ref int peak, int now)
    {
        int seen = Volatile.Read(ref peak);
        while (now > seen && Interlocked.CompareExchange(ref peak, now, seen) != seen)
        {
            seen = Volatile.Read(ref peak);
        }
    }

    // ---- AsyncExclusiveLock: the ledger ----

    [Fact]
    public async Task TryAcquireAsync_ZeroSubMillisecondAndShortTimeouts_ReturnEmptyScopes_AndLeaveNothingQueued()
    {
        var ledger = new AsyncExclusiveLock("try-ledger");
        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync());
        int holderFlow = ledger.HolderFlowId;

        foreach (var timeout in new[] { TimeSpan.Zero, TimeSpan.FromTicks(5_000), TimeSpan.FromMilliseconds(1), s_short })
        {
            var scope = await ledger.TryAcquireAsync(timeout);
            Assert.False(scope.IsAcquired);
            scope.Dispose();
            await scope.DisposeAsync();
            Assert.Equal(holderFlow, ledger.HolderFlowId);
            Assert.Equal(0, ledger.WaitingCount);
            Assert.False(ledger.IsHeldByCurrentFlow);
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await ledger.TryAcquireAsync(TimeSpan.FromMilliseconds(-2)));
        await holder.ReleaseAndEnd();
        using (var free = await ledger.TryAcquireAsync(TimeSpan.Zero))
        {
            Assert.True(free.IsAcquired);
            Assert.True(ledger.IsHeldByCurrentFlow);
        }

        AssertFree(ledger);
    }

    // README: the token-only forms wait up to LocksmithPolicy.DefaultTimeout and then throw LockTimeoutException.
    [Fact]
    public async Task TheTokenOnlyForms_WaitUpToThePolicysDefaultTimeout_ForEveryAsyncKind()
    {
        using var policy = PolicyScope.DefaultTimeout(s_short);
        var ledger = new AsyncExclusiveLock("default-ledger");
        var rw = new AsyncReadWriteLock("default-rw");
        var pool = new CountingSemaphore(0, 1, "default-pool");
        var striped = new AsyncStripedLock<int>(4, "default-striped");
        var holders = new[]
        {
            await Participant.Holding("ledger", () => ledger.AcquireAsync()),
            await Participant.Holding("rw", () => rw.AcquireWriteAsync()),
            await Participant.Holding("striped", () => striped.AcquireAsync(1)),
        };

        Assert.Equal("default-ledger", (await Assert.ThrowsAsync<LockTimeoutException>(async () => await ledger.AcquireAsync())).LockName);
        Assert.Equal("default-rw", (await Assert.ThrowsAsync<LockTimeoutException>(async () => await rw.AcquireReadAsync())).LockName);
        Assert.Equal("default-rw", (await Assert.ThrowsAsync<LockTimeoutException>(async () => await rw.AcquireWriteAsync())).LockName);
        Assert.Equal("default-pool", (await Assert.ThrowsAsync<LockTimeoutException>(async () => await pool.AcquireAsync())).LockName);
        Assert.Equal("default-pool", (await Assert.ThrowsAsync<LockTimeoutException>(async () => await pool.AcquireAsync(1))).LockName);
        Assert.Equal($"default-striped[{striped.StripeOf(1)}]", (await Assert.ThrowsAsync<LockTimeoutException>(async () => await striped.AcquireAsync(1))).LockName);
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await striped.AcquireManyAsync([1, 2]));
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(ledger, rw));

        foreach (var holder in holders)
        {
            await holder.ReleaseAndEnd();
        }

        AssertFree(ledger);
        AssertFree(rw);
        Assert.Equal(0, pool.CurrentCount);
        Assert.Equal(0, pool.QueuedWaiterCount);
        using var both = await striped.TryAcquireManyAsync([1, 2], TimeSpan.Zero);
        Assert.True(both.IsAcquired);
    }

    [Fact]
    public async Task Tokens_CancelledBeforeTakeNothingEvenAFreeLock_CancelledWhileWaitingLeaveTheQueue()
    {
        var ledger = new AsyncExclusiveLock("token-ledger");
        using (var before = new CancellationTokenSource())
        {
            await before.CancelAsync();
            var pending = ledger.AcquireAsync(before.Token);
            Assert.True(pending.IsCanceled);
            var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
            Assert.Contains("asked for exclusive access to 'token-ledger' with a cancellation token that was already cancelled", error.Message, StringComparison.Ordinal);
            Assert.False(ledger.IsHeld);
        }

        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync());
        using (var during = new CancellationTokenSource())
        {
            var waiting = ledger.AcquireAsync(during.Token).AsTask();
            Guard.SpinUntil(() => ledger.WaitingCount == 1);
            await during.CancelAsync();
            var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Guard.HangLimit));
            Assert.StartsWith("Flow #", error.Message, StringComparison.Ordinal);
            Assert.Contains("stopped waiting for exclusive access to 'token-ledger': its cancellation token was cancelled; nothing is held.", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, ledger.WaitingCount);
        }

        await holder.ReleaseAndEnd();
        AssertFree(ledger);
    }

    [Fact]
    public async Task Reentry_AcrossAwaitsAndInChildTasks_ThrowsLockRecursionNamingTheLockAndTheFlow_WhileATaskUnderSuppressFlowWaits()
    {
        var ledger = new AsyncExclusiveLock("reentry-ledger");
        await PostTwiceAsync(ledger);
        AssertFree(ledger);
    }

    // Library-style code: ConfigureAwait(false) everywhere, as a service's data layer would write it.
    private static async Task PostTwiceAsync(AsyncExclusiveLock ledger)
    {
        await using (await ledger.AcquireAsync().ConfigureAwait(false))
        {
            int flowNumber = ledger.HolderFlowId - FlowIdBase;
            Assert.InRange(flowNumber, 1, FlowIdBase - 1);
            await Task.Yield();
            await Task.Run(() => { }).ConfigureAwait(false);
            var again = await Assert.ThrowsAsync<LockRecursionException>(async () => await ledger.AcquireAsync(Guard.HangLimit));
            Assert.StartsWith($"Flow #{flowNumber} ", again.Message, StringComparison.Ordinal);
            Assert.Contains("tried to acquire 'reentry-ledger'", again.Message, StringComparison.Ordinal);

            // A child task is part of the flow.
            bool childSees = await Task.Run(async () =>
            {
                await Assert.ThrowsAsync<LockRecursionException>(async () => await ledger.TryAcquireAsync(Guard.HangLimit));
                return ledger.IsHeldByCurrentFlow;
            });
            Assert.True(childSees);

            // A task started under SuppressFlow is a flow of its own: it is refused by a try-once, not by recursion.
            Task<(bool Held, bool Got)> separate;
            using (ExecutionContext.SuppressFlow())
            {
                separate = Task.Run(async () =>
                {
                    using var attempt = await ledger.TryAcquireAsync(TimeSpan.Zero);
                    return (ledger.IsHeldByCurrentFlow, attempt.IsAcquired);
                });
            }

            Assert.Equal((false, false), await separate.WaitAsync(Guard.HangLimit));
            Assert.True(ledger.IsHeldByCurrentFlow);
            Assert.Equal(flowNumber + FlowIdBase, ledger.HolderFlowId);
            Assert.Equal(0, ledger.WaitingCount);
        }
    }

    [Fact]
    public async Task ALockTakenInAHelper_BelongsToTheCaller_OnlyOnceTheCallerBeganItsFlow()
    {
        var cache = new AsyncExclusiveLock("helper-cache");

        static async Task<AsyncLockScope> TakeAsync(AsyncExclusiveLock gate)
        {
            await Task.Yield();
            return await gate.AcquireAsync();
        }

        await Task.Run(async () =>
        {
            var scope = await TakeAsync(cache);
            Assert.True(cache.IsHeld);
            Assert.False(cache.IsHeldByCurrentFlow);
            using (var again = await cache.TryAcquireAsync(TimeSpan.Zero))
            {
                Assert.False(again.IsAcquired);
            }

            scope.Dispose();
        }).WaitAsync(Guard.HangLimit);
        AssertFree(cache);

        await Task.Run(async () =>
        {
            using var flow = AsyncLockFlow.Begin();
            using var scope = await TakeAsync(cache);
            Assert.True(cache.IsHeldByCurrentFlow);
            Assert.Equal(flow.FlowId, cache.HolderFlowId);
            await Assert.ThrowsAsync<LockRecursionException>(async () => await cache.AcquireAsync(Guard.HangLimit));
            Assert.True(await Task.Run(() => cache.IsHeldByCurrentFlow));
        }).WaitAsync(Guard.HangLimit);
        AssertFree(cache);
    }

    [Fact]
    public async Task AScope_ReleasesOnce_ASecondDisposeThrowsNamingTheLock_AndNeverFreesALaterHolder()
    {
        var ledger = new AsyncExclusiveLock("twice-ledger");
        var scope = await ledger.AcquireAsync();
        var copy = scope;
        scope.Dispose();
        Assert.False(ledger.IsHeld);

        var later = await Participant.Holding("later", () => ledger.AcquireAsync());
        int laterFlow = ledger.HolderFlowId;
        var error = Assert.Throws<SynchronizationLockException>(() => copy.Dispose());
        Assert.Contains("'twice-ledger'", error.Message, StringComparison.Ordinal);
        Assert.Equal(laterFlow, ledger.HolderFlowId);
        await later.ReleaseAndEnd();
        AssertFree(ledger);
    }

    [Fact]
    public async Task BlockingOnAPendingAcquisition_Throws_AndWithdrawsTheWait_SoNoHandOffIsLost()
    {
        var ledger = new AsyncExclusiveLock("blocking-ledger");
        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync());
        var pending = ledger.AcquireAsync();
        Assert.Equal(1, ledger.WaitingCount);
        var error = Assert.Throws<InvalidOperationException>(() => pending.GetAwaiter().GetResult());
        Assert.Contains("'blocking-ledger'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, ledger.WaitingCount);

        await holder.ReleaseAndEnd();
        AssertFree(ledger);
        using (var next = await ledger.TryAcquireAsync(TimeSpan.Zero))
        {
            Assert.True(next.IsAcquired);
        }

        AssertFree(ledger);
    }

    [Fact]
    public async Task ATimeout_NamesTheLock_TheWaitingFlow_TheHoldingFlowByActivity_AndTheEventSaysTheSame()
    {
        using var policy = PolicyScope.Capture();
        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName == "orders-ledger")
            {
                events.Enqueue(e);
            }
        };
        var ledger = new AsyncExclusiveLock("orders-ledger");
        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync(), activity: "GET /orders");
        int holderNumber = ledger.HolderFlowId - FlowIdBase;

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await ledger.AcquireAsync(s_short));
        Assert.Equal("orders-ledger", error.LockName);
        Assert.StartsWith("Flow #", error.Message, StringComparison.Ordinal);
        Assert.Contains("timed out after", error.Message, StringComparison.Ordinal);
        Assert.Contains("waiting for exclusive access to 'orders-ledger'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"held by flow #{holderNumber} ('GET /orders').", error.Message, StringComparison.Ordinal);
        Assert.Equal($"flow #{holderNumber} ('GET /orders')", error.OwnerThreadName);
        Assert.Equal(holderNumber + FlowIdBase, error.OwnerThreadId);

        var raised = Assert.Single(events);
        Assert.Equal(error.OwnerThreadName, raised.OwnerThreadName);
        Assert.Equal(error.OwnerThreadId, raised.OwnerThreadId);
        Assert.Equal(error.Waited, raised.Waited);
        Assert.Equal(0, ledger.WaitingCount);

        await holder.ReleaseAndEnd();
        AssertFree(ledger);
    }

    [Fact]
    public async Task TheGlobalOrder_HoldsAcrossAwaits_ForAsyncAndSyncLocks_BeforeAnyWait()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var ledger = new AsyncExclusiveLock("order-ledger", level: 20);
        var stock = new AsyncExclusiveLock("order-stock", level: 10);
        var audit = new ExclusiveLock("order-audit", level: 5);
        var stockHolder = await Participant.Holding("stock-holder", () => stock.AcquireAsync());

        await AskOutOfOrderWhileHoldingAsync(ledger, stock, audit);

        // A thread holding a sync lock is checked when it takes an async one.
        var thread = Worker.Start("order-thread", () =>
        {
            var high = new ExclusiveLock("order-high", level: 30);
            using var held = high.Acquire();
            var violation = Assert.Throws<LockOrderViolationException>(() => ledger.AcquireAsync().AsTask().GetAwaiter().GetResult());
            Assert.StartsWith("Lock order violation ", violation.Message, StringComparison.Ordinal);
            Assert.Contains("'order-high'", violation.Message, StringComparison.Ordinal);
            Assert.Contains("'order-ledger'", violation.Message, StringComparison.Ordinal);
        });
        thread.JoinGuarded();

        await stockHolder.ReleaseAndEnd();
        AssertFree(ledger);
        AssertFree(stock);
    }

    private static async Task AskOutOfOrderWhileHoldingAsync(AsyncExclusiveLock ledger, AsyncExclusiveLock stock, ExclusiveLock audit)
    {
        using (await ledger.AcquireAsync().ConfigureAwait(false))
        {
            await Task.Yield();
            await Task.Run(() => { }).ConfigureAwait(false);
            var asyncViolation = await Assert.ThrowsAsync<LockOrderViolationException>(async () => await stock.AcquireAsync(Guard.HangLimit));
            Assert.StartsWith("Lock order violation in flow #", asyncViolation.Message, StringComparison.Ordinal);
            Assert.Contains("'order-ledger'", asyncViolation.Message, StringComparison.Ordinal);
            Assert.Contains("'order-stock'", asyncViolation.Message, StringComparison.Ordinal);
            Assert.Equal(0, stock.WaitingCount);

            var syncViolation = Assert.Throws<LockOrderViolationException>(() => { using var s = audit.Acquire(Guard.HangLimit); });
            Assert.Contains("'order-audit'", syncViolation.Message, StringComparison.Ordinal);
            Assert.False(audit.IsHeld);
        }
    }

    // ---- Custom SynchronizationContext, off the releasing stack ----

    private sealed class CountingContext : SynchronizationContext
    {
        [ThreadStatic]
        public static bool s_inPost;

        public int Posts;

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref Posts);
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                var previous = Current;
                SetSynchronizationContext(this);
                s_inPost = true;
                try
                {
                    d(state);
                }
                finally
                {
                    s_inPost = false;
                    SetSynchronizationContext(previous);
                }
            }, null);
        }
    }

    private static async Task<(bool InRelease, bool OnContext, bool Posted, bool Owns)> WaitBehindAHolder(AsyncExclusiveLock ledger, CountingContext? context)
    {
        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync());
        var waiter = Task.Run(async () =>
        {
            var previous = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                using var scope = await ledger.AcquireAsync();
                return (s_releasing, SynchronizationContext.Current == context && context is not null, CountingContext.s_inPost, ledger.IsHeldByCurrentFlow);
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(previous);
            }
        });
        Guard.SpinUntil(() => ledger.WaitingCount == 1);
        await holder.ReleaseAndEnd();
        var seen = await waiter.WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
        return seen;
    }

    [Fact]
    public async Task AQueuedWaiter_ResumesOnItsSynchronizationContext_OrOffTheReleasingStack()
    {
        var ledger = new AsyncExclusiveLock("context-ledger");
        var context = new CountingContext();

        // The waiter counts as queued a moment before its await registers; a release in between completes the await
        // at once, on the waiter's own thread. Repeat until the hand-off went through the context (bounded).
        int posted = 0, attempts = 0;
        while (posted == 0)
        {
            Assert.True(++attempts <= 50, "the waiter never resumed through its context");
            var seen = await WaitBehindAHolder(ledger, context);
            Assert.False(seen.InRelease);
            Assert.True(seen.OnContext);
            Assert.True(seen.Owns);
            posted += seen.Posted ? 1 : 0;
            Assert.Equal(posted, context.Posts);
        }

        var plain = await WaitBehindAHolder(ledger, null);
        Assert.False(plain.InRelease);
        Assert.False(plain.OnContext);
        Assert.False(plain.Posted);
        Assert.True(plain.Owns);
        Assert.Equal(1, context.Posts);
    }

    // ---- AsyncStripedLock ----

    private static (string A, string B, string SameAsA) KeysFor(AsyncStripedLock<string> striped)
    {
        var keys = Enumerable.Range(0, 10_000).Select(i => "account-" + i).ToList();
        string a = keys[0];
        string sameAsA = keys.Skip(1).First(k => striped.StripeOf(k) == striped.StripeOf(a));
        string b = keys.First(k => striped.StripeOf(k) != striped.StripeOf(a));
        return (a, b, sameAsA);
    }

    [Fact]
    public async Task AcquireManyAsync_IsAllOrNothing_NamesTheBusyStripe_AndTakesKeysOnOneStripeOnce()
    {
        var accounts = new AsyncStripedLock<string>(8, "accounts");
        Assert.Equal(8, accounts.StripeCount);
        var (a, b, sameAsA) = KeysFor(accounts);
        var holder = await Participant.Holding("holder", () => accounts.AcquireAsync(a));

        using (var attempt = await accounts.TryAcquireManyAsync([b, a], TimeSpan.Zero))
        {
            Assert.False(attempt.IsAcquired);
            Assert.Equal(0, attempt.Count);
        }

        Assert.False(accounts.IsHeldByCurrentFlow(b));
        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(async () => await accounts.AcquireManyAsync([a, b], s_short));
        Assert.Contains($"'accounts[{accounts.StripeOf(a)}]' held up striped lock 'accounts' taking several keys (2 stripe(s)), which takes all or none: none of them is held.", timeout.Message, StringComparison.Ordinal);
        Assert.False(accounts.IsHeldByCurrentFlow(b));

        // b's stripe is free for another flow: the failed attempts left nothing behind.
        Assert.True(await Task.Run(async () =>
        {
            using var other = await accounts.TryAcquireAsync(b, TimeSpan.Zero);
            return other.IsAcquired;
        }));

        await holder.ReleaseAndEnd();

        using (var both = await accounts.AcquireManyAsync([a, sameAsA]))
        {
            Assert.Equal(1, both.Count);
            Assert.True(accounts.IsHeldByCurrentFlow(a));
            Assert.True(accounts.IsHeldByCurrentFlow(sameAsA));
            Assert.False(accounts.IsHeldByCurrentFlow(b));
        }

        await using (var three = await accounts.AcquireManyAsync([sameAsA, b, a], Guard.HangLimit))
        {
            Assert.Equal(2, three.Count);
            Assert.True(accounts.IsHeldByCurrentFlow(b));
        }

        var none = await Assert.ThrowsAsync<ArgumentException>(async () => await accounts.AcquireManyAsync([]));
        Assert.Contains("'accounts'", none.Message, StringComparison.Ordinal);
        Assert.False(accounts.IsHeldByCurrentFlow(a));
        Assert.False(accounts.IsHeldByCurrentFlow(b));
        using (var reuse = await accounts.TryAcquireManyAsync([a, b], TimeSpan.Zero))
        {
            Assert.True(reuse.IsAcquired);
        }
    }

    [Fact]
    public async Task TransfersBetweenStripedAccounts_InOppositeOrders_NeverDeadlock_AndBalancesAreExact()
    {
        var accounts = new AsyncStripedLock<int>(4, "transfer-accounts");
        var balances = new int[16];
        Array.Fill(balances, 1_000);
        var flows = Enumerable.Range(0, 8).Select(f => Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                int from = (f + i) % 16, to = (f * 3 + i * 7 + 1) % 16;
                IReadOnlyList<int> keys = f % 2 == 0 ? [from, to] : [to, from];
                await using var both = await accounts.AcquireManyAsync(keys);
                int amount = balances[from] > 0 ? 1 : 0;
                int seen = balances[from];
                await Task.Yield();
                balances[from] = seen - amount;
                balances[to] += amount;
            }
        }));
        await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);
        Assert.Equal(16_000, balances.Sum());
        for (int key = 0; key < 16; key++)
        {
            using var free = await accounts.TryAcquireAsync(key, TimeSpan.Zero);
            Assert.True(free.IsAcquired);
        }
    }

    // ---- async LockSet ----

    [Fact]
    public async Task AnAsyncLockSet_TakesInGlobalOrder_AllOrNothing_AndItsTimeoutSaysItHoldsNone()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var orders = new AsyncExclusiveLock("set-orders", level: 1);
        var stock = new AsyncReadWriteLock("set-stock", level: 2);
        var pool = new CountingSemaphore(2, 2, "set-pool", level: 3);

        // Opposite argument orders from many flows: the set orders them, so nothing deadlocks.
        int counter = 0;
        var flows = Enumerable.Range(0, 6).Select(f => Task.Run(async () =>
        {
            for (int i = 0; i < 100; i++)
            {
                IAsyncLockSetMember[] list = f % 2 == 0 ? [pool, stock, orders] : [orders, pool, stock];
                using var all = await LockSet.AcquireAsync(list);
                Assert.Equal(3, all.Count);
                int seen = counter;
                await Task.Yield();
                counter = seen + 1;
            }
        }));
        await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);
        Assert.Equal(600, counter);
        Assert.Equal(2, pool.CurrentCount);

        var holder = await Participant.Holding("holder", () => stock.AcquireWriteAsync());
        using (var attempt = await LockSet.TryAcquireAsync(s_short, [orders, stock, pool]))
        {
            Assert.False(attempt.IsAcquired);
            Assert.Equal(0, attempt.Count);
        }

        Assert.False(orders.IsHeld);
        Assert.Equal(2, pool.CurrentCount);
        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(s_short, [pool, orders, stock]));
        Assert.EndsWith("'set-stock' held up a LockSet of 3 lock(s), which takes all or none: none of them is held.", timeout.Message, StringComparison.Ordinal);
        Assert.False(orders.IsHeld);
        Assert.Equal(2, pool.CurrentCount);
        await holder.ReleaseAndEnd();

        // Holding level 2, asking for a set with level 1 in it violates the order before anything is taken.
        using (await stock.AcquireWriteAsync())
        {
            await Assert.ThrowsAsync<LockOrderViolationException>(async () => await LockSet.AcquireAsync(orders, pool));
            Assert.False(orders.IsHeld);
            Assert.Equal(2, pool.CurrentCount);
        }

        AssertFree(orders);
        AssertFree(stock);
        Assert.Equal(0, pool.QueuedWaiterCount);
    }

    [Fact]
    public async Task AnAsyncLockSetWithAPoolMember_WhoseFreePermitIsHeldForAWaiterAhead_TimesOutSayingSo_AndTakesNothing()
    {
        var ledger = new AsyncExclusiveLock("held-back-ledger");
        var pool = new CountingSemaphore(0, 2, "held-back-pool");
        var ahead = Participant.Start("ahead", () => pool.AcquireAsync(2));
        Guard.SpinUntil(() => pool.QueuedWaiterCount == 1);
        pool.Release(1);

        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(s_short, [ledger, pool]));
        Assert.Contains("were free but held for waiters queued ahead of it.", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("'held-back-pool'", timeout.Message, StringComparison.Ordinal);
        AssertFree(ledger);
        Assert.Equal(1, pool.CurrentCount);
        Assert.Equal(1, pool.QueuedWaiterCount);
        Assert.False(ahead.IsGranted);

        pool.Release(1);
        await ahead.Granted;
        await ahead.ReleaseAndEnd();
        Assert.Equal(2, pool.CurrentCount);
        Assert.Equal(0, pool.QueuedWaiterCount);
    }

    [Fact]
    public async Task AcquireManyAsync_CancelledWhileWaitingForOneKey_LeavesTheOtherKeysFree()
    {
        var carts = new AsyncStripedLock<string>(8, "carts");
        var (a, b, _) = KeysFor(carts);
        var holder = await Participant.Holding("holder", () => carts.AcquireAsync(b));
        using var cancel = new CancellationTokenSource();
        var many = Task.Run(async () =>
        {
            using var both = await carts.AcquireManyAsync([a, b], cancel.Token);
            return both.Count;
        });

        // The set takes what is free and waits for the busy stripe, or backs off holding none; either way, a
        // cancelled token ends it holding nothing.
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => many.WaitAsync(Guard.HangLimit));
        Assert.True(await Task.Run(async () =>
        {
            using var free = await carts.TryAcquireAsync(a, TimeSpan.Zero);
            return free.IsAcquired;
        }));
        await holder.ReleaseAndEnd();
        using (var both = await carts.TryAcquireManyAsync([a, b], TimeSpan.Zero))
        {
            Assert.Equal(2, both.Count);
        }
    }

    [Fact]
    public async Task AnAsyncLockSet_RejectsALockListedTwice_ButTheTwoLockFormTakesOneLockOnce()
    {
        var from = new AsyncExclusiveLock("account-from");
        var to = new AsyncExclusiveLock("account-to");
        var twice = await Assert.ThrowsAsync<ArgumentException>(async () => await LockSet.AcquireAsync([from, to, from]));
        Assert.Equal("locks", twice.ParamName);
        Assert.Contains("'account-from'", twice.Message, StringComparison.Ordinal);
        Assert.Contains("locks[0]", twice.Message, StringComparison.Ordinal);
        Assert.Contains("locks[2]", twice.Message, StringComparison.Ordinal);
        AssertFree(from);
        AssertFree(to);

        await using (var self = await LockSet.AcquireAsync(from, from))
        {
            Assert.Equal(1, self.Count);
            Assert.True(from.IsHeldByCurrentFlow);
        }

        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await LockSet.AcquireAsync(from, to, cancelled.Token));
        }

        AssertFree(from);
        AssertFree(to);
    }

    // ---- Misuse and edges README names ----

    [Fact]
    public async Task AnAlreadyCancelledToken_TakesNothingFromAnyAsyncForm_EvenWhenEverythingIsFree()
    {
        var ledger = new AsyncExclusiveLock("cancelled-ledger");
        var rw = new AsyncReadWriteLock("cancelled-rw");
        var pool = new CountingSemaphore(2, 2, "cancelled-pool");
        var striped = new AsyncStripedLock<int>(4, "cancelled-striped");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;

        var attempts = new Func<ValueTask>[]
        {
            async () => await ledger.TryAcquireAsync(TimeSpan.Zero, token),
            async () => await rw.TryAcquireReadAsync(Guard.HangLimit, token),
            async () => await rw.AcquireWriteAsync(token),
            async () => await pool.TryAcquireAsync(1, TimeSpan.Zero, token),
            async () => await striped.AcquireAsync(1, token),
            async () => await striped.TryAcquireManyAsync([1, 2], TimeSpan.Zero, token),
            async () => await LockSet.TryAcquireAsync(TimeSpan.Zero, [ledger, pool], token),
        };
        foreach (var attempt in attempts)
        {
            var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await attempt());
            Assert.Contains("already cancelled", error.Message, StringComparison.Ordinal);
        }

        AssertFree(ledger);
        AssertFree(rw);
        Assert.Equal(2, pool.CurrentCount);
        using var all = await striped.TryAcquireManyAsync([0, 1, 2, 3], TimeSpan.Zero);
        Assert.True(all.IsAcquired);
    }

    [Fact]
    public async Task MisuseNamesTheFlow_ACountOutOfRange_NoKeys_AndAFlowScopeDisposedTwice()
    {
        var pool = new CountingSemaphore(1, 1, "misuse-pool");
        var tooMany = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await pool.AcquireAsync(2));
        Assert.Contains("'misuse-pool'", tooMany.Message, StringComparison.Ordinal);
        Assert.Contains("flow", tooMany.Message, StringComparison.OrdinalIgnoreCase);

        var striped = new AsyncStripedLock<int>(4, "misuse-striped");
        var noKeys = await Assert.ThrowsAsync<ArgumentException>(async () => await striped.AcquireManyAsync([]));
        Assert.Contains("'misuse-striped'", noKeys.Message, StringComparison.Ordinal);
        Assert.Contains("flow", noKeys.Message, StringComparison.OrdinalIgnoreCase);

        var flow = AsyncLockFlow.Begin();
        flow.Dispose();
        Assert.Throws<SynchronizationLockException>(() => flow.Dispose());
        Assert.Equal(1, pool.CurrentCount);
    }

    [Fact]
    public async Task ReadingAWaitedAcquisitionTwice_Throws_AndChangesNothing_WhileAScopeDisposedByAnotherFlowReleases()
    {
        var ledger = new AsyncExclusiveLock("read-twice-ledger");
        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync());
        var pending = ledger.AcquireAsync();
        Guard.SpinUntil(() => ledger.WaitingCount == 1);
        await holder.ReleaseAndEnd();
        var scope = await pending;
        int mine = ledger.HolderFlowId;
        var twice = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pending);
        Assert.Contains("flow", twice.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(mine, ledger.HolderFlowId);
        Assert.Equal(0, ledger.WaitingCount);

        // The scope is the capability: another flow may give it back.
        await Task.Run(() => scope.Dispose());
        AssertFree(ledger);
    }

    [Fact]
    public async Task CurrentWaits_ListsAQueuedUntimedFlow_AsAFlowWithItsThread_AtZeroOnItsFirstSighting()
    {
        // Nothing wants the clock: no timeout, no long-wait handler (README: such a wait is stamped by its first sighting).
        using var policy = PolicyScope.DefaultTimeout(Timeout.InfiniteTimeSpan);
        LocksmithPolicy.LongWaitOccurred = null;
        var ledger = new AsyncExclusiveLock("listed-ledger");
        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync());
        var waiter = Participant.Start("waiter", () => ledger.AcquireAsync());
        Guard.SpinUntil(() => ledger.WaitingCount == 1);

        var wait = Assert.Single(DeadlockDetector.CurrentWaits(), w => w.LockName == "listed-ledger");
        Assert.True(wait.IsFlow);
        Assert.Equal(LockMode.Exclusive, wait.Mode);
        Assert.Equal(ledger.HolderFlowId, wait.HolderId);
        Assert.NotNull(wait.FlowThread);
        Assert.Contains("(on thread ", wait.Waiter, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, wait.Waited);

        await holder.ReleaseAndEnd();
        await waiter.Granted;
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName == "listed-ledger");
        await waiter.ReleaseAndEnd();
        AssertFree(ledger);
    }

    // ---- Deadlock detection ----

    [Fact]
    public async Task TheDeadlockDetector_FindsTwoFlowsWaitingForEachOther_AndCancellingOneBreaksIt()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var cache = new AsyncExclusiveLock("dl-cache", level: 1);
        var ledger = new AsyncExclusiveLock("dl-ledger", level: 2);
        using var cancelImporter = new CancellationTokenSource();
        var bothHold = new CountdownEvent(2);
        var go = NewSignal();

        async Task<string> Run(AsyncExclusiveLock first, AsyncExclusiveLock second, CancellationToken ct)
        {
            using var held = await first.AcquireAsync();
            bothHold.Signal();
            await go.Task;
            try
            {
                using var both = await second.AcquireAsync(ct);
                return "finished";
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }
        }

        var importer = Task.Run(() => Run(cache, ledger, cancelImporter.Token));
        var exporter = Task.Run(() => Run(ledger, cache, CancellationToken.None));
        Assert.True(bothHold.Wait(Guard.HangLimit));
        go.SetResult();
        Guard.SpinUntil(() => cache.WaitingCount == 1 && ledger.WaitingCount == 1);

        DeadlockCycle? cycle = null;
        Guard.SpinUntil(() => (cycle = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == "dl-cache"))) is not null);
        Assert.Equal(2, cycle!.Edges.Count);
        Assert.All(cycle.Edges, e => Assert.True(e.IsFlow));
        var waitsForLedger = Assert.Single(cycle.Edges, e => e.LockName == "dl-ledger");
        var waitsForCache = Assert.Single(cycle.Edges, e => e.LockName == "dl-cache");
        Assert.Equal(ledger.HolderFlowId, waitsForLedger.OwnerThreadId);
        Assert.Equal(cache.HolderFlowId, waitsForCache.OwnerThreadId);
        Assert.Equal(cache.HolderFlowId, waitsForLedger.ThreadId);
        Assert.Equal(2, waitsForLedger.LockLevel);
        Assert.Equal(2, DeadlockDetector.CurrentWaits().Count(w => w.LockName is "dl-cache" or "dl-ledger"));

        await cancelImporter.CancelAsync();
        Assert.Equal("cancelled", await importer.WaitAsync(Guard.HangLimit));
        Assert.Equal("finished", await exporter.WaitAsync(Guard.HangLimit));
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName is "dl-cache" or "dl-ledger"));
        AssertFree(cache);
        AssertFree(ledger);
    }

    // ---- Metrics ----

    [Fact]
    public async Task Metrics_TagTheAsyncKinds_AndEveryContentionIsFollowedByOneWait_GrantedTimedOutOrCancelled()
    {
        var kinds = new ConcurrentDictionary<string, string?>();
        int contentions = 0, waits = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void OnMeasurement(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? name = null, kind = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name")
                {
                    name = tag.Value as string;
                }
                else if (tag.Key == "lock.kind")
                {
                    kind = tag.Value as string;
                }
            }

            if (name is null || !name.StartsWith("metric-", StringComparison.Ordinal))
            {
                return;
            }

            kinds[name] = kind;
            if (name == "metric-ledger" && instrument.Name == "locksmith.lock.contentions")
            {
                Interlocked.Increment(ref contentions);
            }
            else if (name == "metric-ledger" && instrument.Name == "locksmith.lock.wait.duration")
            {
                Interlocked.Increment(ref waits);
            }
        }

        listener.SetMeasurementEventCallback<long>((i, _, tags, _) => OnMeasurement(i, tags));
        listener.SetMeasurementEventCallback<double>((i, _, tags, _) => OnMeasurement(i, tags));
        listener.Start();

        var ledger = new AsyncExclusiveLock("metric-ledger");
        var rw = new AsyncReadWriteLock("metric-rw");
        var striped = new AsyncStripedLock<int>(4, "metric-striped");
        var pool = new CountingSemaphore(1, 1, "metric-pool");
        (await rw.AcquireWriteAsync()).Dispose();
        (await striped.AcquireAsync(3)).Dispose();
        (await pool.AcquireAsync()).Dispose();

        var holder = await Participant.Holding("holder", () => ledger.AcquireAsync());
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await ledger.AcquireAsync(s_short));
        using (var cancel = new CancellationTokenSource())
        {
            var cancelled = ledger.AcquireAsync(cancel.Token).AsTask();
            Guard.SpinUntil(() => ledger.WaitingCount == 1);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Guard.HangLimit));
        }

        var granted = ledger.AcquireAsync().AsTask();
        Guard.SpinUntil(() => ledger.WaitingCount == 1);
        await holder.ReleaseAndEnd();
        (await granted.WaitAsync(Guard.HangLimit)).Dispose();

        Assert.Equal("async_exclusive", kinds["metric-ledger"]);
        Assert.Equal("async_read_write", kinds["metric-rw"]);
        Assert.Equal("async_striped", kinds["metric-striped"]);
        Assert.Equal("semaphore", kinds["metric-pool"]);
        Assert.Equal(3, Volatile.Read(ref contentions));
        Assert.Equal(3, Volatile.Read(ref waits));
        AssertFree(ledger);
    }
}
