using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests;

/// <summary>
/// A new user's scenarios for README's "Global lock order and LockSet" (and the async section's words on the one global
/// order and the async LockSet), written from README only: the order check and its three actions, threads and flows,
/// sync and async mixed, and LockSet's order, all-or-nothing, rejections, duplicates and one-permit rule. Each ends on
/// exact holders, counts and messages. Policy changes go through <see cref="PolicyScope"/>; the project runs one test
/// at a time (xunit.runner.json).
/// </summary>
public sealed class NewUserLockOrderTests
{
    private const int FlowIdBase = 1 << 30;

    private static readonly TimeSpan s_short = TimeSpan.FromMilliseconds(20);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static string ThreadName(int id, string? name) => string.IsNullOrEmpty(name) ? $"{id}" : $"{id} ('{name}')";

    private static string Me => ThreadName(Environment.CurrentManagedThreadId, Thread.CurrentThread.Name);

    private static string Acquiring(string requested, int requestedLevel, string held, int heldLevel) =>
        $": acquiring '{requested}' (level {requestedLevel}) while holding '{held}' (level {heldLevel}).";

    private static int WaitsOn(string lockName) => DeadlockDetector.CurrentWaits().Count(w => w.LockName == lockName);

    /// <summary>A sync lock-set member of one kind, with how to tell it is free and how another thread holds all of it.</summary>
    private sealed record Member(ILockSetMember Lock, Func<bool> IsFree, Action<ReleaseSignal> HoldUntilReleased);

    private static Member Make(string kind, string name, int? level = null)
    {
        switch (kind)
        {
            case "exclusive":
            {
                var l = new ExclusiveLock(name, level);
                return new(l, () => !l.IsHeld, r => { using var s = l.Acquire(); r.Wait(); });
            }

            case "reentrant":
            {
                var l = new ReentrantLock(name, level);
                return new(l, () => !l.IsHeld, r => { using var s = l.Acquire(); r.Wait(); });
            }

            case "spin":
            {
                var l = new SpinGate(name, level);
                return new(l, () => !l.IsHeld, r => { using var s = l.Acquire(); r.Wait(); });
            }

            case "rw":
            {
                var l = new ReadWriteLock(name, level);
                return new(l, () => l.WriterThreadId == 0 && l.CurrentReaderCount == 0, r => { using var s = l.AcquireWrite(); r.Wait(); });
            }

            case "semaphore":
            {
                var l = new CountingSemaphore(2, 2, name, level);
                return new(l, () => l.CurrentCount == 2, r => { using var s = l.Acquire(2); r.Wait(); });
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>An async lock-set member of one kind, with how to tell it is free (and not held by the current flow).</summary>
    private sealed record AsyncMember(IAsyncLockSetMember Lock, Func<bool> IsFree, Func<bool> IsHeldByCurrentFlow);

    private static AsyncMember MakeAsync(string kind, string name, int? level = null)
    {
        switch (kind)
        {
            case "async-exclusive":
            {
                var l = new AsyncExclusiveLock(name, level);
                return new(l, () => !l.IsHeld && l.WaitingCount == 0, () => l.IsHeldByCurrentFlow);
            }

            case "async-rw":
            {
                var l = new AsyncReadWriteLock(name, level);
                return new(l, () => !l.IsWriteHeld && l.CurrentReaderCount == 0 && l.WaitingCount == 0, () => l.IsWriteHeldByCurrentFlow);
            }

            case "semaphore":
            {
                var l = new CountingSemaphore(2, 2, name, level);
                return new(l, () => l.CurrentCount == 2 && l.WaitingCount == 0, () => false);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>Another async flow (started with the caller's flow suppressed) that takes a lock and holds it until disposed.</summary>
    private sealed class OtherFlow : IAsyncDisposable
    {
        private readonly TaskCompletionSource _held = NewSignal();
        private readonly TaskCompletionSource _release = NewSignal();
        private readonly Task _done;

        private OtherFlow(Func<ValueTask<AsyncLockScope>> acquire)
        {
            using (ExecutionContext.SuppressFlow())
            {
                _done = Task.Run(async () =>
                {
                    using var scope = await acquire();
                    _held.SetResult();
                    await _release.Task;
                });
            }
        }

        public static async Task<OtherFlow> Hold(Func<ValueTask<AsyncLockScope>> acquire)
        {
            var flow = new OtherFlow(acquire);
            await Task.WhenAny(flow._held.Task, flow._done).WaitAsync(Guard.HangLimit);
            if (flow._done.IsCompleted)
            {
                await flow._done; // it failed before it held: its exception says why
            }

            return flow;
        }

        public async ValueTask DisposeAsync()
        {
            _release.TrySetResult();
            await _done.WaitAsync(Guard.HangLimit);
        }
    }

    /// <summary>Counts <c>locksmith.lock.order_violations</c> measurements tagged with one of <paramref name="lockNames"/>.</summary>
    private sealed class ViolationMetric : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public ViolationMetric(params string[] lockNames)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Locksmith" && instrument.Name == "locksmith.lock.order_violations")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "lock.name" && tag.Value is string name && lockNames.Contains(name))
                    {
                        Interlocked.Add(ref _count, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }

    // ---- The order check: Throw, Report, Ignore ----

    [Theory]
    [InlineData(10)]
    [InlineData(5)]
    public void Throw_IsTheDefault_AndFailsBeforeBlocking_NamingBothLocksTheirLevelsAndTheThread(int requestedLevel)
    {
        using var policy = PolicyScope.Capture();
        Assert.Equal(OrderViolationAction.Throw, LocksmithPolicy.OrderViolationAction);
        var accounts = new ExclusiveLock("order-accounts", level: 10);
        var audit = new ExclusiveLock("order-audit", level: requestedLevel);
        using var other = HeldOnOtherThread.Hold("audit-holder", r => { using var s = audit.Acquire(); r.Wait(); });

        LockOrderViolationException? thrown = null;
        var thread = 0;
        var worker = Worker.Start("worker", () =>
        {
            thread = Environment.CurrentManagedThreadId;
            using var held = accounts.Acquire();

            // audit is held elsewhere: a check made after blocking would end in LockTimeoutException instead.
            thrown = Assert.Throws<LockOrderViolationException>(() => { using var s = audit.Acquire(s_short); });
            Assert.True(accounts.IsHeldByCurrentThread);
        });
        worker.JoinGuarded();

        Assert.StartsWith(
            $"Lock order violation on thread {thread} ('worker')" + Acquiring("order-audit", requestedLevel, "order-accounts", 10),
            thrown!.Message);
        // The record's data (its advice, which differs for one level, is the message's end: SameLevelAdviceTests).
        var v = thrown.Violation;
        Assert.Equal(("order-accounts", 10, "order-audit", requestedLevel, thread, "worker"), (v.HeldLockName, v.HeldLevel, v.RequestedLockName, v.RequestedLevel, v.ThreadId, v.ThreadName));
        Assert.Equal(other.ThreadId, audit.OwnerThreadId);
        Assert.False(accounts.IsHeld);
    }

    [Theory]
    [InlineData(OrderViolationAction.Throw, 1)]
    [InlineData(OrderViolationAction.Report, 1)]
    [InlineData(OrderViolationAction.Ignore, 0)]
    public void OrderViolationAction_DecidesWhatHappens_AndIgnoreReportsAndCountsNothing(OrderViolationAction action, int expected)
    {
        var reported = new ConcurrentQueue<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(action, reported.Enqueue);
        using var metric = new ViolationMetric("action-high", "action-low");
        var high = new ExclusiveLock("action-high", level: 20);
        var low = new ExclusiveLock("action-low", level: 10);
        var me = Environment.CurrentManagedThreadId;

        using (high.Acquire())
        {
            if (action == OrderViolationAction.Throw)
            {
                Assert.Throws<LockOrderViolationException>(() => { using var s = low.Acquire(); });
                Assert.False(low.IsHeld);
            }
            else
            {
                // Report and Ignore continue: the acquisition takes the lock.
                using var s = low.Acquire();
                Assert.True(low.IsHeldByCurrentThread);
            }
        }

        // Throw calls the callback too, before it throws (LocksmithPolicy.OrderViolationReported's contract).
        var violation = new LockOrderViolation("action-high", 20, "action-low", 10, me, Thread.CurrentThread.Name);
        Assert.Equal(Enumerable.Repeat(violation, expected), reported.ToArray());
        Assert.Equal(expected, metric.Count);
        Assert.False(high.IsHeld);
        Assert.False(low.IsHeld);
    }

    [Theory]
    [InlineData("sync", 20)]
    [InlineData("sync", 10)]
    [InlineData("async", 20)]
    [InlineData("async", 10)]
    public async Task AFlowHoldingAnAsyncLockAt20_ViolatesTakingAnyLockAtOrBelow20_NamingTheFlowBeforeItWaits(string requestedKind, int level)
    {
        using var policy = PolicyScope.Capture();
        var orders = new AsyncExclusiveLock("flow-orders", level: 20);
        var syncAudit = new ExclusiveLock("flow-audit-sync", level);
        var asyncAudit = new AsyncExclusiveLock("flow-audit-async", level);
        using var threadHolder = HeldOnOtherThread.Hold("audit-holder", r => { using var s = syncAudit.Acquire(); r.Wait(); });
        await using var flowHolder = await OtherFlow.Hold(() => asyncAudit.AcquireAsync());
        var holderFlow = asyncAudit.HolderFlowId;

        var (thrown, flowId, thread) = await Task.Run(async () =>
        {
            using var activity = new Activity("GET /orders").Start();
            using var held = await orders.AcquireAsync();
            var id = orders.HolderFlowId;
            var on = Me;

            // Both requested locks are held elsewhere: a check made after waiting would end in LockTimeoutException.
            var ex = requestedKind == "sync"
                ? Assert.Throws<LockOrderViolationException>(() => { using var s = syncAudit.Acquire(s_short); })
                : await Assert.ThrowsAsync<LockOrderViolationException>(async () => { using var s = await asyncAudit.AcquireAsync(s_short); });
            Assert.True(orders.IsHeldByCurrentFlow);
            return (ex, id, on);
        }).WaitAsync(Guard.HangLimit);

        var requested = requestedKind == "sync" ? "flow-audit-sync" : "flow-audit-async";
        Assert.True(flowId > FlowIdBase);
        Assert.StartsWith(
            $"Lock order violation in flow #{flowId - FlowIdBase} ('GET /orders') (on thread {thread})" + Acquiring(requested, level, "flow-orders", 20),
            thrown.Message);
        var v = thrown.Violation;
        Assert.Equal(("flow-orders", 20, requested, level, flowId, "GET /orders"), (v.HeldLockName, v.HeldLevel, v.RequestedLockName, v.RequestedLevel, v.ThreadId, v.ThreadName));
        Assert.Equal(threadHolder.ThreadId, syncAudit.OwnerThreadId);
        Assert.Equal(holderFlow, asyncAudit.HolderFlowId);
        Assert.Equal(0, asyncAudit.WaitingCount);
        Assert.Equal(0, WaitsOn(requested));
        Assert.False(orders.IsHeld);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(10)]
    public async Task AThreadHoldingASyncLockAt20_ViolatesTakingAnAsyncLockAtOrBelow20_BeforeItWaits(int level)
    {
        using var policy = PolicyScope.Capture();
        var accounts = new ExclusiveLock("mixed-accounts", level: 20);
        var audit = new AsyncExclusiveLock("mixed-audit", level);
        await using var holder = await OtherFlow.Hold(() => audit.AcquireAsync());
        var holderFlow = audit.HolderFlowId;

        LockOrderViolationException? thrown = null;
        var thread = 0;
        var worker = Worker.Start("mixer", () =>
        {
            thread = Environment.CurrentManagedThreadId;
            using var held = accounts.Acquire();
            thrown = Assert.Throws<LockOrderViolationException>(() => audit.AcquireAsync(s_short).AsTask().GetAwaiter().GetResult());
        });
        worker.JoinGuarded();

        // The asker is the async acquisition's flow, named with the thread it ran on (it has no activity here).
        Assert.Matches(
            $@"^Lock order violation in flow #\d+ \(on thread {thread} \('mixer'\)\)" + Regex.Escape(Acquiring("mixed-audit", level, "mixed-accounts", 20)),
            thrown!.Message);
        var v = thrown.Violation;
        Assert.Equal(("mixed-accounts", 20, "mixed-audit", level, $"{thread} ('mixer')"), (v.HeldLockName, v.HeldLevel, v.RequestedLockName, v.RequestedLevel, v.FlowThread));
        Assert.True(v.ThreadId > FlowIdBase);
        Assert.Equal(holderFlow, audit.HolderFlowId);
        Assert.Equal(0, audit.WaitingCount);
        Assert.False(accounts.IsHeld);
    }

    [Fact]
    public async Task RisingLevels_AcrossSyncAndAsync_AreNoViolation()
    {
        var reported = new ConcurrentQueue<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Report, reported.Enqueue);
        var first = new AsyncExclusiveLock("rise-20", level: 20);
        var second = new ExclusiveLock("rise-30", level: 30);
        var third = new AsyncExclusiveLock("rise-40", level: 40);

        await Task.Run(async () =>
        {
            using var a = await first.AcquireAsync();
            using var b = second.Acquire();

            // A sync scope cannot cross an await: block on the (free) async lock instead.
            using var c = third.AcquireAsync().AsTask().GetAwaiter().GetResult();
            Assert.True(first.IsHeldByCurrentFlow && second.IsHeldByCurrentThread && third.IsHeldByCurrentFlow);
        }).WaitAsync(Guard.HangLimit);

        Assert.Empty(reported);
        Assert.False(first.IsHeld || second.IsHeld || third.IsHeld);
    }

    [Fact]
    public void ReenteringAReentrantLock_IsNotAViolation_EvenWhileAHigherLockIsHeld()
    {
        var reported = new ConcurrentQueue<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Report, reported.Enqueue);
        using var metric = new ViolationMetric("reenter-session", "reenter-ledger");
        var session = new ReentrantLock("reenter-session", level: 10);
        var ledger = new ExclusiveLock("reenter-ledger", level: 20);

        using (session.Acquire())
        using (ledger.Acquire())
        using (session.Acquire())
        {
            Assert.Equal(2, session.RecursionCount);
        }

        Assert.Empty(reported);
        Assert.Equal(0, metric.Count);

        // Under Throw (the default) the same re-entry throws nothing.
        LocksmithPolicy.OrderViolationAction = OrderViolationAction.Throw;
        using (session.Acquire())
        using (ledger.Acquire())
        using (session.Acquire())
        {
            Assert.Equal(2, session.RecursionCount);
        }

        Assert.False(session.IsHeld);
        Assert.False(ledger.IsHeld);
    }

    [Fact]
    public async Task UnorderedLocks_AreNotChecked_OnEitherSideOfAnOrderedOne()
    {
        var reported = new ConcurrentQueue<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Report, reported.Enqueue);
        using var metric = new ViolationMetric("plain-1", "plain-2", "ordered-5", "ordered-async-30", "plain-async");
        var plain1 = new ExclusiveLock("plain-1");
        var plain2 = new ExclusiveLock("plain-2");
        var ordered = new ExclusiveLock("ordered-5", level: 5);
        var orderedAsync = new AsyncExclusiveLock("ordered-async-30", level: 30);
        var plainAsync = new AsyncExclusiveLock("plain-async");

        using (plain1.Acquire())
        using (ordered.Acquire())
        using (plain2.Acquire())
        {
            Assert.True(plain1.IsHeldByCurrentThread && ordered.IsHeldByCurrentThread && plain2.IsHeldByCurrentThread);
        }

        await Task.Run(async () =>
        {
            using var high = await orderedAsync.AcquireAsync();
            using var plain = await plainAsync.AcquireAsync();
            using var sync = plain1.Acquire();
            Assert.True(plainAsync.IsHeldByCurrentFlow);
        }).WaitAsync(Guard.HangLimit);

        Assert.Empty(reported);
        Assert.Equal(0, metric.Count);
    }

    // ---- LockSet: the global order ----

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LockSet_TakesLocksInLevelOrder_WhateverTheArgumentOrder(bool highFirst)
    {
        using var policy = PolicyScope.Capture();
        var low = new ExclusiveLock("set-low", level: 10);
        var high = new ExclusiveLock("set-high", level: 30);
        var middle = new ExclusiveLock("set-middle", level: 20);

        // Taken in argument order, high then low would be a violation under Throw.
        using (var set = highFirst ? LockSet.Acquire(high, low) : LockSet.Acquire(low, high))
        {
            Assert.Equal(2, set.Count);
            Assert.True(low.IsHeldByCurrentThread && high.IsHeldByCurrentThread);

            // The set counts as holding level 30.
            var thrown = Assert.Throws<LockOrderViolationException>(() => { using var s = middle.Acquire(); });
            Assert.Equal(("set-high", 30), (thrown.Violation.HeldLockName, thrown.Violation.HeldLevel));
        }

        Assert.False(low.IsHeld || high.IsHeld || middle.IsHeld);
    }

    [Fact]
    public void LockSet_TransfersInOppositeDirections_NeverDeadlock_EvenForUnorderedLocks()
    {
        const int Iterations = 300;
        var a = new ExclusiveLock("transfer-a"); // no level: the set orders them by a stable id
        var b = new ExclusiveLock("transfer-b");
        var balances = new[] { 1_000, 1_000 };
        using var start = new Barrier(2);

        void Transfer(int from, int to)
        {
            Assert.True(start.SignalAndWait(Guard.HangLimit));
            for (var i = 0; i < Iterations; i++)
            {
                using var set = from == 0 ? LockSet.Acquire(a, b) : LockSet.Acquire(b, a);
                balances[from] -= 1;
                balances[to] += 1;
            }
        }

        var ab = Worker.Start("a-to-b", () => Transfer(0, 1));
        var ba = Worker.Start("b-to-a", () => Transfer(1, 0));
        ab.JoinGuarded();
        ba.JoinGuarded();

        Assert.Equal(new[] { 1_000, 1_000 }, balances);
        Assert.False(a.IsHeld || b.IsHeld);
    }

    // ---- LockSet: all or nothing ----

    [Theory]
    [InlineData("reentrant")]
    [InlineData("spin")]
    [InlineData("rw")]
    [InlineData("semaphore")]
    public void LockSet_WithATimeout_ThrowsLockTimeoutException_HoldingNothing(string kind)
    {
        var first = Make(kind, $"timeout-first-{kind}", level: 1); // taken first, so it must be given back
        var busy = new ExclusiveLock($"timeout-busy-{kind}", level: 2);
        var holder = HeldOnOtherThread.Hold("busy-holder", r => { using var s = busy.Acquire(); r.Wait(); });
        try
        {
            Assert.Throws<LockTimeoutException>(() => { using var s = LockSet.Acquire(s_short, first.Lock, busy); });
            Assert.True(first.IsFree());
            Assert.Equal(holder.ThreadId, busy.OwnerThreadId);

            Assert.False(LockSet.TryAcquire(s_short, out var none, first.Lock, busy));
            Assert.False(none.IsAcquired);
            Assert.Equal(0, none.Count);
            none.Dispose();
            Assert.True(first.IsFree());
            Assert.Equal(holder.ThreadId, busy.OwnerThreadId);
        }
        finally
        {
            holder.Release();
        }

        using (var set = LockSet.Acquire(s_short, first.Lock, busy))
        {
            Assert.Equal(2, set.Count);
            Assert.False(first.IsFree());
        }

        Assert.True(first.IsFree());
        Assert.False(busy.IsHeld);
    }

    [Fact]
    public void LockSet_Cancelled_WhileWaiting_ReleasesWhatItTook()
    {
        var pool = new CountingSemaphore(3, 3, "cancel-pool", level: 1);
        var busy = new ExclusiveLock("cancel-busy", level: 2);
        using var holder = HeldOnOtherThread.Hold("busy-holder", r => { using var s = busy.Acquire(); r.Wait(); });
        using var cts = new CancellationTokenSource();

        OperationCanceledException? thrown = null;
        var waiter = Worker.Start("set-waiter", () =>
            thrown = Assert.ThrowsAny<OperationCanceledException>(() => { using var s = LockSet.Acquire(Guard.HangLimit, cts.Token, pool, busy); }));
        Guard.SpinUntil(() => WaitsOn("cancel-busy") == 1);
        cts.Cancel();
        waiter.JoinGuarded();

        Assert.Equal(cts.Token, thrown!.CancellationToken);
        Assert.Equal(3, pool.CurrentCount);
        Assert.Equal(0, pool.WaitingCount);
        Assert.Equal(holder.ThreadId, busy.OwnerThreadId);
        Assert.Equal(0, WaitsOn("cancel-busy"));
    }

    [Fact]
    public void LockSet_AnOrderViolation_ReleasesWhatTheSetTook()
    {
        using var policy = PolicyScope.Capture();
        var held = new ExclusiveLock("violation-held", level: 10);
        var pool = new CountingSemaphore(2, 2, "violation-pool"); // unordered: not checked, may be taken first
        var low = new ExclusiveLock("violation-low", level: 5);

        using (held.Acquire())
        {
            var thrown = Assert.Throws<LockOrderViolationException>(() => { using var s = LockSet.Acquire(pool, low); });
            var v = thrown.Violation;
            Assert.Equal(("violation-held", 10, "violation-low", 5, Environment.CurrentManagedThreadId), (v.HeldLockName, v.HeldLevel, v.RequestedLockName, v.RequestedLevel, v.ThreadId));
            Assert.Equal(2, pool.CurrentCount);
            Assert.False(low.IsHeld);
            Assert.True(held.IsHeldByCurrentThread);
        }
    }

    // ---- LockSet: rejected before anything is taken ----

    [Theory]
    [InlineData("exclusive")]
    [InlineData("spin")]
    [InlineData("rw-write")]
    [InlineData("rw-read")]
    public void LockSet_WithAMemberTheThreadHolds_ThrowsLockRecursionException_NamingLockAndThread_BeforeTakingAnything(string kind)
    {
        var pool = new CountingSemaphore(2, 2, $"recursion-pool-{kind}", level: 1); // would be taken first
        var exclusive = new ExclusiveLock($"recursion-{kind}", level: 2);
        var spin = new SpinGate($"recursion-{kind}", level: 2);
        var rw = new ReadWriteLock($"recursion-{kind}", level: 2);
        ILockSetMember member = kind switch { "exclusive" => exclusive, "spin" => spin, _ => rw };

        LockRecursionException? thrown = null;
        var thread = 0;
        var worker = Worker.Start("set-worker", () =>
        {
            thread = Environment.CurrentManagedThreadId;
            void Attempt()
            {
                thrown = Assert.Throws<LockRecursionException>(() => { using var s = LockSet.Acquire(pool, member); });
                Assert.Equal(2, pool.CurrentCount);
            }

            switch (kind)
            {
                case "exclusive":
                    using (exclusive.Acquire()) { Attempt(); Assert.True(exclusive.IsHeldByCurrentThread); }
                    break;
                case "spin":
                    using (spin.Acquire()) { Attempt(); Assert.True(spin.IsHeldByCurrentThread); }
                    break;
                case "rw-write":
                    using (rw.AcquireWrite()) { Attempt(); Assert.True(rw.IsWriteLockHeldByCurrentThread); }
                    break;
                default:
                    using (rw.AcquireRead()) { Attempt(); Assert.Equal(1, rw.CurrentReaderCount); }
                    break;
            }
        });
        worker.JoinGuarded();

        Assert.Contains($"'recursion-{kind}'", thrown!.Message);
        Assert.Contains($"thread {thread} ('set-worker')", thrown.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, pool.CurrentCount);
        Assert.False(exclusive.IsHeld || spin.IsHeld);
        Assert.Equal((0, 0), (rw.WriterThreadId, rw.CurrentReaderCount));
    }

    [Fact]
    public void LockSet_WithAReentrantLockTheThreadHolds_EntersItOnceMore()
    {
        var session = new ReentrantLock("set-session", level: 1);
        var ledger = new ExclusiveLock("set-ledger", level: 2);

        using (session.Acquire())
        {
            using (var set = LockSet.Acquire(ledger, session))
            {
                Assert.Equal(2, session.RecursionCount);
                Assert.True(ledger.IsHeldByCurrentThread);
            }

            Assert.Equal(1, session.RecursionCount);
            Assert.False(ledger.IsHeld);
        }

        Assert.False(session.IsHeld);
    }

    [Theory]
    [InlineData("exclusive")]
    [InlineData("semaphore")]
    public void LockSet_ListingOneLockTwice_IsAnArgumentException_NamingTheLockAndBothPlaces(string kind)
    {
        var dup = Make(kind, $"dup-{kind}");
        var other = new ExclusiveLock($"dup-other-{kind}");

        var thrown = Assert.Throws<ArgumentException>(() => { using var s = LockSet.Acquire(dup.Lock, other, dup.Lock); });

        Assert.Equal("locks", thrown.ParamName);
        Assert.Contains($"'dup-{kind}'", thrown.Message);
        Assert.Contains("locks[0]", thrown.Message);
        Assert.Contains("locks[2]", thrown.Message);
        Assert.True(dup.IsFree());
        Assert.False(other.IsHeld);
    }

    [Theory]
    [InlineData("async-exclusive")]
    [InlineData("semaphore")]
    public async Task AsyncLockSet_ListingOneLockTwice_IsAnArgumentException_NamingTheLockBothPlacesAndTheFlow(string kind)
    {
        var dup = MakeAsync(kind, $"async-dup-{kind}");
        var other = new AsyncExclusiveLock($"async-dup-other-{kind}");

        var (thrown, thread) = await Task.Run(async () =>
        {
            var on = Me;
            var ex = await Assert.ThrowsAsync<ArgumentException>(async () => { using var s = await LockSet.AcquireAsync([dup.Lock, other, dup.Lock]); });
            return (ex, on);
        }).WaitAsync(Guard.HangLimit);

        Assert.Equal("locks", thrown.ParamName);
        Assert.Contains($"'async-dup-{kind}'", thrown.Message);
        Assert.Contains("locks[0]", thrown.Message);
        Assert.Contains("locks[2]", thrown.Message);
        Assert.Contains($"flow (on thread {thread})", thrown.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(dup.IsFree());
        Assert.False(other.IsHeld);
    }

    // ---- LockSet: one object given twice where it may be one at run time; one permit per set ----

    [Theory]
    [InlineData("exclusive")]
    [InlineData("semaphore")]
    public void TwoLockForm_AndLocksOfForms_TakeALockOnce_WhenItIsGivenTwice(string kind)
    {
        var account = Make(kind, $"self-{kind}");
        var other = new ExclusiveLock($"self-other-{kind}");

        using (var self = LockSet.Acquire(account.Lock, account.Lock))
        {
            Assert.Equal(1, self.Count);
            AssertTakenOnce(account.Lock);
        }

        Assert.True(account.IsFree());

        using (var of = LockSet.AcquireLocksOf(account.Lock, other, account.Lock))
        {
            Assert.Equal(2, of.Count);
            AssertTakenOnce(account.Lock);
        }

        Assert.True(account.IsFree());

        Assert.True(LockSet.TryAcquireLocksOf(s_short, out var tried, account.Lock, other, account.Lock));
        using (tried)
        {
            Assert.Equal(2, tried.Count);
            AssertTakenOnce(account.Lock);
        }

        Assert.True(account.IsFree());
        Assert.False(other.IsHeld);
    }

    private static void AssertTakenOnce(ILockSetMember member)
    {
        switch (member)
        {
            case ExclusiveLock l:
                Assert.True(l.IsHeldByCurrentThread);
                break;
            case CountingSemaphore l:
                Assert.Equal(1, l.CurrentCount);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(member));
        }
    }

    [Theory]
    [InlineData("async-exclusive")]
    [InlineData("semaphore")]
    public async Task AsyncTwoLockForm_AndLocksOfForms_TakeALockOnce_WhenItIsGivenTwice(string kind)
    {
        var account = MakeAsync(kind, $"async-self-{kind}");
        var other = new AsyncExclusiveLock($"async-self-other-{kind}");
        var permitsWhileHeld = new List<int>();

        await Task.Run(async () =>
        {
            async Task Check(ValueTask<AsyncLockSetScope> acquisition, int expectedCount)
            {
                using var scope = await acquisition;
                Assert.Equal(expectedCount, scope.Count);
                Assert.False(account.IsFree());
                Assert.Equal(kind != "semaphore", account.IsHeldByCurrentFlow());
                if (account.Lock is CountingSemaphore semaphore)
                {
                    permitsWhileHeld.Add(semaphore.CurrentCount);
                }
            }

            await Check(LockSet.AcquireAsync(account.Lock, account.Lock), 1);
            await Check(LockSet.AcquireLocksOfAsync([account.Lock, other, account.Lock]), 2);
            await Check(LockSet.AcquireLocksOfAsync(Guard.HangLimit, [account.Lock, other, account.Lock]), 2);
            await Check(LockSet.TryAcquireLocksOfAsync(s_short, [account.Lock, account.Lock]), 1);
        }).WaitAsync(Guard.HangLimit);

        Assert.Equal(kind == "semaphore" ? new[] { 1, 1, 1, 1 } : Array.Empty<int>(), permitsWhileHeld);
        Assert.True(account.IsFree());
        Assert.False(other.IsHeld);
    }

    [Fact]
    public async Task ASet_TakesOnePermitOfASemaphore_SyncAndAsync()
    {
        var pool = new CountingSemaphore(3, 3, "permit-pool");
        var ledger = new ExclusiveLock("permit-ledger");
        var asyncLedger = new AsyncExclusiveLock("permit-async-ledger");

        using (var set = LockSet.Acquire(pool, ledger))
        {
            Assert.Equal(2, set.Count);
            Assert.Equal(2, pool.CurrentCount);
        }

        Assert.Equal(3, pool.CurrentCount);

        var during = await Task.Run(async () =>
        {
            await using var set = await LockSet.AcquireAsync([pool, asyncLedger]);
            return (set.Count, pool.CurrentCount);
        }).WaitAsync(Guard.HangLimit);

        Assert.Equal((2, 2), during);
        Assert.Equal(3, pool.CurrentCount);
        Assert.False(ledger.IsHeld || asyncLedger.IsHeld);
    }

    [Fact]
    public void AcquireMany_TwoKeysOnOneStripe_TakesTheStripeOnce()
    {
        var accounts = new StripedLock<int>(1, "one-stripe");
        Assert.Equal(accounts.StripeOf(1), accounts.StripeOf(2));

        using (var set = accounts.AcquireMany(1, 2))
        {
            Assert.Equal(1, set.Count);
            Assert.True(accounts.IsHeldByCurrentThread(1) && accounts.IsHeldByCurrentThread(2));
        }

        Assert.False(accounts.IsHeldByCurrentThread(1));
    }

    // ---- Async LockSet ----

    [Theory]
    [InlineData(null, null)]
    [InlineData(10, 20)]
    public async Task AsyncLockSet_TransfersInOppositeDirections_NeverDeadlock_NorViolateTheOrder(int? levelA, int? levelB)
    {
        using var policy = PolicyScope.Capture();
        const int Iterations = 200;
        var a = new AsyncExclusiveLock("async-transfer-a", levelA);
        var b = new AsyncExclusiveLock("async-transfer-b", levelB);
        var balances = new[] { 1_000, 1_000 };
        using var bothStarted = new Barrier(2);

        Task Transfer(int from, int to)
        {
            using (ExecutionContext.SuppressFlow())
            {
                return Task.Run(async () =>
                {
                    Assert.True(bothStarted.SignalAndWait(Guard.HangLimit));
                    for (var i = 0; i < Iterations; i++)
                    {
                        await using var set = from == 0 ? await LockSet.AcquireAsync(a, b) : await LockSet.AcquireAsync(b, a);
                        Assert.Equal(2, set.Count);
                        balances[from] -= 1;
                        await Task.Yield(); // held across an await
                        balances[to] += 1;
                    }
                });
            }
        }

        await Task.WhenAll(Transfer(0, 1), Transfer(1, 0)).WaitAsync(Guard.HangLimit);

        Assert.Equal(new[] { 1_000, 1_000 }, balances);
        Assert.False(a.IsHeld || b.IsHeld);
        Assert.Equal((0, 0), (a.WaitingCount, b.WaitingCount));
    }

    [Theory]
    [InlineData("async-exclusive")]
    [InlineData("async-rw")]
    [InlineData("semaphore")]
    public async Task AsyncLockSet_WithATimeout_ThrowsLockTimeoutException_HoldingNothing(string kind)
    {
        var first = MakeAsync(kind, $"async-timeout-first-{kind}", level: 1); // taken first, so it must be given back
        var busy = new AsyncExclusiveLock($"async-timeout-busy-{kind}", level: 2);
        await using (var holder = await OtherFlow.Hold(() => busy.AcquireAsync()))
        {
            var holderFlow = busy.HolderFlowId;
            await Task.Run(async () =>
            {
                await Assert.ThrowsAsync<LockTimeoutException>(async () => { using var s = await LockSet.AcquireAsync(s_short, [first.Lock, busy]); });
                Assert.True(first.IsFree());
                Assert.False(first.IsHeldByCurrentFlow());

                var none = await LockSet.TryAcquireAsync(s_short, [first.Lock, busy]);
                Assert.False(none.IsAcquired);
                Assert.Equal(0, none.Count);
                Assert.True(first.IsFree());
                Assert.False(first.IsHeldByCurrentFlow() || busy.IsHeldByCurrentFlow);
            }).WaitAsync(Guard.HangLimit);

            Assert.Equal(holderFlow, busy.HolderFlowId);
            Assert.Equal(0, busy.WaitingCount);
        }

        var count = await Task.Run(async () =>
        {
            using var set = await LockSet.AcquireAsync(s_short, [first.Lock, busy]);
            return set.Count;
        }).WaitAsync(Guard.HangLimit);

        Assert.Equal(2, count);
        Assert.True(first.IsFree());
        Assert.False(busy.IsHeld);
    }

    [Fact]
    public async Task AsyncLockSet_Cancelled_WhileWaiting_ReleasesWhatItTook()
    {
        var pool = new CountingSemaphore(3, 3, "async-cancel-pool", level: 1);
        var busy = new AsyncExclusiveLock("async-cancel-busy", level: 2);
        await using var holder = await OtherFlow.Hold(() => busy.AcquireAsync());
        var holderFlow = busy.HolderFlowId;
        using var cts = new CancellationTokenSource();

        var attempt = Task.Run(async () =>
        {
            var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { using var s = await LockSet.AcquireAsync([pool, busy], cts.Token); });
            Assert.False(busy.IsHeldByCurrentFlow);
            return ex;
        });
        Guard.SpinUntil(() => busy.WaitingCount == 1 || attempt.IsCompleted);
        cts.Cancel();
        var thrown = await attempt.WaitAsync(Guard.HangLimit);

        Assert.Equal(cts.Token, thrown.CancellationToken);
        Assert.Equal(3, pool.CurrentCount);
        Assert.Equal(0, pool.WaitingCount);
        Assert.Equal(holderFlow, busy.HolderFlowId);
        Assert.Equal(0, busy.WaitingCount);
    }

    [Fact]
    public async Task AsyncLockSet_AnOrderViolation_ReleasesWhatTheSetTook()
    {
        using var policy = PolicyScope.Capture();
        var held = new AsyncExclusiveLock("async-violation-held", level: 15);
        var plain = new AsyncExclusiveLock("async-violation-plain"); // unordered: not checked, may be taken first
        var low = new AsyncExclusiveLock("async-violation-low", level: 10);

        var (violation, flowId) = await Task.Run(async () =>
        {
            using var h = await held.AcquireAsync();
            var thrown = await Assert.ThrowsAsync<LockOrderViolationException>(async () => { using var s = await LockSet.AcquireAsync([plain, low]); });
            Assert.False(plain.IsHeld || low.IsHeld);
            Assert.True(held.IsHeldByCurrentFlow);
            return (thrown.Violation, held.HolderFlowId);
        }).WaitAsync(Guard.HangLimit);

        Assert.Equal(("async-violation-held", 15, "async-violation-low", 10, flowId), (violation.HeldLockName, violation.HeldLevel, violation.RequestedLockName, violation.RequestedLevel, violation.ThreadId));
        Assert.StartsWith($"Lock order violation in flow #{flowId - FlowIdBase}", violation.Message);
        Assert.False(held.IsHeld || plain.IsHeld || low.IsHeld);
    }
}
