using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// Issue 13's promises at edges the other async tests do not reach: try-once and default timeouts on every async
/// primitive, cancellation racing a hand-off on each, no inline continuation under a release of a read-write lock or a
/// semaphore, the order checked before a try-once and against a thread's sync holds, Report mode, two keys on one stripe,
/// 10,000 flows through the async LockSet, and the metrics of async holds.
/// </summary>
public sealed class ReviewIssue13EdgeCaseTests
{
    // TryAcquireAsync(TimeSpan.Zero) / AcquireAsync(TimeSpan.Zero) on a held lock, each primitive.

    public static TheoryData<string> Primitives() =>
        ["exclusive", "rw-write", "rw-read-behind-writer", "semaphore", "striped", "set"];

    [Theory]
    [MemberData(nameof(Primitives))]
    public async Task ATryOnceOnAHeldAsyncLock_CompletesAtOnceEmpty_QueuesNothing_AndTheThrowingFormNamesTheLock(string primitive)
    {
        var gate = new AsyncExclusiveLock("probe-try-gate");
        var rw = new AsyncReadWriteLock("probe-try-rw");
        var semaphore = new CountingSemaphore(1, 1, "probe-try-semaphore");
        var striped = new AsyncStripedLock<int>(4, "probe-try-striped");
        var free = new AsyncExclusiveLock("probe-try-free");

        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task holder;
        using (ExecutionContext.SuppressFlow())
        {
            holder = Task.Run(async () =>
            {
                using var scope = primitive switch
                {
                    "exclusive" or "set" => await gate.AcquireAsync(),
                    "rw-write" or "rw-read-behind-writer" => await rw.AcquireWriteAsync(),
                    "semaphore" => await semaphore.AcquireAsync(),
                    _ => await striped.AcquireAsync(7),
                };
                held.SetResult();
                await release.Task;
            });
        }

        await held.Task.WaitAsync(Guard.HangLimit);

        bool acquired;
        string expectedName;
        ValueTask<AsyncLockScope> attempt = primitive switch
        {
            "exclusive" => gate.TryAcquireAsync(TimeSpan.Zero),
            "rw-write" => rw.TryAcquireWriteAsync(TimeSpan.Zero),
            "rw-read-behind-writer" => rw.TryAcquireReadAsync(TimeSpan.Zero),
            "semaphore" => semaphore.TryAcquireAsync(TimeSpan.Zero),
            "striped" => striped.TryAcquireAsync(7, TimeSpan.Zero),
            _ => default,
        };
        if (primitive == "set")
        {
            var setAttempt = LockSet.TryAcquireAsync(TimeSpan.Zero, [free, gate]);
            var setScope = await setAttempt;
            acquired = setScope.IsAcquired;
            setScope.Dispose();
            expectedName = "'probe-try-gate'";
            Assert.False(free.IsHeld);
        }
        else
        {
            Assert.True(attempt.IsCompleted);
            var scope = await attempt;
            acquired = scope.IsAcquired;
            scope.Dispose();
            expectedName = primitive switch
            {
                "exclusive" => "'probe-try-gate'",
                "semaphore" => "'probe-try-semaphore'",
                "striped" => "'probe-try-striped[",
                _ => "'probe-try-rw'",
            };
        }

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
        {
            using var scope = primitive switch
            {
                "exclusive" => await gate.AcquireAsync(TimeSpan.Zero),
                "rw-write" => await rw.AcquireWriteAsync(TimeSpan.Zero),
                "rw-read-behind-writer" => await rw.AcquireReadAsync(TimeSpan.Zero),
                "semaphore" => await semaphore.AcquireAsync(TimeSpan.Zero),
                "striped" => await striped.AcquireAsync(7, TimeSpan.Zero),
                _ => default,
            };
            if (primitive == "set")
            {
                using var set = await LockSet.AcquireAsync(TimeSpan.Zero, [free, gate]);
            }
        });

        Assert.False(acquired);
        Assert.Contains(expectedName, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, gate.WaitingCount);
        Assert.Equal(0, rw.WaitingCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
        Assert.False(free.IsHeld);

        release.SetResult();
        await holder.WaitAsync(Guard.HangLimit);
        Assert.False(gate.IsHeld);
        Assert.False(rw.IsWriteHeld);
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.False(striped.StripeAt(striped.StripeOf(7)).IsHeld);
    }

    // No continuation runs on the releasing stack of a read-write lock (readers let in together, writers one after
    // another) or a semaphore (permits handed from one scope's release to the next waiter).

    [ThreadStatic]
    private static bool s_releasing;

    public static TheoryData<string> Releasers() => ["rw-readers", "rw-writer", "semaphore"];

    [Theory]
    [MemberData(nameof(Releasers))]
    public async Task NoWaitersContinuation_RunsInsideTheRelease_OfAReadWriteLockOrASemaphore(string kind)
    {
        const int Waiters = 2_000;
        var rw = new AsyncReadWriteLock("probe-inline-rw");
        var semaphore = new CountingSemaphore(0, 1, "probe-inline-semaphore");
        int inline = 0;

        AsyncLockScope holderScope = kind switch
        {
            "rw-readers" or "rw-writer" => await rw.AcquireWriteAsync(),
            _ => default,
        };

        var waiters = new List<Task>(Waiters);
        using (ExecutionContext.SuppressFlow())
        {
            for (int i = 0; i < Waiters; i++)
            {
                waiters.Add(Task.Run(async () =>
                {
                    var scope = kind switch
                    {
                        "rw-readers" => await rw.AcquireReadAsync(),
                        "rw-writer" => await rw.AcquireWriteAsync(),
                        _ => await semaphore.AcquireAsync(),
                    };
                    if (s_releasing)
                    {
                        Interlocked.Increment(ref inline);
                    }

                    // Released on a thread of this flow; a release that ran the next continuation inline shows up there.
                    s_releasing = true;
                    try
                    {
                        scope.Dispose();
                    }
                    finally
                    {
                        s_releasing = false;
                    }
                }));
            }
        }

        Guard.SpinUntil(() => kind == "semaphore" ? semaphore.QueuedAsyncWaiterCount == Waiters : rw.WaitingCount == Waiters);

        s_releasing = true;
        try
        {
            if (kind == "semaphore")
            {
                semaphore.Release();
            }
            else
            {
                holderScope.Dispose();
            }
        }
        finally
        {
            s_releasing = false;
        }

        await Task.WhenAll(waiters).WaitAsync(Guard.HangLimit);
        Assert.Equal(0, inline);
        Assert.False(rw.IsWriteHeld);
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.Equal(kind == "semaphore" ? 1 : 0, semaphore.CurrentCount);
    }

    // Cancellation racing a hand-off, per primitive: every attempt is granted or cancelled, nothing is lost.

    public static TheoryData<string> Racers() => ["rw-write", "rw-read", "semaphore", "striped", "set"];

    [Theory]
    [MemberData(nameof(Racers))]
    public async Task CancellationRacingTheHandOff_NeverLosesAHoldOrAPermit(string kind)
    {
        const int Rounds = 1_000;
        var rw = new AsyncReadWriteLock("probe-race-rw");
        var semaphore = new CountingSemaphore(1, 1, "probe-race-semaphore");
        var striped = new AsyncStripedLock<int>(2, "probe-race-striped");
        var a = new AsyncExclusiveLock("probe-race-a");
        var b = new AsyncExclusiveLock("probe-race-b");
        int granted = 0, cancelled = 0, followed = 0;

        async Task<AsyncLockScope> Take(CancellationToken token) => kind switch
        {
            "rw-write" => await rw.AcquireWriteAsync(token),
            "rw-read" => await rw.AcquireReadAsync(token),
            "semaphore" => await semaphore.AcquireAsync(token),
            "striped" => await striped.AcquireAsync(3, token),
            _ => default,
        };

        for (int round = 0; round < Rounds; round++)
        {
            var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var cancel = new CancellationTokenSource();
            Task holder, racer, follower;
            using (ExecutionContext.SuppressFlow())
            {
                holder = Task.Run(async () =>
                {
                    if (kind == "set")
                    {
                        using var held = await b.AcquireAsync();
                        holding.SetResult();
                        await letGo.Task;
                    }
                    else
                    {
                        using var held = kind == "rw-read" ? await rw.AcquireWriteAsync() : await Take(default);
                        holding.SetResult();
                        await letGo.Task;
                    }
                });
            }

            await holding.Task.WaitAsync(Guard.HangLimit);
            using (ExecutionContext.SuppressFlow())
            {
                racer = Task.Run(async () =>
                {
                    try
                    {
                        if (kind == "set")
                        {
                            using var set = await LockSet.AcquireAsync(a, b, cancel.Token);
                        }
                        else
                        {
                            using var scope = await Take(cancel.Token);
                        }

                        Interlocked.Increment(ref granted);
                    }
                    catch (OperationCanceledException)
                    {
                        Interlocked.Increment(ref cancelled);
                    }
                });
                follower = Task.Run(async () =>
                {
                    if (kind == "set")
                    {
                        using var set = await LockSet.AcquireAsync(b, a);
                    }
                    else
                    {
                        using var scope = kind == "rw-read" ? await rw.AcquireWriteAsync() : await Take(default);
                    }

                    Interlocked.Increment(ref followed);
                });
            }

            var cancelling = Task.Run(cancel.Cancel);
            letGo.SetResult();
            await Task.WhenAll(holder, racer, follower, cancelling).WaitAsync(Guard.HangLimit);
        }

        Assert.Equal(Rounds, granted + cancelled);
        Assert.Equal(Rounds, followed);
        Assert.False(rw.IsWriteHeld);
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.Equal(0, rw.WaitingCount);
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.False(striped.StripeAt(striped.StripeOf(3)).IsHeld);
        Assert.Equal(0, striped.StripeAt(striped.StripeOf(3)).WaitingCount);
        Assert.False(a.IsHeld);
        Assert.False(b.IsHeld);
        Assert.Equal(0, a.WaitingCount + b.WaitingCount);
    }

    // An async striped lock, two keys on one stripe.

    [Fact]
    public async Task TwoKeysOnOneStripe_AreOneLock_ForTheFlowAndForOthers()
    {
        var striped = new AsyncStripedLock<int>(2, "probe-shared-stripe");
        int first = 0;
        int second = Enumerable.Range(1, 1_000).First(k => striped.StripeOf(k) == striped.StripeOf(first));

        using (var many = await striped.AcquireManyAsync([first, second]))
        {
            Assert.Equal(1, many.Count);
            Assert.True(striped.IsHeldByCurrentFlow(second));
            var recursion = Assert.Throws<LockRecursionException>(() => { _ = striped.AcquireAsync(second); });
            Assert.Contains("'probe-shared-stripe[", recursion.Message, StringComparison.Ordinal);
            Assert.Contains("AcquireManyAsync", recursion.Message, StringComparison.Ordinal);

            Task<bool> otherGotIt;
            using (ExecutionContext.SuppressFlow())
            {
                otherGotIt = Task.Run(async () =>
                {
                    using var other = await striped.TryAcquireAsync(second, TimeSpan.Zero);
                    return other.IsAcquired;
                });
            }

            Assert.False(await otherGotIt);
        }

        Assert.False(striped.IsHeldByCurrentFlow(first));
        Assert.False(striped.StripeAt(striped.StripeOf(first)).IsHeld);
        using var again = await striped.TryAcquireAsync(second, TimeSpan.Zero);
        Assert.True(again.IsAcquired);
    }

    // An async LockSet is checked against the thread's sync holds, before anything is taken.

    [Fact]
    public async Task AnAsyncSet_BelowASyncLockTheThreadHolds_ThrowsBeforeTakingAnything()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var sync = new ExclusiveLock("probe-set-sync", level: 20);
        var low = new AsyncExclusiveLock("probe-set-low", level: 10);
        var high = new AsyncExclusiveLock("probe-set-high", level: 30);

        using (sync.Acquire())
        {
            var error = Assert.ThrowsAny<Exception>(() => { _ = LockSet.AcquireAsync(low, high); });
            Assert.IsType<LockOrderViolationException>(error);
        }

        Assert.False(low.IsHeld);
        Assert.False(high.IsHeld);
        using var set = await LockSet.AcquireAsync(low, high);
        Assert.True(low.IsHeldByCurrentFlow);
        Assert.True(high.IsHeldByCurrentFlow);
    }

    // The default timeout of the policy applies to every untimed async acquisition.

    [Theory]
    [MemberData(nameof(Primitives))]
    public async Task ThePolicysDefaultTimeout_EndsAnUntimedAsyncWait_NamingTheLock(string primitive)
    {
        using var policy = PolicyScope.DefaultTimeout(TimeSpan.FromMilliseconds(30));
        var gate = new AsyncExclusiveLock("probe-default-gate");
        var rw = new AsyncReadWriteLock("probe-default-rw");
        var semaphore = new CountingSemaphore(1, 1, "probe-default-semaphore");
        var striped = new AsyncStripedLock<int>(4, "probe-default-striped");
        var free = new AsyncExclusiveLock("probe-default-free");

        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task holder;
        using (ExecutionContext.SuppressFlow())
        {
            holder = Task.Run(async () =>
            {
                using var scope = primitive switch
                {
                    "exclusive" or "set" => await gate.AcquireAsync(Timeout.InfiniteTimeSpan),
                    "rw-write" or "rw-read-behind-writer" => await rw.AcquireWriteAsync(Timeout.InfiniteTimeSpan),
                    "semaphore" => await semaphore.AcquireAsync(Timeout.InfiniteTimeSpan),
                    _ => await striped.AcquireAsync(7, Timeout.InfiniteTimeSpan),
                };
                held.SetResult();
                await release.Task;
            });
        }

        await held.Task.WaitAsync(Guard.HangLimit);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
        {
            if (primitive == "set")
            {
                using var set = await LockSet.AcquireAsync(free, gate);
                return;
            }

            using var scope = primitive switch
            {
                "exclusive" => await gate.AcquireAsync(),
                "rw-write" => await rw.AcquireWriteAsync(),
                "rw-read-behind-writer" => await rw.AcquireReadAsync(),
                "semaphore" => await semaphore.AcquireAsync(),
                _ => await striped.AcquireAsync(7),
            };
        }).WaitAsync(Guard.HangLimit);

        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.Contains("'probe-default-", error.Message, StringComparison.Ordinal);
        Assert.False(free.IsHeld);
        release.SetResult();
        await holder.WaitAsync(Guard.HangLimit);
        Assert.Equal(0, gate.WaitingCount + rw.WaitingCount);
    }

    // The order is checked before a try-once, so the violation is reported even where the lock is free.

    [Fact]
    public async Task ATryOnceAgainstTheOrder_AfterAnAwait_ThrowsEvenThoughTheLockIsFree()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var high = new AsyncExclusiveLock("probe-order-high", level: 20);
        var low = new AsyncReadWriteLock("probe-order-low", level: 20);
        var semaphore = new CountingSemaphore(1, 1, "probe-order-sem", level: 5);

        using (await high.AcquireAsync())
        {
            await Task.Yield();
            await Assert.ThrowsAsync<LockOrderViolationException>(async () => { using var s = await low.TryAcquireReadAsync(TimeSpan.Zero); });
            await Assert.ThrowsAsync<LockOrderViolationException>(async () => { using var s = await semaphore.TryAcquireAsync(TimeSpan.Zero); });
            Assert.Equal(0, low.CurrentReaderCount);
            Assert.Equal(1, semaphore.CurrentCount);
        }

        using var fine = await low.TryAcquireWriteAsync(TimeSpan.Zero);
        Assert.True(fine.IsAcquired);
    }

    // A read waiter that times out behind a writer is told the writing flow (its id and activity) and leaves the queue.

    [Fact]
    public async Task AReadWaiterTimingOutBehindAWriter_IsToldTheWritingFlowAndItsActivity()
    {
        var rw = new AsyncReadWriteLock("probe-read-timeout");
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task holder;
        using (ExecutionContext.SuppressFlow())
        {
            holder = Task.Run(async () =>
            {
                using var activity = new System.Diagnostics.Activity("probe-writer").Start();
                using var scope = await rw.AcquireWriteAsync();
                held.SetResult();
                await release.Task;
            });
        }

        await held.Task.WaitAsync(Guard.HangLimit);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => { using var s = await rw.AcquireReadAsync(TimeSpan.FromMilliseconds(20)); });

        Assert.Contains("'probe-read-timeout'", error.Message, StringComparison.Ordinal);
        Assert.Contains("read", error.Message, StringComparison.Ordinal);
        Assert.Contains("held by flow #", error.Message, StringComparison.Ordinal);
        Assert.Contains("probe-writer", error.Message, StringComparison.Ordinal);
        Assert.Equal(rw.WriterFlowId, error.OwnerThreadId);
        Assert.Equal(0, rw.WaitingCount);
        release.SetResult();
        await holder.WaitAsync(Guard.HangLimit);
    }

    // Two stripes of one ordered async striped lock, taken one after the other, break the order.

    [Fact]
    public async Task TwoStripesOfAnOrderedStripedLock_TakenOneByOne_AreAnOrderViolation_AndAcquireManyIsNot()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var striped = new AsyncStripedLock<int>(8, "probe-ordered-stripes", level: 10);
        int a = 0;
        int b = Enumerable.Range(1, 1_000).First(k => striped.StripeOf(k) != striped.StripeOf(a));

        using (await striped.AcquireAsync(a))
        {
            var error = await Assert.ThrowsAsync<LockOrderViolationException>(async () => { using var s = await striped.AcquireAsync(b); });
            Assert.Contains("'probe-ordered-stripes[", error.Message, StringComparison.Ordinal);
            Assert.False(striped.StripeAt(striped.StripeOf(b)).IsHeld);
        }

        using var both = await striped.AcquireManyAsync([b, a]);
        Assert.Equal(2, both.Count);
    }

    // A writer-preferring lock's try-once read does not barge past a queued writer.

    [Fact]
    public async Task ATryOnceRead_WhileAWriterWaitsBehindReaders_FailsUnderWriterPreferred()
    {
        var rw = new AsyncReadWriteLock("probe-try-read", policy: ReadWritePolicy.WriterPreferred);
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopReading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader, writer;
        using (ExecutionContext.SuppressFlow())
        {
            reader = Task.Run(async () =>
            {
                using var scope = await rw.AcquireReadAsync();
                reading.SetResult();
                await stopReading.Task;
            });
        }

        await reading.Task.WaitAsync(Guard.HangLimit);
        using (ExecutionContext.SuppressFlow())
        {
            writer = Task.Run(async () => { using var scope = await rw.AcquireWriteAsync(); });
        }

        Guard.SpinUntil(() => rw.WaitingCount == 1);
        Task<bool> lateReader;
        using (ExecutionContext.SuppressFlow())
        {
            lateReader = Task.Run(async () =>
            {
                using var scope = await rw.TryAcquireReadAsync(TimeSpan.Zero);
                return scope.IsAcquired;
            });
        }

        Assert.False(await lateReader.WaitAsync(Guard.HangLimit));
        stopReading.SetResult();
        await Task.WhenAll(reader, writer).WaitAsync(Guard.HangLimit);
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.False(rw.IsWriteHeld);
    }

    // 10,000 concurrent flows through the async LockSet: exact.

    [Fact]
    public async Task TenThousandFlows_ThroughTheAsyncLockSet_InOppositeOrders_CountExactly()
    {
        const int Flows = 10_000;
        var a = new AsyncExclusiveLock("probe-set-10k-a");
        var rw = new AsyncReadWriteLock("probe-set-10k-rw");
        var permit = new CountingSemaphore(1, 1, "probe-set-10k-permit");
        IAsyncLockSetMember[] members = [a, rw, permit];
        long first = 0, second = 0;

        var flows = Enumerable.Range(0, Flows).Select(i => Task.Run(async () =>
        {
            var x = members[i % 3];
            var y = members[(i + 1 + (i / 3 % 2)) % 3];
            using var scope = await LockSet.AcquireAsync(x, y);
            long seenFirst = first;
            await Task.Yield();
            first = seenFirst + 1;
            long seenSecond = second;
            second = seenSecond + 1;
        }));

        await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);

        Assert.Equal(Flows, first);
        Assert.Equal(Flows, second);
        Assert.False(a.IsHeld);
        Assert.False(rw.IsWriteHeld);
        Assert.Equal(1, permit.CurrentCount);
        Assert.Equal(0, a.WaitingCount + rw.WaitingCount);
    }

    // OrderViolationAction.Report for async locks: reported once, acquired anyway, the flow's order stays exact.

    [Fact]
    public async Task ReportMode_ReportsEachAsyncViolation_AcquiresAnyway_AndLeavesTheFlowsOrderExact()
    {
        var reports = new List<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Report, v => { lock (reports) { reports.Add(v); } });
        var high = new AsyncExclusiveLock("probe-report-high", level: 20);
        var low = new AsyncReadWriteLock("probe-report-low", level: 10);
        var semaphore = new CountingSemaphore(1, 1, "probe-report-sem", level: 5);
        var middle = new AsyncExclusiveLock("probe-report-middle", level: 15);

        var highScope = await high.AcquireAsync();
        await Task.Yield();
        var lowScope = await low.AcquireWriteAsync();
        var semScope = await semaphore.AcquireAsync();
        Assert.True(low.IsWriteHeldByCurrentFlow);
        Assert.Equal(0, semaphore.CurrentCount);

        // The high hold goes first: the flow's highest level is the low lock's again, so a lock between the two is in order.
        highScope.Dispose();
        await Task.Yield();
        var middleScope = await middle.AcquireAsync();
        lowScope.Dispose();
        semScope.Dispose();
        middleScope.Dispose();

        // Once all is released, the order starts over: nothing more is reported.
        using (await low.AcquireReadAsync())
        using (await middle.AcquireAsync())
        {
        }

        // The held lock named is the one with the highest level.
        Assert.Equal(
            ["probe-report-low<probe-report-high", "probe-report-sem<probe-report-high"],
            reports.Select(r => r.RequestedLockName + "<" + r.HeldLockName).ToArray());
        Assert.All(reports, r => Assert.True(r.ThreadId >= (1 << 30)));
        Assert.False(high.IsHeld || low.IsWriteHeld || middle.IsHeld);
        Assert.Equal(1, semaphore.CurrentCount);
    }

    // Hold durations and order violations of async locks are measured, tagged with the async kind.

    [Fact]
    public async Task AsyncHolds_AndAsyncOrderViolations_AreMeasured_WithTheAsyncKindAndMode()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string Instrument, string? Name, string? Kind, string? Mode)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LocksmithMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };

        void Note(string instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
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

            if (name is not null && name.StartsWith("probe-metric-", StringComparison.Ordinal))
            {
                seen.Enqueue((instrument, name, kind, mode));
            }
        }

        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Note(instrument.Name, tags));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Note(instrument.Name, tags));
        listener.Start();

        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Report);
        var high = new AsyncExclusiveLock("probe-metric-high", level: 20);
        var rw = new AsyncReadWriteLock("probe-metric-rw", level: 10);
        var striped = new AsyncStripedLock<int>(4, "probe-metric-striped");

        using (await high.AcquireAsync())
        {
            await Task.Yield();
            using (await rw.AcquireWriteAsync())
            {
            }
        }

        using (await rw.AcquireReadAsync())
        {
        }

        using (await striped.AcquireAsync(1))
        {
        }

        var holds = seen.Where(m => m.Instrument == "locksmith.lock.hold.duration").ToArray();
        Assert.Contains(holds, m => m.Name == "probe-metric-high" && m.Kind == "async_exclusive");
        Assert.Contains(holds, m => m.Name == "probe-metric-rw" && m.Kind == "async_read_write" && m.Mode == "write");
        Assert.Single(seen, m => m.Instrument == "locksmith.lock.order_violations" && m.Name == "probe-metric-rw" && m.Kind == "async_read_write");
        var stripedKinds = seen.Where(m => m.Instrument == "locksmith.lock.acquisitions" && m.Name!.StartsWith("probe-metric-striped", StringComparison.Ordinal))
            .Select(m => m.Name + "/" + m.Kind).Distinct().ToArray();
        Assert.True(stripedKinds.Length == 1 && stripedKinds[0].EndsWith("/async_striped", StringComparison.Ordinal), string.Join(", ", stripedKinds));
    }
}
