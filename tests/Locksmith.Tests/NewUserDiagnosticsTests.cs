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
/// A new user's scenarios for README's "Deadlock detection", "Policy and events" and "Metrics" sections: what
/// <see cref="DeadlockDetector"/> reports for real deadlocks and waits, what the policy callbacks receive and what a
/// throwing one does, and what a real <see cref="MeterListener"/> sees. Policy changes go through
/// <see cref="PolicyScope"/>; the project runs its tests one at a time (xunit.runner.json), and every listener and
/// detector query is filtered by this file's own lock names ("nud-…").
/// </summary>
public sealed class NewUserDiagnosticsTests
{
    private const int FlowIdBase = 1 << 30;
    private static readonly TimeSpan s_short = TimeSpan.FromMilliseconds(20);

    private static string FlowName(int flowId) => $"flow #{flowId - FlowIdBase}";

    private static string ThreadText(int id, string? name) => string.IsNullOrEmpty(name) ? $"{id}" : $"{id} ('{name}')";

    private static LockWaitInProgress[] WaitsOn(string lockName) =>
        DeadlockDetector.CurrentWaits().Where(w => w.LockName == lockName).ToArray();

    private static DeadlockCycle? CycleThrough(string lockName) =>
        DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == lockName));

    private static DeadlockCycle AwaitCycleThrough(string lockName)
    {
        DeadlockCycle? cycle = null;
        Guard.SpinUntil(() => (cycle = CycleThrough(lockName)) is not null, $"a cycle through '{lockName}'");
        return cycle!;
    }

    private static void AwaitParked(Worker worker, string lockName) =>
        Guard.SpinUntil(() => WaitsOn(lockName).Length == 1 && worker.IsBlocked, $"'{worker.Name}' parked on '{lockName}'");

    // --- Lock shapes: one scenario runs over every kind the README names through these. ---

    /// <summary>
    /// A sync lock as scenarios drive it (its scopes are ref structs, so a hold is a body run under it): <c>Use</c>
    /// takes it in the scenario's mode; <c>BlockWhile</c> is a hold that makes <c>Use</c> wait.
    /// </summary>
    private sealed record SyncShape(
        LockPrimitive Lock, LockKind Kind, LockMode Mode, bool SingleHolder,
        Action<CancellationToken, Action> Use, Action<Action> BlockWhile, Func<bool> IsFree);

    private static SyncShape Sync(string shape, string name, int? level = 7)
    {
        switch (shape)
        {
            case "exclusive":
            {
                var l = new ExclusiveLock(name, level);
                return new(l, LockKind.Exclusive, LockMode.Exclusive, true,
                    (t, body) => { using (l.Acquire(Guard.HangLimit, t)) body(); },
                    body => { using (l.Acquire(Guard.HangLimit)) body(); },
                    () => !l.IsHeld);
            }

            case "reentrant":
            {
                var l = new ReentrantLock(name, level);
                return new(l, LockKind.Reentrant, LockMode.Exclusive, true,
                    (t, body) => { using (l.Acquire(Guard.HangLimit, t)) body(); },
                    body => { using (l.Acquire(Guard.HangLimit)) body(); },
                    () => !l.IsHeld);
            }

            case "write":
            case "read":
            {
                var l = new ReadWriteLock(name, level);
                Action<CancellationToken, Action> use = shape == "write"
                    ? (t, body) => { using (l.AcquireWrite(Guard.HangLimit, t)) body(); }
                    : (t, body) => { using (l.AcquireRead(Guard.HangLimit, t)) body(); };
                return new(l, LockKind.ReadWrite, shape == "write" ? LockMode.Write : LockMode.Read, true, use,
                    body => { using (l.AcquireWrite(Guard.HangLimit)) body(); },
                    () => l.WriterThreadId == 0 && l.CurrentReaderCount == 0);
            }

            case "permit":
            {
                var l = new CountingSemaphore(1, 1, name, level);
                return new(l, LockKind.Semaphore, LockMode.Permit, false,
                    (t, body) => { using (l.Acquire(Guard.HangLimit, t)) body(); },
                    body => { using (l.Acquire(Guard.HangLimit)) body(); },
                    () => l.CurrentCount == 1);
            }

            case "striped":
            {
                var l = new StripedLock<string>(4, name, level);
                return new(l, LockKind.Striped, LockMode.Exclusive, true,
                    (t, body) => { using (l.Acquire("k", Guard.HangLimit, t)) body(); },
                    body => { using (l.Acquire("k", Guard.HangLimit)) body(); },
                    () =>
                    {
                        try
                        {
                            using var probe = l.Acquire("k", TimeSpan.Zero);
                            return true;
                        }
                        catch (LockTimeoutException)
                        {
                            return false;
                        }
                    });
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, null);
        }
    }

    /// <summary>An async lock as scenarios drive it; <c>Block</c> is a hold (in a flow of its own) that makes <c>Acquire</c> queue.</summary>
    private sealed record AsyncShape(
        LockPrimitive Lock, LockKind Kind, LockMode Mode, bool SingleHolder,
        Func<TimeSpan, CancellationToken, ValueTask<AsyncLockScope>> Acquire, Func<ValueTask<AsyncLockScope>> Block,
        Func<int> Waiting, Func<bool> IsFree, Func<int> HolderFlow);

    private static AsyncShape Async(string shape, string name, int? level = 7)
    {
        switch (shape)
        {
            case "exclusive":
            {
                var l = new AsyncExclusiveLock(name, level);
                return new(l, LockKind.AsyncExclusive, LockMode.Exclusive, true, (d, t) => l.AcquireAsync(d, t), () => l.AcquireAsync(), () => l.WaitingCount, () => !l.IsHeld, () => l.HolderFlowId);
            }

            case "write":
            case "read":
            {
                var l = new AsyncReadWriteLock(name, level);
                Func<TimeSpan, CancellationToken, ValueTask<AsyncLockScope>> acquire = shape == "write" ? (d, t) => l.AcquireWriteAsync(d, t) : (d, t) => l.AcquireReadAsync(d, t);
                return new(l, LockKind.AsyncReadWrite, shape == "write" ? LockMode.Write : LockMode.Read, true, acquire,
                    () => l.AcquireWriteAsync(), () => l.WaitingCount, () => !l.IsWriteHeld && l.CurrentReaderCount == 0, () => l.WriterFlowId);
            }

            case "permit":
            {
                var l = new CountingSemaphore(1, 1, name, level);
                return new(l, LockKind.Semaphore, LockMode.Permit, false, (d, t) => l.AcquireAsync(d, t), () => l.AcquireAsync(), () => l.WaitingCount, () => l.CurrentCount == 1, () => 0);
            }

            case "striped":
            {
                var l = new AsyncStripedLock<string>(4, name, level);
                int waiting = 0;
                return new(l, LockKind.AsyncStriped, LockMode.Exclusive, true,
                    async (d, t) =>
                    {
                        // A striped lock shows no queue length: the scenario counts its own pending waits.
                        var pending = l.AcquireAsync("k", d, t);
                        if (pending.IsCompleted)
                        {
                            return await pending;
                        }

                        Interlocked.Increment(ref waiting);
                        try
                        {
                            return await pending;
                        }
                        finally
                        {
                            Interlocked.Decrement(ref waiting);
                        }
                    },
                    () => l.AcquireAsync("k"), () => Volatile.Read(ref waiting), () =>
                    {
                        using var probe = l.TryAcquireAsync("k", TimeSpan.Zero).AsTask().GetAwaiter().GetResult();
                        return probe.IsAcquired;
                    },
                    () => 0);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, null);
        }
    }

    /// <summary>Takes a lock in a flow of its own (so the test's flow holds nothing) and hands the scope back.</summary>
    private static async Task<AsyncLockScope> HoldInOwnFlow(Func<ValueTask<AsyncLockScope>> acquire, string? activity = null)
    {
        Task<AsyncLockScope> hold;
        using (ExecutionContext.SuppressFlow())
        {
            hold = Task.Run(async () =>
            {
                using var current = activity is null ? null : new Activity(activity).Start();
                return await acquire();
            });
        }

        return await hold.WaitAsync(Guard.HangLimit);
    }

    /// <summary>Starts a flow of its own; its code runs on the pool.</summary>
    private static Task StartFlow(Func<Task> body)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(body);
        }
    }

    /// <summary>
    /// Begins an async body on a named thread, which stays alive (so its name can be read) until disposed: the body's
    /// first wait begins on that thread.
    /// </summary>
    private sealed class FlowOnThread : IDisposable
    {
        private readonly ManualResetEventSlim _done = new();
        private readonly Worker _worker;
        private Task? _task;

        public FlowOnThread(string threadName, Func<Task> body)
        {
            using var started = new ManualResetEventSlim();
            _worker = Worker.Start(threadName, () =>
            {
                ThreadId = Environment.CurrentManagedThreadId;
                _task = body();
                started.Set();
                Assert.True(_done.Wait(Guard.HangLimit));
            });
            Assert.True(started.Wait(Guard.HangLimit));
        }

        public int ThreadId { get; private set; }

        public Task Task => _task!;

        public void Dispose()
        {
            _done.Set();
            _worker.JoinGuarded();
            _done.Dispose();
        }
    }

    // ===================================== Deadlock detection =====================================

    public static TheoryData<string> ExclusiveSyncShapes => new() { "exclusive", "write" };

    [Theory]
    [MemberData(nameof(ExclusiveSyncShapes))]
    public void TwoThreadsDeadlocked_FindCycles_ReturnsOneCycleNamingBothThreadsLocksLevelsAndKinds_UntilACancellationBreaksIt(string shape)
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var first = Sync(shape, $"nud-dl-{shape}-first", 10);
        var second = Sync(shape, $"nud-dl-{shape}-second", 20);
        using var bothHold = new Barrier(2);
        using var cancelImporter = new CancellationTokenSource();
        int importerId = 0, reconcilerId = 0;
        bool reconcilerGotFirst = false;

        var importer = Worker.Start("nud-importer", () =>
        {
            importerId = Environment.CurrentManagedThreadId;
            first.Use(CancellationToken.None, () =>
            {
                Assert.True(bothHold.SignalAndWait(Guard.HangLimit));
                Assert.Throws<OperationCanceledException>(() => second.Use(cancelImporter.Token, () => { }));
            });
        });
        var reconciler = Worker.Start("nud-reconciler", () =>
        {
            reconcilerId = Environment.CurrentManagedThreadId;
            second.Use(CancellationToken.None, () =>
            {
                Assert.True(bothHold.SignalAndWait(Guard.HangLimit));
                first.Use(CancellationToken.None, () => reconcilerGotFirst = true);
            });
        });
        AwaitParked(importer, second.Lock.Name);
        AwaitParked(reconciler, first.Lock.Name);

        var cycle = AwaitCycleThrough(first.Lock.Name);
        cancelImporter.Cancel();
        importer.JoinGuarded();
        reconciler.JoinGuarded();

        Assert.Equal(2, cycle.Edges.Count);
        var onSecond = cycle.Edges.Single(e => e.LockName == second.Lock.Name);
        var onFirst = cycle.Edges.Single(e => e.LockName == first.Lock.Name);
        Assert.Equal(new DeadlockEdge(importerId, "nud-importer", second.Lock.Name, 20, first.Kind, first.Mode, reconcilerId), onSecond);
        Assert.Equal(new DeadlockEdge(reconcilerId, "nud-reconciler", first.Lock.Name, 10, first.Kind, first.Mode, importerId), onFirst);
        Assert.All(cycle.Edges, e => Assert.False(e.IsFlow));
        Assert.All(cycle.Edges, e => Assert.Null(e.FlowThread));
        Assert.Contains($"thread {importerId} ('nud-importer') waits for '{second.Lock.Name}' (level 20), held by thread {reconcilerId}", cycle.ToString());

        // Broken by the cancellation: the reconciler got the lock, nothing is held, nobody waits, no cycle remains.
        Assert.True(reconcilerGotFirst);
        Assert.True(first.IsFree());
        Assert.True(second.IsFree());
        Assert.Null(CycleThrough(first.Lock.Name));
        Assert.Empty(WaitsOn(first.Lock.Name));
    }

    public static TheoryData<string> ExclusiveAsyncShapes => new() { "exclusive", "write" };

    [Theory]
    [MemberData(nameof(ExclusiveAsyncShapes))]
    public async Task TwoFlowsDeadlocked_FindCycles_FollowsTheAsyncWaits_NamingBothFlowsLocksLevelsAndKinds(string shape)
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var first = Async(shape, $"nud-adl-{shape}-first", 10);
        var second = Async(shape, $"nud-adl-{shape}-second", 20);
        var importHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconcileHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancelImport = new CancellationTokenSource();
        int importFlow = 0, reconcileFlow = 0;
        string? importWaitThread = null;

        var import = StartFlow(async () =>
        {
            using var activity = new Activity("nud-import").Start();
            using var mine = await first.Acquire(Guard.HangLimit, CancellationToken.None);
            importHolds.SetResult();
            await reconcileHolds.Task.WaitAsync(Guard.HangLimit);
            importWaitThread = ThreadText(Environment.CurrentManagedThreadId, Thread.CurrentThread.Name);
            await Assert.ThrowsAsync<OperationCanceledException>(async () => await second.Acquire(Guard.HangLimit, cancelImport.Token));
        });
        var reconcile = StartFlow(async () =>
        {
            using var activity = new Activity("nud-reconcile").Start();
            using var mine = await second.Acquire(Guard.HangLimit, CancellationToken.None);
            reconcileHolds.SetResult();
            await importHolds.Task.WaitAsync(Guard.HangLimit);
            using var theirs = await first.Acquire(Guard.HangLimit, CancellationToken.None);
        });
        await importHolds.Task.WaitAsync(Guard.HangLimit);
        await reconcileHolds.Task.WaitAsync(Guard.HangLimit);
        importFlow = first.HolderFlow();
        reconcileFlow = second.HolderFlow();
        Guard.SpinUntil(() => first.Waiting() == 1 && second.Waiting() == 1);
        var cycle = AwaitCycleThrough(first.Lock.Name);
        var waits = DeadlockDetector.CurrentWaits();

        cancelImport.Cancel();
        await import.WaitAsync(Guard.HangLimit);
        await reconcile.WaitAsync(Guard.HangLimit);

        Assert.Equal(2, cycle.Edges.Count);
        var onSecond = cycle.Edges.Single(e => e.LockName == second.Lock.Name);
        var onFirst = cycle.Edges.Single(e => e.LockName == first.Lock.Name);
        Assert.Equal((importFlow, "nud-import", 20, first.Kind, first.Mode, reconcileFlow), (onSecond.ThreadId, onSecond.ThreadName, onSecond.LockLevel, onSecond.LockKind, onSecond.Mode, onSecond.OwnerThreadId));
        Assert.Equal((reconcileFlow, "nud-reconcile", 10, first.Kind, first.Mode, importFlow), (onFirst.ThreadId, onFirst.ThreadName, onFirst.LockLevel, onFirst.LockKind, onFirst.Mode, onFirst.OwnerThreadId));
        Assert.All(cycle.Edges, e => Assert.True(e.IsFlow));
        Assert.NotEqual(importFlow, reconcileFlow);
        Assert.Equal(importWaitThread, onSecond.FlowThread);
        Assert.Contains($"{FlowName(importFlow)} ('nud-import') (on thread {importWaitThread}) waits for '{second.Lock.Name}' (level 20), held by {FlowName(reconcileFlow)}", cycle.ToString());

        // CurrentWaits lists the same two waits, as the flows, each once.
        var listed = waits.Where(w => w.LockName.StartsWith($"nud-adl-{shape}-", StringComparison.Ordinal)).OrderBy(w => w.LockName).ToArray();
        Assert.Equal(new[] { (reconcileFlow, first.Lock.Name), (importFlow, second.Lock.Name) }, listed.Select(w => (w.WaiterId, w.LockName)));

        Assert.True(first.IsFree());
        Assert.True(second.IsFree());
        Assert.Null(CycleThrough(first.Lock.Name));
    }

    [Fact]
    public void AMixedCycle_AFlowBlockingOnASyncLock_AndAThreadBlockingOnTheFlowsAsyncLock_IsReportedInTheReadmesWords()
    {
        var orders = new AsyncExclusiveLock("nud-mixed-orders");
        var cache = new ExclusiveLock("nud-mixed-cache");
        using var flowHolds = new ManualResetEventSlim();
        using var threadHolds = new ManualResetEventSlim();
        using var cancelFlow = new CancellationTokenSource();
        int apiId = 0, importerId = 0, flowId = 0;
        bool importerGotOrders = false;

        // The flow takes the free async lock (no await yields, so its code stays on 'nud-api'), then blocks its thread.
        async Task Api()
        {
            using (await orders.AcquireAsync(Guard.HangLimit))
            {
                flowId = orders.HolderFlowId;
                flowHolds.Set();
                Assert.True(threadHolds.Wait(Guard.HangLimit));
                Assert.Throws<OperationCanceledException>(() => cache.Acquire(Guard.HangLimit, cancelFlow.Token));
            }
        }

        var api = Worker.Start("nud-api", () =>
        {
            apiId = Environment.CurrentManagedThreadId;
            Api().GetAwaiter().GetResult();
        });
        var importer = Worker.Start("nud-importer", () =>
        {
            importerId = Environment.CurrentManagedThreadId;
            using var held = cache.Acquire(Guard.HangLimit);
            threadHolds.Set();
            Assert.True(flowHolds.Wait(Guard.HangLimit));

            // Sync over async: this thread blocks on an acquisition it began.
            using var got = orders.AcquireAsync(Guard.HangLimit).AsTask().GetAwaiter().GetResult();
            importerGotOrders = got.IsAcquired;
        });
        AwaitParked(api, cache.Name);
        Guard.SpinUntil(() => orders.WaitingCount == 1 && importer.IsBlocked);

        var cycle = AwaitCycleThrough(cache.Name);
        cancelFlow.Cancel();
        api.JoinGuarded();
        importer.JoinGuarded();

        Assert.Equal(2, cycle.Edges.Count);
        var onOrders = cycle.Edges.Single(e => e.LockName == orders.Name);
        var onCache = cycle.Edges.Single(e => e.LockName == cache.Name);

        // The thread waits for the async lock through the flow its wait began; the flow for the sync lock through its thread.
        Assert.Equal((importerId, "nud-importer", LockKind.AsyncExclusive, flowId, false), (onOrders.ThreadId, onOrders.ThreadName, onOrders.LockKind, onOrders.OwnerThreadId, onOrders.IsFlow));
        Assert.True(onOrders.WaitsThrough >= FlowIdBase);
        Assert.Equal((flowId, LockKind.Exclusive, importerId, true, (int?)apiId), (onCache.ThreadId, onCache.LockKind, onCache.OwnerThreadId, onCache.IsFlow, onCache.WaitsThrough));
        Assert.Equal($"{apiId} ('nud-api')", onCache.FlowThread);
        string text = cycle.ToString();
        Assert.Contains($"thread {importerId} ('nud-importer') (blocked on the async wait of {FlowName(onOrders.WaitsThrough!.Value)}) waits for 'nud-mixed-orders', held by {FlowName(flowId)}", text);
        Assert.Contains($"{FlowName(flowId)} (on thread {apiId} ('nud-api')) waits for 'nud-mixed-cache', held by thread {importerId}", text);

        Assert.True(importerGotOrders);
        Assert.False(orders.IsHeld);
        Assert.False(cache.IsHeld);
    }

    public static TheoryData<string> SharedShapes => new() { "read", "permit" };

    [Theory]
    [MemberData(nameof(SharedShapes))]
    public void ADeadlockThroughASharedHold_IsNotFollowed_ThoughBothWaitsAreListed(string shared)
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var readWrite = new ReadWriteLock($"nud-shared-{shared}");
        var permits = new CountingSemaphore(1, 1, $"nud-shared-{shared}");
        var ledger = new ExclusiveLock($"nud-shared-{shared}-ledger");
        Action<Action> holdShared = shared == "read"
            ? body => { using (readWrite.AcquireRead(Guard.HangLimit)) body(); }
            : body => { using (permits.Acquire(Guard.HangLimit)) body(); };
        Action waitShared = shared == "read"
            ? () => { using (readWrite.AcquireWrite(Guard.HangLimit)) { } }
            : () => { using (permits.Acquire(Guard.HangLimit)) { } };
        string sharedName = $"nud-shared-{shared}";
        using var bothHold = new Barrier(2);
        using var cancelReader = new CancellationTokenSource();
        int writerId = 0;

        var reader = Worker.Start("nud-shared-holder", () =>
        {
            holdShared(() =>
            {
                Assert.True(bothHold.SignalAndWait(Guard.HangLimit));
                Assert.Throws<OperationCanceledException>(() => { using (ledger.Acquire(Guard.HangLimit, cancelReader.Token)) { } });
            });
        });
        var writer = Worker.Start("nud-exclusive-holder", () =>
        {
            writerId = Environment.CurrentManagedThreadId;
            using var mine = ledger.Acquire(Guard.HangLimit);
            Assert.True(bothHold.SignalAndWait(Guard.HangLimit));
            waitShared();
        });
        AwaitParked(reader, ledger.Name);
        AwaitParked(writer, sharedName);

        var onShared = Assert.Single(WaitsOn(sharedName));
        var onLedger = Assert.Single(WaitsOn(ledger.Name));
        var cycle = CycleThrough(ledger.Name) ?? CycleThrough(sharedName);
        cancelReader.Cancel();
        reader.JoinGuarded();
        writer.JoinGuarded();

        Assert.Null(cycle);
        Assert.Equal(shared == "read" ? LockMode.Write : LockMode.Permit, onShared.Mode);
        Assert.Equal(0, onShared.HolderId);
        Assert.Null(onShared.Holder);
        Assert.Equal(writerId, onLedger.HolderId);
    }

    // Single holder, a read behind a writer, a stripe (listed under its striped lock).
    public static TheoryData<string> ListedSyncShapes => new() { "exclusive", "read", "striped" };

    [Theory]
    [MemberData(nameof(ListedSyncShapes))]
    public void CurrentWaits_ListsABlockedThread_WithWaiterLockModeLockIdAndHolder_UntilItsWaitEnds(string shape)
    {
        var target = Sync(shape, $"nud-cw-{shape}", level: 7);
        using var cancel = new CancellationTokenSource();
        using var release = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        int holderId = 0, waiterId = 0;
        var holder = Worker.Start("nud-cw-holder", () =>
        {
            holderId = Environment.CurrentManagedThreadId;
            target.BlockWhile(() =>
            {
                held.Set();
                Assert.True(release.Wait(Guard.HangLimit));
            });
        });
        Assert.True(held.Wait(Guard.HangLimit));
        var waiter = Worker.Start("nud-cw-waiter", () =>
        {
            waiterId = Environment.CurrentManagedThreadId;
            Assert.Throws<OperationCanceledException>(() => target.Use(cancel.Token, () => { }));
        });
        AwaitParked(waiter, target.Lock.Name);

        var wait = Assert.Single(WaitsOn(target.Lock.Name));
        cancel.Cancel();
        waiter.JoinGuarded();
        var afterCancel = WaitsOn(target.Lock.Name);
        release.Set();
        holder.JoinGuarded();

        Assert.Equal((waiterId, "nud-cw-waiter", target.Lock.Name, (int?)7, target.Kind, target.Mode), (wait.WaiterId, wait.WaiterName, wait.LockName, wait.LockLevel, wait.LockKind, wait.Mode));
        Assert.Equal(target.Lock.Id, wait.LockId);
        Assert.False(wait.IsFlow);
        Assert.Null(wait.FlowThread);
        Assert.Equal($"thread {waiterId} ('nud-cw-waiter')", wait.Waiter);
        Assert.StartsWith($"thread {waiterId} ('nud-cw-waiter') has waited ", wait.ToString());
        Assert.EndsWith($" ms for '{target.Lock.Name}' ({target.Mode})", wait.ToString());
        Assert.Equal(target.SingleHolder ? holderId : 0, wait.HolderId);
        Assert.Equal(target.SingleHolder ? $"thread {holderId} ('nud-cw-holder')" : null, wait.Holder);
        Assert.Empty(afterCancel);
        Assert.True(target.IsFree());
    }

    public static TheoryData<string> ListedAsyncShapes => new() { "exclusive", "permit", "striped" };

    [Theory]
    [MemberData(nameof(ListedAsyncShapes))]
    public async Task CurrentWaits_ListsAQueuedFlow_AsFlowWithItsActivityAndTheThreadItsWaitBeganOn(string shape)
    {
        var target = Async(shape, $"nud-acw-{shape}", level: 7);
        var hold = await HoldInOwnFlow(target.Block);
        using var cancel = new CancellationTokenSource();
        Task<Exception?>? waited = null;
        using (var flusher = new FlowOnThread("nud-flusher", () => waited = Record.ExceptionAsync(async () =>
        {
            using var activity = new Activity("nud-flush").Start();
            using var scope = await target.Acquire(Guard.HangLimit, cancel.Token);
        }).AsTask()))
        {
            Guard.SpinUntil(() => target.Waiting() == 1);
            var wait = Assert.Single(WaitsOn(target.Lock.Name));
            cancel.Cancel();
            Assert.IsType<OperationCanceledException>(await waited!.WaitAsync(Guard.HangLimit));
            hold.Dispose();

            Assert.True(wait.IsFlow);
            Assert.Equal(("nud-flush", target.Lock.Name, (int?)7, target.Kind, target.Mode, target.Lock.Id), (wait.WaiterName, wait.LockName, wait.LockLevel, wait.LockKind, wait.Mode, wait.LockId));
            Assert.Equal($"{flusher.ThreadId} ('nud-flusher')", wait.FlowThread);
            Assert.Equal($"{FlowName(wait.WaiterId)} ('nud-flush') (on thread {flusher.ThreadId} ('nud-flusher'))", wait.Waiter);
            Assert.Equal(target.SingleHolder, wait.HolderId >= FlowIdBase);
        }

        Assert.Empty(WaitsOn(target.Lock.Name));
        Assert.True(target.IsFree());
    }

    [Fact]
    public async Task AnUntimedQueuedFlow_IsListedAtZeroFirst_CountedFromThere_AndOnceCancelledButUnreadIsNeitherListedNorFollowed()
    {
        // Nothing wants the clock: no timeout, no long-wait handler, no wait metric (no listener in this test).
        using var policy = PolicyScope.DefaultTimeout(Timeout.InfiniteTimeSpan);
        LocksmithPolicy.LongWaitOccurred = null;
        var gate = new AsyncExclusiveLock("nud-ended");
        var hold = await HoldInOwnFlow(() => gate.AcquireAsync());
        using var cancel = new CancellationTokenSource();
        ValueTask<AsyncLockScope> pending;
        using (ExecutionContext.SuppressFlow())
        {
            pending = gate.AcquireAsync(cancel.Token);
        }

        Guard.SpinUntil(() => gate.WaitingCount == 1);
        Assert.Equal(TimeSpan.Zero, Assert.Single(WaitsOn(gate.Name)).Waited);
        Guard.SpinUntil(() => WaitsOn(gate.Name).Single().Waited > TimeSpan.Zero, "the wait counted from its first sighting");
        cancel.Cancel();

        // The result is still unread, but the wait is over: not listed, in no cycle.
        Assert.Empty(WaitsOn(gate.Name));
        Assert.Null(CycleThrough(gate.Name));
        var canceled = await Assert.ThrowsAsync<OperationCanceledException>(async () => await pending);
        Assert.Contains("stopped waiting for exclusive access to 'nud-ended'", canceled.Message);
        Assert.Contains("nothing is held", canceled.Message);
        hold.Dispose();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public async Task SiblingTasksOfOneFlow_EachWaitIsListedOnce_AndACycleThroughTheSecondSiblingIsFound()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var parent = new AsyncExclusiveLock("nud-sib-parent");
        var quiet = new AsyncExclusiveLock("nud-sib-quiet");
        var cyclic = new AsyncExclusiveLock("nud-sib-cyclic");
        var quietHold = await HoldInOwnFlow(() => quiet.AcquireAsync());
        var otherHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var parentHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancelOther = new CancellationTokenSource();

        var other = StartFlow(async () =>
        {
            using var mine = await cyclic.AcquireAsync(Guard.HangLimit);
            otherHolds.SetResult();
            await parentHolds.Task.WaitAsync(Guard.HangLimit);
            await Assert.ThrowsAsync<OperationCanceledException>(async () => await parent.AcquireAsync(Guard.HangLimit, cancelOther.Token));
        });
        await otherHolds.Task.WaitAsync(Guard.HangLimit);
        var family = StartFlow(async () =>
        {
            using var mine = await parent.AcquireAsync(Guard.HangLimit);
            parentHolds.SetResult();

            // Two tasks of one flow, each waiting for its own lock.
            async Task Take(AsyncExclusiveLock gate)
            {
                using var got = await gate.AcquireAsync(Guard.HangLimit);
            }

            await Task.WhenAll(Take(quiet), Take(cyclic));
        });
        Guard.SpinUntil(() => quiet.WaitingCount == 1 && cyclic.WaitingCount == 1 && parent.WaitingCount == 1);
        int familyFlow = parent.HolderFlowId;
        int otherFlow = cyclic.HolderFlowId;
        var familyWaits = DeadlockDetector.CurrentWaits().Where(w => w.WaiterId == familyFlow).Select(w => w.LockName).Order().ToArray();
        var cycle = AwaitCycleThrough(cyclic.Name);

        cancelOther.Cancel();
        await other.WaitAsync(Guard.HangLimit);
        quietHold.Dispose();
        await family.WaitAsync(Guard.HangLimit);

        Assert.Equal(new[] { "nud-sib-cyclic", "nud-sib-quiet" }, familyWaits);
        Assert.Equal(
            new[] { (familyFlow, "nud-sib-cyclic", otherFlow), (otherFlow, "nud-sib-parent", familyFlow) },
            cycle.Edges.Select(e => (e.ThreadId, e.LockName, e.OwnerThreadId)).OrderBy(e => e.LockName));
        Assert.False(parent.IsHeld || quiet.IsHeld || cyclic.IsHeld);
    }

    // ===================================== Policy and events =====================================

    [Fact]
    public void TimeoutOccurred_ReceivesTheLockModeWaiterAndHolder_TheSameAsTheException()
    {
        using var policy = PolicyScope.Capture();
        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = e => { if (e.LockName == "nud-timeout-sync") events.Enqueue(e); };
        var rw = new ReadWriteLock("nud-timeout-sync", 7);
        using var release = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        int holderId = 0;
        var holder = Worker.Start("nud-timeout-holder", () =>
        {
            holderId = Environment.CurrentManagedThreadId;
            using var hold = rw.AcquireWrite(Guard.HangLimit);
            held.Set();
            Assert.True(release.Wait(Guard.HangLimit));
        });
        Assert.True(held.Wait(Guard.HangLimit));

        var timedOut = Assert.Throws<LockTimeoutException>(() => rw.AcquireRead(s_short));
        bool tried = rw.TryAcquireWrite(s_short, out _);
        release.Set();
        holder.JoinGuarded();

        Assert.False(tried);
        Assert.Equal(2, events.Count);
        var first = events.First();
        Assert.Equal(("nud-timeout-sync", LockMode.Read, Environment.CurrentManagedThreadId, holderId, "nud-timeout-holder"), (first.LockName, first.Mode, first.ThreadId, first.OwnerThreadId, first.OwnerThreadName));
        Assert.Equal((first.LockName, first.OwnerThreadId, first.OwnerThreadName, first.Waited), (timedOut.LockName, timedOut.OwnerThreadId, timedOut.OwnerThreadName, timedOut.Waited));
        Assert.Equal(LockMode.Write, events.Last().Mode);
        Assert.Contains("'nud-timeout-sync'", timedOut.Message);
    }

    [Fact]
    public async Task TimeoutOccurred_ForAFlow_NamesTheHoldingFlowWithItsActivity_AsTheExceptionDoes()
    {
        using var policy = PolicyScope.Capture();
        var events = new ConcurrentQueue<LockTimeoutEvent>();
        LocksmithPolicy.TimeoutOccurred = e => { if (e.LockName == "nud-timeout-async") events.Enqueue(e); };
        var gate = new AsyncExclusiveLock("nud-timeout-async");
        var hold = await HoldInOwnFlow(() => gate.AcquireAsync(), activity: "GET /orders");
        int holderFlow = gate.HolderFlowId;

        var timedOut = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(s_short));
        hold.Dispose();

        var e = Assert.Single(events);
        string holderName = $"{FlowName(holderFlow)} ('GET /orders')";
        Assert.Equal(("nud-timeout-async", LockMode.Exclusive, holderFlow, holderName), (e.LockName, e.Mode, e.OwnerThreadId, e.OwnerThreadName));
        Assert.True(e.ThreadId >= FlowIdBase);
        Assert.Equal((holderFlow, holderName, e.Waited), (timedOut.OwnerThreadId, timedOut.OwnerThreadName, timedOut.Waited));
        Assert.StartsWith($"F{FlowName(e.ThreadId)[1..]} (on thread ", timedOut.Message);
        Assert.Contains(holderName, timedOut.Message);
        Assert.False(gate.IsHeld);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LongWaitOccurred_ReportsOnlyABlockedAcquisition_OnceItHasTheLock_WithTheWaiter(bool async)
    {
        using var policy = PolicyScope.Capture();
        var events = new ConcurrentQueue<LongWaitEvent>();
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e => { if (e.LockName.StartsWith("nud-long", StringComparison.Ordinal)) events.Enqueue(e); };
        int waiterId = 0;
        bool heldInHandler = false;
        string name;

        if (async)
        {
            var gate = new AsyncExclusiveLock(name = "nud-long-async");
            (await gate.AcquireAsync()).Dispose();
            var hold = await HoldInOwnFlow(() => gate.AcquireAsync());
            var waiter = StartFlow(async () =>
            {
                using var got = await gate.AcquireAsync(Guard.HangLimit);
                waiterId = gate.HolderFlowId;
            });
            Guard.SpinUntil(() => gate.WaitingCount == 1);
            Assert.Empty(events);
            hold.Dispose();
            await waiter.WaitAsync(Guard.HangLimit);
        }
        else
        {
            var gate = new ExclusiveLock(name = "nud-long-sync");
            LocksmithPolicy.LongWaitOccurred += e => heldInHandler |= e.LockName == name && gate.IsHeldByCurrentThread;
            gate.Acquire().Dispose();
            var hold = gate.Acquire();
            var waiter = Worker.Start("nud-long-waiter", () =>
            {
                waiterId = Environment.CurrentManagedThreadId;
                using var got = gate.Acquire(Guard.HangLimit);
            });
            AwaitParked(waiter, name);
            Assert.Empty(events);
            hold.Dispose();
            waiter.JoinGuarded();
            Assert.True(heldInHandler);
        }

        var e = Assert.Single(events);
        Assert.Equal((name, LockMode.Exclusive, waiterId), (e.LockName, e.Mode, e.ThreadId));
    }

    [Fact]
    public void AThrowingLongWaitHandler_InAConditionWait_ThrowsHoldingTheLock_AndNotifiesAnotherWaiterInItsPlace()
    {
        using var policy = PolicyScope.Capture();
        var gate = new ExclusiveLock("nud-cv");
        var ready = new ConditionVariable(gate, "nud-cv-ready");
        var thrown = new InvalidOperationException("handler failed");
        int waiting = 0;
        Exception? firstFailure = null;
        bool firstHeld = false, secondNotified = false, secondHeld = false;

        // A waiter counts itself under the lock, so one that is counted and let go of the lock is inside Wait.
        Worker StartWaiter(string name, int expected, Action wait)
        {
            var worker = Worker.Start(name, () =>
            {
                using (gate.Acquire(Guard.HangLimit))
                {
                    waiting++;
                    wait();
                }
            });
            Guard.SpinUntil(() =>
            {
                using (gate.Acquire(Guard.HangLimit))
                {
                    return waiting == expected;
                }
            });
            return worker;
        }

        var first = StartWaiter("nud-cv-first", 1, () =>
        {
            firstFailure = Record.Exception(() => ready.Wait(Guard.HangLimit));
            firstHeld = gate.IsHeldByCurrentThread;
        });
        var second = StartWaiter("nud-cv-second", 2, () =>
        {
            secondNotified = ready.Wait(Guard.HangLimit);
            secondHeld = gate.IsHeldByCurrentThread;
        });

        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e =>
        {
            if (e.LockName == "nud-cv" && Thread.CurrentThread.Name == "nud-cv-first")
            {
                throw thrown;
            }
        };

        // Notified while this thread holds the lock, the first waiter blocks to take it back: a long wait.
        using (gate.Acquire(Guard.HangLimit))
        {
            ready.Notify();
            AwaitParked(first, gate.Name);
        }

        first.JoinGuarded();
        second.JoinGuarded();

        Assert.Same(thrown, firstFailure);
        Assert.True(firstHeld);
        Assert.True(secondNotified);
        Assert.True(secondHeld);
        Assert.False(gate.IsHeld);
    }

    public static TheoryData<string> GivenBackShapes => new() { "exclusive", "read", "permit" };

    [Theory]
    [MemberData(nameof(GivenBackShapes))]
    public void AThrowingLongWaitHandler_FailsTheThreadsAcquisition_AndGivesTheLockBack(string shape)
    {
        using var policy = PolicyScope.Capture();
        var target = Sync(shape, $"nud-throw-long-{shape}");
        var thrown = new InvalidOperationException("handler failed");
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e => { if (e.LockName == target.Lock.Name) throw thrown; };
        using var release = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        var holder = Worker.Start("nud-throw-long-holder", () => target.BlockWhile(() =>
        {
            held.Set();
            Assert.True(release.Wait(Guard.HangLimit));
        }));
        Assert.True(held.Wait(Guard.HangLimit));
        Exception? failure = null;
        var waiter = Worker.Start("nud-throw-long-waiter", () => failure = Record.Exception(() => target.Use(CancellationToken.None, () => { })));
        AwaitParked(waiter, target.Lock.Name);
        release.Set();
        holder.JoinGuarded();
        waiter.JoinGuarded();

        Assert.Same(thrown, failure);
        Assert.True(target.IsFree());
        Assert.Empty(WaitsOn(target.Lock.Name));
    }

    [Theory]
    [MemberData(nameof(GivenBackShapes))]
    public async Task AThrowingLongWaitHandler_FailsTheFlowsAcquisition_AndGivesTheHoldBack(string shape)
    {
        using var policy = PolicyScope.Capture();
        var target = Async(shape, $"nud-athrow-long-{shape}");
        var thrown = new InvalidOperationException("handler failed");
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e => { if (e.LockName == target.Lock.Name) throw thrown; };
        var hold = await HoldInOwnFlow(target.Block);
        Task<Exception?> waiter;
        using (ExecutionContext.SuppressFlow())
        {
            waiter = Task.Run(async () => await Record.ExceptionAsync(async () => { using var got = await target.Acquire(Guard.HangLimit, CancellationToken.None); }));
        }

        Guard.SpinUntil(() => target.Waiting() == 1);
        hold.Dispose();

        Assert.Same(thrown, await waiter.WaitAsync(Guard.HangLimit));
        Assert.True(target.IsFree());
        Assert.Empty(WaitsOn(target.Lock.Name));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AThrowingTimeoutHandler_IsWhatTheAcquisitionThrows_AndLeavesNothingHeldOrQueued(bool async)
    {
        using var policy = PolicyScope.Capture();
        var thrown = new InvalidOperationException("handler failed");
        string name = async ? "nud-throw-timeout-async" : "nud-throw-timeout-sync";
        LocksmithPolicy.TimeoutOccurred = e => { if (e.LockName == name) throw thrown; };
        if (async)
        {
            var gate = new AsyncExclusiveLock(name);
            var hold = await HoldInOwnFlow(() => gate.AcquireAsync());
            var failure = await Record.ExceptionAsync(async () => await gate.AcquireAsync(s_short));
            Assert.Same(thrown, failure);
            Assert.Equal(0, gate.WaitingCount);
            hold.Dispose();

            // The timed-out flow's claim ended: the same flow takes the lock and owns it, once.
            using (await gate.AcquireAsync(Guard.HangLimit))
            {
                Assert.True(gate.IsHeldByCurrentFlow);
            }

            Assert.False(gate.IsHeld);
        }
        else
        {
            var gate = new ExclusiveLock(name);
            using var release = new ManualResetEventSlim();
            using var held = new ManualResetEventSlim();
            var holder = Worker.Start("nud-throw-timeout-holder", () =>
            {
                using var hold = gate.Acquire();
                held.Set();
                Assert.True(release.Wait(Guard.HangLimit));
            });
            Assert.True(held.Wait(Guard.HangLimit));
            Assert.Same(thrown, Record.Exception(() => gate.Acquire(s_short)));
            Assert.False(gate.IsHeldByCurrentThread);
            release.Set();
            holder.JoinGuarded();
            Assert.False(gate.IsHeld);
        }

        Assert.Empty(WaitsOn(name));
    }

    [Theory]
    [InlineData(OrderViolationAction.Throw)]
    [InlineData(OrderViolationAction.Report)]
    [InlineData(OrderViolationAction.Ignore)]
    public void OrderViolationReported_ReceivesBothLocksLevelsAndTheThread_PerTheAction(OrderViolationAction action)
    {
        var reported = new ConcurrentQueue<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(action, v => { if (v.RequestedLockName == "nud-order-low") reported.Enqueue(v); });
        var high = new ExclusiveLock("nud-order-high", 20);
        var low = new ExclusiveLock("nud-order-low", 10);
        bool gotLow = false;
        LockOrderViolationException? refused = null;
        var worker = Worker.Start("nud-order-thread", () =>
        {
            using var outer = high.Acquire();
            refused = Record.Exception(() =>
            {
                using var inner = low.Acquire();
                gotLow = low.IsHeldByCurrentThread;
            }) as LockOrderViolationException;
            Assert.True(high.IsHeldByCurrentThread);
        });
        worker.JoinGuarded();

        Assert.Equal(action != OrderViolationAction.Throw, gotLow);
        Assert.Equal(action == OrderViolationAction.Throw, refused is not null);
        Assert.False(high.IsHeld || low.IsHeld); // before the Ignore case returns, so every action is checked
        if (action == OrderViolationAction.Ignore)
        {
            Assert.Empty(reported);
            return;
        }

        var v = Assert.Single(reported);
        Assert.Equal(("nud-order-high", 20, "nud-order-low", 10, "nud-order-thread"), (v.HeldLockName, v.HeldLevel, v.RequestedLockName, v.RequestedLevel, v.ThreadName));
        Assert.NotEqual(0, v.ThreadId);
        if (refused is not null)
        {
            Assert.Equal(v, refused.Violation);
        }
    }

    [Theory]
    [InlineData(OrderViolationAction.Throw, false)]
    [InlineData(OrderViolationAction.Report, true)]
    public async Task AThrowingOrderViolationHandler_IsWhatTheAcquisitionThrows_AndTakesNothing(OrderViolationAction action, bool async)
    {
        var thrown = new InvalidOperationException("handler failed");
        using var policy = PolicyScope.OrderViolations(action, v => { if (v.RequestedLockName.StartsWith("nud-othrow-low", StringComparison.Ordinal)) throw thrown; });
        if (async)
        {
            var high = new AsyncExclusiveLock("nud-othrow-high-async", 20);
            var low = new AsyncExclusiveLock("nud-othrow-low-async", 10);
            var result = await StartFlowWithResult(async () =>
            {
                using var outer = await high.AcquireAsync();
                var failure = await Record.ExceptionAsync(async () => { using var inner = await low.AcquireAsync(); });
                return (failure, low.IsHeld, high.IsHeldByCurrentFlow);
            });
            Assert.Same(thrown, result.failure);
            Assert.False(result.Item2);
            Assert.True(result.Item3);
            Assert.False(high.IsHeld || low.IsHeld);
        }
        else
        {
            var high = new ExclusiveLock("nud-othrow-high-sync", 20);
            var low = new ExclusiveLock("nud-othrow-low-sync", 10);
            using (high.Acquire())
            {
                Assert.Same(thrown, Record.Exception(() => { using var inner = low.Acquire(); }));
                Assert.False(low.IsHeld);
                Assert.True(high.IsHeldByCurrentThread);
            }

            Assert.False(high.IsHeld || low.IsHeld);
        }
    }

    private static Task<T> StartFlowWithResult<T>(Func<Task<T>> body)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(body).WaitAsync(Guard.HangLimit);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DefaultTimeout_BoundsAnAcquisitionThatNamesNone(bool async)
    {
        using var policy = PolicyScope.DefaultTimeout(s_short);
        var timeouts = new ConcurrentQueue<LockTimeoutEvent>();
        string name = async ? "nud-default-async" : "nud-default-sync";
        LocksmithPolicy.TimeoutOccurred = e => { if (e.LockName == name) timeouts.Enqueue(e); };
        Assert.Equal(s_short, LocksmithPolicy.DefaultTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => LocksmithPolicy.DefaultTimeout = TimeSpan.FromMilliseconds(-5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LocksmithPolicy.LongWaitThreshold = TimeSpan.FromMilliseconds(-5));
        Assert.Equal(s_short, LocksmithPolicy.DefaultTimeout);
        LockTimeoutException timedOut;
        if (async)
        {
            var gate = new AsyncExclusiveLock(name);
            var hold = await HoldInOwnFlow(() => gate.AcquireAsync());
            timedOut = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync());
            hold.Dispose();
        }
        else
        {
            var gate = new ExclusiveLock(name);
            using var release = new ManualResetEventSlim();
            using var held = new ManualResetEventSlim();
            var holder = Worker.Start("nud-default-holder", () =>
            {
                using var hold = gate.Acquire(Guard.HangLimit);
                held.Set();
                Assert.True(release.Wait(Guard.HangLimit));
            });
            Assert.True(held.Wait(Guard.HangLimit));
            timedOut = Assert.Throws<LockTimeoutException>(() => gate.Acquire());
            release.Set();
            holder.JoinGuarded();
        }

        Assert.Equal(name, timedOut.LockName);
        Assert.Contains($"'{name}'", timedOut.Message);
        Assert.Equal(timedOut.Waited, Assert.Single(timeouts).Waited);
    }

    // ===================================== Metrics =====================================

    /// <summary>A real listener on the "Locksmith" meter that keeps the measurements of this file's locks only.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, double Value, string? Name, string? Kind, string? Mode, int TagCount)> _measurements = new();

        public Recorder(string lockNamePrefix)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Keep(i, value, tags, lockNamePrefix));
            _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Keep(i, value, tags, lockNamePrefix));
            _listener.Start();
        }

        private void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, string prefix)
        {
            string? name = null, kind = null, mode = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "lock.name": name = tag.Value as string; break;
                    case "lock.kind": kind = tag.Value as string; break;
                    case "lock.mode": mode = tag.Value as string; break;
                }
            }

            if (name is not null && name.StartsWith(prefix, StringComparison.Ordinal))
            {
                _measurements.Enqueue((instrument.Name, value, name, kind, mode, tags.Length));
            }
        }

        /// <summary>A counter's total, or a histogram's number of measurements.</summary>
        public long Total(string instrument, string lockName) =>
            _measurements.Where(m => m.Instrument == instrument && m.Name == lockName)
                .Sum(m => instrument.EndsWith(".duration", StringComparison.Ordinal) ? 1 : (long)m.Value);

        public IEnumerable<(string Instrument, double Value, string? Name, string? Kind, string? Mode, int TagCount)> Of(string lockName) =>
            _measurements.Where(m => m.Name == lockName);

        public void Dispose() => _listener.Dispose();
    }

    private const string Acquisitions = "locksmith.lock.acquisitions";
    private const string Contentions = "locksmith.lock.contentions";
    private const string WaitDuration = "locksmith.lock.wait.duration";
    private const string HoldDuration = "locksmith.lock.hold.duration";
    private const string Timeouts = "locksmith.lock.timeouts";
    private const string OrderViolations = "locksmith.lock.order_violations";

    [Fact]
    public void TheMeter_PublishesTheReadmesInstruments_WithTheirTypesUnits_AndDurationBucketAdvice()
    {
        var published = new ConcurrentDictionary<string, Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName)
                {
                    published.TryAdd(instrument.Name, instrument);
                }
            },
        };
        listener.Start();

        Assert.Equal("Locksmith", LocksmithMetrics.MeterName);
        Assert.Equal("Locksmith.Metrics.IsSupported", LocksmithMetrics.IsSupportedSwitchName);
        Assert.True(LocksmithMetrics.IsSupported);
        var expected = new (string Name, Type Type, string Unit)[]
        {
            (Acquisitions, typeof(Counter<long>), "{acquisition}"),
            (Contentions, typeof(Counter<long>), "{contention}"),
            (WaitDuration, typeof(Histogram<double>), "s"),
            (HoldDuration, typeof(Histogram<double>), "s"),
            (Timeouts, typeof(Counter<long>), "{timeout}"),
            (OrderViolations, typeof(Counter<long>), "{violation}"),
        };
        foreach (var (name, type, unit) in expected)
        {
            Assert.True(published.TryGetValue(name, out var instrument), name);
            Assert.IsType(type, instrument);
            Assert.Equal(unit, instrument!.Unit);
        }

        // 1, 2.5 and 5 per decade from 100 ns, then 10 s: 25 boundaries.
        var boundaries = new List<double>();
        for (int exponent = -7; exponent <= 0; exponent++)
        {
            foreach (var mantissa in new[] { 1.0, 2.5, 5.0 })
            {
                boundaries.Add(mantissa * Math.Pow(10, exponent));
            }
        }

        boundaries.Add(10);
        Assert.Equal(25, boundaries.Count);
        foreach (var histogram in new[] { WaitDuration, HoldDuration })
        {
            var advised = ((Histogram<double>)published[histogram]).Advice?.HistogramBucketBoundaries;
            Assert.NotNull(advised);
            Assert.Equal(25, advised!.Count);
            for (int i = 0; i < 25; i++)
            {
                Assert.True(Math.Abs(advised[i] - boundaries[i]) <= boundaries[i] * 1e-9, $"{histogram}[{i}] = {advised[i]}, expected {boundaries[i]}");
            }
        }
    }

    // shape, lock.kind, lock.mode, whether its hold is timed (exclusive holds only).
    private static readonly (string Shape, string Kind, string Mode, bool Timed)[] s_syncTags =
    [
        ("exclusive", "exclusive", "exclusive", true),
        ("reentrant", "reentrant", "exclusive", true),
        ("spin", "spin", "exclusive", true),
        ("read", "read_write", "read", false),
        ("write", "read_write", "write", true),
        ("permit", "semaphore", "permit", false),
        ("striped", "striped", "exclusive", true),
    ];

    private static readonly (string Shape, string Kind, string Mode, bool Timed)[] s_asyncTags =
    [
        ("exclusive", "async_exclusive", "exclusive", true),
        ("read", "async_read_write", "read", false),
        ("write", "async_read_write", "write", true),
        ("permit", "semaphore", "permit", false),
        ("striped", "async_striped", "exclusive", true),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EachUncontendedAcquisition_CountsOnce_TaggedWithNameKindAndMode_AndOnlyExclusiveHoldsAreTimed(bool async)
    {
        string prefix = async ? "nud-metric-a-" : "nud-metric-s-";
        using var recorder = new Recorder(prefix);
        const int Holds = 3;
        foreach (var (shape, kind, mode, timed) in async ? s_asyncTags : s_syncTags)
        {
            string name = prefix + shape;
            for (int i = 0; i < Holds; i++)
            {
                if (async)
                {
                    using var scope = await Async(shape, name, level: null).Acquire(Guard.HangLimit, CancellationToken.None);
                }
                else if (shape == "spin")
                {
                    using (new SpinGate(name).Acquire())
                    {
                    }
                }
                else if (shape == "reentrant")
                {
                    // Re-entries are not counted, and the hold is timed once, from the outermost acquisition.
                    var gate = new ReentrantLock(name);
                    using (gate.Acquire())
                    using (gate.Acquire())
                    {
                    }
                }
                else
                {
                    Sync(shape, name, level: null).Use(CancellationToken.None, () => { });
                }
            }

            Assert.True(Holds == recorder.Total(Acquisitions, name), $"{name}: {recorder.Total(Acquisitions, name)} acquisitions");
            Assert.True((timed ? Holds : 0) == recorder.Total(HoldDuration, name), $"{name}: {recorder.Total(HoldDuration, name)} holds timed");
            Assert.Equal(0, recorder.Total(Contentions, name));
            Assert.Equal(0, recorder.Total(WaitDuration, name));
            Assert.All(recorder.Of(name), m => Assert.Equal((name, kind, mode, 3), (m.Name, m.Kind, m.Mode, m.TagCount)));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GrantedTimedOutAndCancelledWaits_EachCountOneContentionAndOneWait_OnlyTheTimeoutCountsATimeout(bool async)
    {
        string name = async ? "nud-contend-async" : "nud-contend-sync";
        using var recorder = new Recorder(name);
        if (async)
        {
            var gate = new AsyncExclusiveLock(name);
            var hold = await HoldInOwnFlow(() => gate.AcquireAsync());
            await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(s_short));
            using (var cancel = new CancellationTokenSource())
            {
                var cancelled = gate.AcquireAsync(Guard.HangLimit, cancel.Token);
                Guard.SpinUntil(() => gate.WaitingCount == 1);
                cancel.Cancel();
                await Assert.ThrowsAsync<OperationCanceledException>(async () => await cancelled);
            }

            var granted = StartFlow(async () => { using var got = await gate.AcquireAsync(Guard.HangLimit); });
            Guard.SpinUntil(() => gate.WaitingCount == 1);
            hold.Dispose();
            await granted.WaitAsync(Guard.HangLimit);
        }
        else
        {
            var gate = new ExclusiveLock(name);
            var hold = gate.Acquire();
            var others = Worker.Start("nud-contend-waiter", () =>
            {
                Assert.Throws<LockTimeoutException>(() => gate.Acquire(s_short));
            });
            others.JoinGuarded();
            using (var cancel = new CancellationTokenSource())
            {
                var cancelled = Worker.Start("nud-contend-cancelled", () => Assert.Throws<OperationCanceledException>(() => gate.Acquire(Guard.HangLimit, cancel.Token)));
                AwaitParked(cancelled, name);
                cancel.Cancel();
                cancelled.JoinGuarded();
            }

            var granted = Worker.Start("nud-contend-granted", () => { using var got = gate.Acquire(Guard.HangLimit); });
            AwaitParked(granted, name);
            hold.Dispose();
            granted.JoinGuarded();
        }

        // The holder and the granted waiter acquired; three waits contended, each measured once; one timed out.
        Assert.Equal(2, recorder.Total(Acquisitions, name));
        Assert.Equal(3, recorder.Total(Contentions, name));
        Assert.Equal(3, recorder.Total(WaitDuration, name));
        Assert.Equal(1, recorder.Total(Timeouts, name));
        Assert.Equal(2, recorder.Total(HoldDuration, name));
        Assert.All(recorder.Of(name), m => Assert.Equal((async ? "async_exclusive" : "exclusive", "exclusive"), (m.Kind, m.Mode)));
    }

    [Theory]
    [InlineData(OrderViolationAction.Throw)]
    [InlineData(OrderViolationAction.Report)]
    public void EveryOrderViolation_CountsOnce_OnTheRequestedLock(OrderViolationAction action)
    {
        using var policy = PolicyScope.OrderViolations(action);
        string lowName = $"nud-viol-{action}-low";
        using var recorder = new Recorder($"nud-viol-{action}-");
        var high = new ExclusiveLock($"nud-viol-{action}-high", 20);
        var low = new ExclusiveLock(lowName, 10);
        const int Violations = 4;
        using (high.Acquire())
        {
            for (int i = 0; i < Violations; i++)
            {
                var failure = Record.Exception(() => { using var inner = low.Acquire(); });
                Assert.Equal(action == OrderViolationAction.Throw, failure is LockOrderViolationException);
            }
        }

        Assert.Equal(Violations, recorder.Total(OrderViolations, lowName));
        Assert.Equal(0, recorder.Total(OrderViolations, high.Name));
        Assert.Equal(action == OrderViolationAction.Report ? Violations : 0, recorder.Total(Acquisitions, lowName));
    }

    [Fact]
    public void AHoldThatBeganBeforeTheListener_IsNotTimed_ButTheNextOneIs()
    {
        var gate = new ExclusiveLock("nud-hold-before");
        var early = gate.Acquire();
        using var recorder = new Recorder("nud-hold-before");
        early.Dispose();
        using (gate.Acquire())
        {
        }

        Assert.Equal(1, recorder.Total(HoldDuration, gate.Name));
        Assert.Equal(1, recorder.Total(Acquisitions, gate.Name));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AListenerThatThrowsOnTheAcquisitionsCounter_FailsTheAcquisition_AndGivesTheLockBack(bool async)
    {
        string name = async ? "nud-listener-throws-async" : "nud-listener-throws-sync";
        var thrown = new InvalidOperationException("listener failed");
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == Acquisitions)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value == name)
                {
                    throw thrown;
                }
            }
        });
        listener.Start();

        if (async)
        {
            var gate = new AsyncExclusiveLock(name);
            Assert.Same(thrown, await Record.ExceptionAsync(async () => { using var scope = await gate.AcquireAsync(); }));
            Assert.False(gate.IsHeld);
            Assert.False(gate.IsHeldByCurrentFlow);
        }
        else
        {
            var gate = new ExclusiveLock(name);
            Assert.Same(thrown, Record.Exception(() => { using var scope = gate.Acquire(); }));
            Assert.False(gate.IsHeld);
        }
    }
}
