using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests;

/// <summary>
/// A new user's scenarios for README's "Async locks" promise that an async lock is owned by the flow, not the thread:
/// what IsHeldByCurrentFlow answers in the acquiring method and in what it awaits, calls or starts, in helpers, in
/// iterators and in unrelated flows, and that re-entry, release, LockSet, striped and read-write holds and the global
/// order follow the flow. The primitives' acquire/timeout/cancel basics are in NewUserAsyncPrimitivesTests.
/// </summary>
public sealed class NewUserFlowOwnershipTests
{
    private const int FlowIdBase = 1 << 30;

    // Long enough to be a real wait, short enough that a "waits instead of throwing" scenario ends quickly.
    private static readonly TimeSpan s_short = TimeSpan.FromMilliseconds(50);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static int FlowNumber(AsyncExclusiveLock gate) => gate.HolderFlowId - FlowIdBase;

    /// <summary>Runs <paramref name="body"/> as a flow of its own: started under SuppressFlow, it shares nothing with the caller.</summary>
    private static Task<T> InAnUnrelatedFlow<T>(Func<Task<T>> body)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(body);
        }
    }

    private static Task InAnUnrelatedFlow(Func<Task> body)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(body);
        }
    }

    private static async Task<LockRecursionException> AssertReentryThrows(Func<ValueTask<AsyncLockScope>> again, string lockName, int flowNumber)
    {
        var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await again());
        Assert.StartsWith($"Flow #{flowNumber} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("(on thread ", error.Message, StringComparison.Ordinal);
        Assert.Contains("tried to acquire", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{lockName}'", error.Message, StringComparison.Ordinal);
        return error;
    }

    /// <summary>An unrelated flow's try-once: false while anyone else holds it.</summary>
    private static Task<bool> UnrelatedFlowGets(AsyncExclusiveLock gate) => InAnUnrelatedFlow(async () =>
    {
        using var attempt = await gate.TryAcquireAsync(TimeSpan.Zero);
        return attempt.IsAcquired;
    });

    private static void AssertFree(AsyncExclusiveLock gate)
    {
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.HolderFlowId);
        Assert.Equal(0, gate.WaitingCount);
    }

    // Awaits that resume on another pool thread, as a data layer's ConfigureAwait(false) would.
    private static async Task LibraryStyleAwaits()
    {
        await Task.Yield();
        await Task.Run(() => { }).ConfigureAwait(false);
    }

    [Fact]
    public async Task IsHeldByCurrentFlow_IsTrueInTheAcquiringMethodAcrossAwaits_FalseInAnUnrelatedFlow_AndAfterRelease()
    {
        var ledger = new AsyncExclusiveLock("own-ledger");
        Assert.False(ledger.IsHeldByCurrentFlow);
        var scope = await ledger.AcquireAsync();
        int id = ledger.HolderFlowId;
        Assert.True(id > FlowIdBase);
        Assert.True(ledger.IsHeldByCurrentFlow);
        await LibraryStyleAwaits();
        Assert.True(ledger.IsHeldByCurrentFlow);
        Assert.Equal(id, ledger.HolderFlowId);

        Assert.False(await InAnUnrelatedFlow(() => Task.FromResult(ledger.IsHeldByCurrentFlow)).WaitAsync(Guard.HangLimit));
        Assert.False(await UnrelatedFlowGets(ledger).WaitAsync(Guard.HangLimit));

        scope.Dispose();
        Assert.False(ledger.IsHeldByCurrentFlow);
        AssertFree(ledger);
    }

    public enum Start
    {
        AwaitedAsyncMethod,
        CalledMethod,
        TaskRun,
        WhenAllChild,
        ContinueWith,
    }

    public static TheoryData<Start> Starts => new(Enum.GetValues<Start>());

    private static async Task<bool> OwnsAfterAYield(AsyncExclusiveLock gate)
    {
        await Task.Yield();
        return gate.IsHeldByCurrentFlow;
    }

    /// <summary>What the code the flow runs in the given way answers, and whether its re-entry throws as the flow's.</summary>
    private static async Task<bool[]> AskFrom(Start how, AsyncExclusiveLock gate, int flowNumber)
    {
        async Task<bool> Child()
        {
            await Task.Yield();
            bool owns = gate.IsHeldByCurrentFlow;
            await AssertReentryThrows(() => gate.AcquireAsync(Guard.HangLimit), gate.Name!, flowNumber);
            return owns;
        }

        switch (how)
        {
            case Start.AwaitedAsyncMethod:
                return [await Child()];
            case Start.CalledMethod:
                return [gate.IsHeldByCurrentFlow];
            case Start.TaskRun:
                return [await Task.Run(Child)];
            case Start.WhenAllChild:
                return await Task.WhenAll(Task.Run(Child), Task.Run(Child), OwnsAfterAYield(gate));
            case Start.ContinueWith:
                var parent = Task.Run(() => { });
                var continuation = parent.ContinueWith(_ => Child(), TaskScheduler.Default).Unwrap();
                return [await continuation];
            default:
                throw new ArgumentOutOfRangeException(nameof(how));
        }
    }

    [Theory]
    [MemberData(nameof(Starts))]
    public async Task WhatTheFlowAwaitsCallsOrStartsWhileHolding_OwnsTheLock_AndReentryThereThrowsNamingTheFlow(Start how)
    {
        var ledger = new AsyncExclusiveLock($"child-ledger-{how}");
        using (await ledger.AcquireAsync())
        {
            int flow = FlowNumber(ledger);
            bool[] answers = await AskFrom(how, ledger, flow).WaitAsync(Guard.HangLimit);
            Assert.All(answers, Assert.True);
            Assert.Equal(flow + FlowIdBase, ledger.HolderFlowId);
            Assert.Equal(0, ledger.WaitingCount);
        }

        AssertFree(ledger);
    }

    [Fact]
    public async Task Reentry_NamesTheFlowByItsActivity_AndTheFlowsIdIsTwoToThe30PlusItsNumber()
    {
        var orders = new AsyncExclusiveLock("activity-orders");
        using var activity = new Activity("GET /orders").Start();
        using (await orders.AcquireAsync())
        {
            int flow = FlowNumber(orders);
            Assert.InRange(flow, 1, FlowIdBase - 1);
            var error = await AssertReentryThrows(() => orders.AcquireAsync(Guard.HangLimit), "activity-orders", flow);
            Assert.StartsWith($"Flow #{flow} ('GET /orders') (on thread ", error.Message, StringComparison.Ordinal);
            Assert.True(orders.IsHeldByCurrentFlow);
        }

        AssertFree(orders);
    }

    [Fact]
    public async Task ATaskStartedUnderSuppressFlow_IsAFlowOfItsOwn_ThatWaitsForTheLock_AndGetsItOnRelease()
    {
        var ledger = new AsyncExclusiveLock("suppressed-ledger");
        var scope = await ledger.AcquireAsync();
        int parent = ledger.HolderFlowId;
        var got = new TaskCompletionSource<(bool Owns, int Holder)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var letGo = NewSignal();
        var waiter = InAnUnrelatedFlow(async () =>
        {
            Assert.False(ledger.IsHeldByCurrentFlow);
            using (await ledger.AcquireAsync(Guard.HangLimit))
            {
                got.SetResult((ledger.IsHeldByCurrentFlow, ledger.HolderFlowId));
                await letGo.Task;
            }
        });

        Guard.SpinUntil(() => ledger.WaitingCount == 1);
        Assert.False(got.Task.IsCompleted);
        Assert.Equal(parent, ledger.HolderFlowId);
        scope.Dispose();

        var (owns, holder) = await got.Task.WaitAsync(Guard.HangLimit);
        Assert.True(owns);
        Assert.NotEqual(0, holder);
        Assert.False(ledger.IsHeldByCurrentFlow);
        letGo.SetResult();
        await waiter.WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
    }

    [Fact]
    public async Task AnAcquisitionUnderSuppressFlow_InAFrameHoldingNothing_IsNotOwned_AndAskingAgainWaitsForTheTimeout()
    {
        var ledger = new AsyncExclusiveLock("suppress-nothing-ledger");
        await Task.Run(async () =>
        {
            AsyncLockScope scope;
            using (ExecutionContext.SuppressFlow())
            {
                scope = await ledger.AcquireAsync();
            }

            Assert.True(ledger.IsHeld);
            Assert.False(ledger.IsHeldByCurrentFlow);
            await Assert.ThrowsAsync<LockTimeoutException>(async () => await ledger.AcquireAsync(s_short));
            Assert.Equal(0, ledger.WaitingCount);
            scope.Dispose();
        }).WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
    }

    [Fact]
    public async Task AnAcquisitionUnderSuppressFlow_InAFrameHoldingALock_JoinsTheFrame_SameLockThrows_AnotherIsHeld()
    {
        var ledger = new AsyncExclusiveLock("suppress-held-ledger");
        var stock = new AsyncExclusiveLock("suppress-held-stock");
        await Task.Run(async () =>
        {
            using var first = await ledger.AcquireAsync();
            int flow = FlowNumber(ledger);
            using (ExecutionContext.SuppressFlow())
            {
                await AssertReentryThrows(() => ledger.AcquireAsync(Guard.HangLimit), "suppress-held-ledger", flow);
                using var second = await stock.AcquireAsync();
                Assert.True(stock.IsHeldByCurrentFlow);
                Assert.Equal(ledger.HolderFlowId, stock.HolderFlowId);
            }
        }).WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
        AssertFree(stock);
    }

    private static async Task<AsyncLockScope> TakeInAHelperAsync(AsyncExclusiveLock gate)
    {
        await Task.Yield();
        return await gate.AcquireAsync(Guard.HangLimit);
    }

    [Fact]
    public async Task ALockTakenInAHelper_IsTheCallers_WhenTheCallerAlreadyHoldsAnAsyncLock()
    {
        var outer = new AsyncExclusiveLock("helper-outer");
        var inner = new AsyncExclusiveLock("helper-inner");
        await Task.Run(async () =>
        {
            using var held = await outer.AcquireAsync();
            using var scope = await TakeInAHelperAsync(inner);
            Assert.True(inner.IsHeldByCurrentFlow);
            Assert.Equal(outer.HolderFlowId, inner.HolderFlowId);
            await AssertReentryThrows(() => inner.AcquireAsync(Guard.HangLimit), "helper-inner", FlowNumber(outer));
            Assert.False(await UnrelatedFlowGets(inner));
        }).WaitAsync(Guard.HangLimit);
        AssertFree(outer);
        AssertFree(inner);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheGlobalOrder_CountsAHelpersLock_OnlyWhenTheCallerBeganItsFlow(bool begin)
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var ledger = new AsyncExclusiveLock($"helper-order-ledger-{begin}", level: 20);
        var stock = new AsyncExclusiveLock($"helper-order-stock-{begin}", level: 10);
        await Task.Run(async () =>
        {
            AsyncLockFlowScope flow = begin ? AsyncLockFlow.Begin() : default;
            try
            {
                var scope = await TakeInAHelperAsync(ledger);
                Assert.Equal(begin, ledger.IsHeldByCurrentFlow);
                if (begin)
                {
                    var violation = await Assert.ThrowsAsync<LockOrderViolationException>(async () => await stock.AcquireAsync(Guard.HangLimit));
                    Assert.Contains("'helper-order-ledger-True'", violation.Message, StringComparison.Ordinal);
                    Assert.Contains("'helper-order-stock-True'", violation.Message, StringComparison.Ordinal);
                    Assert.False(stock.IsHeld);
                }
                else
                {
                    // The helper's ownership ended with it: the caller holds nothing, so level 10 is in order.
                    using var taken = await stock.AcquireAsync(Guard.HangLimit);
                    Assert.True(stock.IsHeldByCurrentFlow);
                    Assert.NotEqual(ledger.HolderFlowId, stock.HolderFlowId);
                }

                scope.Dispose();
            }
            finally
            {
                if (begin)
                {
                    flow.Dispose();
                }
            }
        }).WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
        AssertFree(stock);
    }

    [Fact]
    public async Task WithoutBegin_AHelpersLock_IsNotTheCallers_AskingAgainWaits_AndTheReturnedScopeStillReleasesIt()
    {
        var cache = new AsyncExclusiveLock("helper-unbegun");
        await Task.Run(async () =>
        {
            var scope = await TakeInAHelperAsync(cache);
            Assert.True(cache.IsHeld);
            Assert.False(cache.IsHeldByCurrentFlow);
            await Assert.ThrowsAsync<LockTimeoutException>(async () => await cache.AcquireAsync(s_short));
            Assert.Equal(0, cache.WaitingCount);
            scope.Dispose();
        }).WaitAsync(Guard.HangLimit);
        AssertFree(cache);
    }

    [Fact]
    public async Task ABeginUnderSuppressFlow_IsNoFlowToJoin_AHelperCalledLaterDoesNotGiveTheCallerItsLock()
    {
        var cache = new AsyncExclusiveLock("begun-suppressed");
        await Task.Run(async () =>
        {
            AsyncLockFlowScope flow;
            using (ExecutionContext.SuppressFlow())
            {
                flow = AsyncLockFlow.Begin();
            }

            try
            {
                var scope = await TakeInAHelperAsync(cache);
                Assert.True(cache.IsHeld);
                Assert.False(cache.IsHeldByCurrentFlow);
                await Assert.ThrowsAsync<LockTimeoutException>(async () => await cache.AcquireAsync(s_short));
                scope.Dispose();
            }
            finally
            {
                flow.Dispose();
            }
        }).WaitAsync(Guard.HangLimit);
        AssertFree(cache);
    }

    [Fact]
    public async Task ABegunFlow_IsSharedByTasksItStarts_SoTwoTasksTakingOneLockAreOneFlowTakingItTwice()
    {
        var cache = new AsyncExclusiveLock("begun-shared");
        var firstHolds = NewSignal();
        var secondAsked = NewSignal();
        await Task.Run(async () =>
        {
            using var flow = AsyncLockFlow.Begin();
            var first = Task.Run(async () =>
            {
                using (await cache.AcquireAsync(Guard.HangLimit))
                {
                    firstHolds.SetResult();
                    await secondAsked.Task;
                }
            });
            var second = Task.Run(async () =>
            {
                await firstHolds.Task;
                try
                {
                    return await Assert.ThrowsAsync<LockRecursionException>(async () => await cache.AcquireAsync(Guard.HangLimit));
                }
                finally
                {
                    secondAsked.SetResult();
                }
            });
            var error = await second.WaitAsync(Guard.HangLimit);
            Assert.StartsWith($"Flow #{flow.FlowId - FlowIdBase} ", error.Message, StringComparison.Ordinal);
            Assert.Contains("'begun-shared'", error.Message, StringComparison.Ordinal);
            await first.WaitAsync(Guard.HangLimit);
        }).WaitAsync(Guard.HangLimit);
        AssertFree(cache);
    }

    /// <summary>
    /// A task started inside a hold waits for a signal, then reports each time whether it owns the lock its parent
    /// frame holds again in a later claim, and whether a try-once gets it.
    /// </summary>
    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 8)]
    public async Task ATaskStartedInsideAHoldThatEnded_DoesNotShareTheFramesLaterClaims(bool underSuppressFlow, int laterClaims)
    {
        var ledger = new AsyncExclusiveLock($"outlived-ledger-{underSuppressFlow}");
        await Task.Run(async () =>
        {
            var asks = new TaskCompletionSource[laterClaims];
            var answers = new TaskCompletionSource<(bool Owns, bool Got)>[laterClaims];
            for (int i = 0; i < laterClaims; i++)
            {
                asks[i] = NewSignal();
                answers[i] = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            async Task Outliving()
            {
                for (int i = 0; i < laterClaims; i++)
                {
                    await asks[i].Task;
                    using var attempt = await ledger.TryAcquireAsync(TimeSpan.Zero);
                    answers[i].SetResult((ledger.IsHeldByCurrentFlow, attempt.IsAcquired));
                }
            }

            Task outliving;
            using (await ledger.AcquireAsync())
            {
                if (underSuppressFlow)
                {
                    using (ExecutionContext.SuppressFlow())
                    {
                        outliving = Task.Run(Outliving);
                    }
                }
                else
                {
                    outliving = Task.Run(Outliving);
                }
            }

            var seen = new List<(bool, bool)>();
            for (int i = 0; i < laterClaims; i++)
            {
                using (await ledger.AcquireAsync())
                {
                    asks[i].SetResult();
                    seen.Add(await answers[i].Task.WaitAsync(Guard.HangLimit));
                    Assert.True(ledger.IsHeldByCurrentFlow);
                }
            }

            await outliving.WaitAsync(Guard.HangLimit);
            Assert.Equal(Enumerable.Repeat((false, false), laterClaims), seen);
        }).WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
    }

    [Fact]
    public async Task ATaskStartedAfterTheScopeIsDisposed_InTheMethodThatTookIt_IsAFlowOfItsOwn()
    {
        var ledger = new AsyncExclusiveLock("after-hold-ledger");
        await Task.Run(async () =>
        {
            using (await ledger.AcquireAsync())
            {
                Assert.True(ledger.IsHeldByCurrentFlow);
            }

            var ask = NewSignal();
            var later = Task.Run(async () =>
            {
                await ask.Task;
                using var attempt = await ledger.TryAcquireAsync(TimeSpan.Zero);
                return (ledger.IsHeldByCurrentFlow, attempt.IsAcquired);
            });

            using (await ledger.AcquireAsync())
            {
                ask.SetResult();
                Assert.Equal((false, false), await later.WaitAsync(Guard.HangLimit));
            }
        }).WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
    }

    public enum Consumer
    {
        HoldsNothing,
        BeganItsFlow,
        HoldsAnotherAsyncLock,
    }

    private static async IAsyncEnumerable<bool> StepsHolding(AsyncExclusiveLock gate, int steps)
    {
        using (await gate.AcquireAsync(Guard.HangLimit))
        {
            for (int i = 0; i < steps; i++)
            {
                yield return gate.IsHeldByCurrentFlow;
                await Task.Yield();
            }
        }
    }

    [Theory]
    [InlineData(Consumer.HoldsNothing, new[] { true, false, false })]
    [InlineData(Consumer.BeganItsFlow, new[] { true, true, true })]
    [InlineData(Consumer.HoldsAnotherAsyncLock, new[] { true, true, true })]
    public async Task AnAsyncIterator_OwnsItsLockAcrossYieldReturn_OnlyWhenTheConsumersFlowIsClaimed(Consumer consumer, bool[] expected)
    {
        var feed = new AsyncExclusiveLock($"iterator-feed-{consumer}");
        var other = new AsyncExclusiveLock($"iterator-other-{consumer}");
        await Task.Run(async () =>
        {
            AsyncLockFlowScope flow = consumer == Consumer.BeganItsFlow ? AsyncLockFlow.Begin() : default;
            AsyncLockScope held = consumer == Consumer.HoldsAnotherAsyncLock ? await other.AcquireAsync() : default;
            var owned = new List<bool>();
            await foreach (bool step in StepsHolding(feed, expected.Length))
            {
                owned.Add(step);

                // The iterator took the lock in its own first step, as a helper would: the loop owns it only when claimed.
                bool claimed = consumer != Consumer.HoldsNothing;
                Assert.Equal(claimed, feed.IsHeldByCurrentFlow);
                if (!claimed)
                {
                    // Not the consumer's: asking again waits for itself, here until the timeout.
                    await Assert.ThrowsAsync<LockTimeoutException>(async () => await feed.AcquireAsync(s_short));
                }
            }

            Assert.Equal(expected, owned);
            held.Dispose();
            if (consumer == Consumer.BeganItsFlow)
            {
                flow.Dispose();
            }
        }).WaitAsync(Guard.HangLimit);
        AssertFree(feed);
        AssertFree(other);
    }

    public static TheoryData<string> ScopeKinds => new("exclusive", "read", "write", "permit", "stripe");

    /// <summary>Takes one hold of the named kind on a fresh lock named <paramref name="name"/>; reports whether it is free again.</summary>
    private static async Task<(AsyncLockScope Scope, Func<Task<bool>> IsFree)> TakeOne(string kind, string name)
    {
        switch (kind)
        {
            case "exclusive":
                var gate = new AsyncExclusiveLock(name);
                return (await gate.AcquireAsync(), () => Task.FromResult(!gate.IsHeld));
            case "read":
                var reads = new AsyncReadWriteLock(name);
                return (await reads.AcquireReadAsync(), () => Task.FromResult(reads.CurrentReaderCount == 0 && !reads.IsWriteHeld));
            case "write":
                var writes = new AsyncReadWriteLock(name);
                return (await writes.AcquireWriteAsync(), () => Task.FromResult(!writes.IsWriteHeld && writes.WriterFlowId == 0));
            case "permit":
                var pool = new CountingSemaphore(1, 1, name);
                return (await pool.AcquireAsync(), () => Task.FromResult(pool.CurrentCount == 1));
            case "stripe":
                var striped = new AsyncStripedLock<int>(4, name);
                return (await striped.AcquireAsync(7), async () =>
                {
                    // Asked from an unrelated flow, so a hold of the test's flow is refused, not re-entered.
                    return await InAnUnrelatedFlow(async () =>
                    {
                        using var attempt = await striped.TryAcquireAsync(7, TimeSpan.Zero);
                        return attempt.IsAcquired;
                    });
                });
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    [Theory]
    [MemberData(nameof(ScopeKinds))]
    public async Task AScopeDisposedTwice_ThrowsSynchronizationLockExceptionNamingTheLock(string kind)
    {
        string name = $"twice-{kind}";
        var (scope, isFree) = await TakeOne(kind, name);
        var copy = scope;
        scope.Dispose();
        Assert.True(await isFree());
        var error = Assert.Throws<SynchronizationLockException>(() => copy.Dispose());
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.Contains("flow", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(ScopeKinds))]
    public async Task AScopeDisposedByAnUnrelatedFlow_ReleasesTheHold(string kind)
    {
        var (scope, isFree) = await TakeOne(kind, $"other-flow-{kind}");
        Assert.False(await isFree());
        await InAnUnrelatedFlow(() =>
        {
            scope.Dispose();
            return Task.CompletedTask;
        }).WaitAsync(Guard.HangLimit);
        Assert.True(await isFree());
    }

    [Fact]
    public async Task AfterAnotherFlowReleasedItsHold_TheTakingFlowNoLongerOwnsIt_AndTakesItAgainWithoutRecursion()
    {
        var ledger = new AsyncExclusiveLock("released-elsewhere");
        await Task.Run(async () =>
        {
            var scope = await ledger.AcquireAsync();
            await InAnUnrelatedFlow(() =>
            {
                scope.Dispose();
                return Task.CompletedTask;
            }).WaitAsync(Guard.HangLimit);
            Assert.False(ledger.IsHeldByCurrentFlow);
            AssertFree(ledger);
            using var again = await ledger.AcquireAsync(Guard.HangLimit);
            Assert.True(ledger.IsHeldByCurrentFlow);
        }).WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
    }

    [Fact]
    public async Task AnAsyncLockSet_IsOwnedByTheFlowThatTookIt_AndItsChildren_NotByAnUnrelatedFlow()
    {
        var ledger = new AsyncExclusiveLock("set-ledger", level: 10);
        var catalog = new AsyncReadWriteLock("set-catalog", level: 20);
        var pool = new CountingSemaphore(2, 2, "set-pool");
        await Task.Run(async () =>
        {
            using (var set = await LockSet.AcquireAsync([ledger, catalog, pool]))
            {
                Assert.Equal(3, set.Count);
                Assert.True(ledger.IsHeldByCurrentFlow);
                Assert.True(catalog.IsWriteHeldByCurrentFlow);
                Assert.Equal(ledger.HolderFlowId, catalog.WriterFlowId);
                Assert.Equal(1, pool.CurrentCount);
                await Task.Yield();
                Assert.True(await Task.Run(() => ledger.IsHeldByCurrentFlow && catalog.IsWriteHeldByCurrentFlow));
                Assert.False(await InAnUnrelatedFlow(() => Task.FromResult(ledger.IsHeldByCurrentFlow || catalog.IsWriteHeldByCurrentFlow)));
                await AssertReentryThrows(() => ledger.AcquireAsync(Guard.HangLimit), "set-ledger", FlowNumber(ledger));
                await Assert.ThrowsAsync<LockRecursionException>(async () => await catalog.AcquireWriteAsync(Guard.HangLimit));
            }

            Assert.False(ledger.IsHeldByCurrentFlow);
            Assert.False(catalog.IsWriteHeldByCurrentFlow);
        }).WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
        Assert.False(catalog.IsWriteHeld);
        Assert.Equal(2, pool.CurrentCount);
    }

    [Fact]
    public async Task AStripedLocksKeys_AreOwnedPerFlow_ByAcquireAsyncAndAcquireManyAsync()
    {
        var accounts = new AsyncStripedLock<int>(16, "flow-accounts");
        int a = 0;
        int b = Enumerable.Range(1, 1000).First(k => accounts.StripeOf(k) != accounts.StripeOf(a));
        int sameAsA = Enumerable.Range(1, 1000).First(k => k != b && accounts.StripeOf(k) == accounts.StripeOf(a));
        int free = Enumerable.Range(1, 1000).First(k => accounts.StripeOf(k) != accounts.StripeOf(a) && accounts.StripeOf(k) != accounts.StripeOf(b));

        await Task.Run(async () =>
        {
            using (await accounts.AcquireAsync(a))
            {
                Assert.True(accounts.IsHeldByCurrentFlow(a));
                Assert.True(accounts.IsHeldByCurrentFlow(sameAsA));
                Assert.False(accounts.IsHeldByCurrentFlow(b));
                await Assert.ThrowsAsync<LockRecursionException>(async () => await accounts.AcquireAsync(sameAsA, Guard.HangLimit));
                Assert.False(await InAnUnrelatedFlow(() => Task.FromResult(accounts.IsHeldByCurrentFlow(a))));
            }

            using (var many = await accounts.AcquireManyAsync([a, b]))
            {
                Assert.True(many.IsAcquired);
                await Task.Yield();
                Assert.True(await Task.Run(() => accounts.IsHeldByCurrentFlow(a) && accounts.IsHeldByCurrentFlow(b)));
                Assert.False(accounts.IsHeldByCurrentFlow(free));
                bool[] unrelated = await InAnUnrelatedFlow(async () =>
                {
                    using var tryB = await accounts.TryAcquireAsync(b, TimeSpan.Zero);
                    using var tryFree = await accounts.TryAcquireAsync(free, TimeSpan.Zero);
                    return new[] { accounts.IsHeldByCurrentFlow(a), tryB.IsAcquired, tryFree.IsAcquired, accounts.IsHeldByCurrentFlow(free) };
                });
                Assert.Equal([false, false, true, true], unrelated);
            }

            Assert.False(accounts.IsHeldByCurrentFlow(a) || accounts.IsHeldByCurrentFlow(b));
        }).WaitAsync(Guard.HangLimit);
    }

    [Fact]
    public async Task AReadWriteLocksReads_AreOwnedPerFlow_TwoReadingFlowsEachOwnTheirs_AWriterOnlyItsOwnWrite()
    {
        var catalog = new AsyncReadWriteLock("flow-catalog");
        var firstReads = NewSignal();
        var done = NewSignal();
        var reader = InAnUnrelatedFlow(async () =>
        {
            using (await catalog.AcquireReadAsync(Guard.HangLimit))
            {
                firstReads.SetResult();
                await done.Task;
                return catalog.IsReadHeldByCurrentFlow;
            }
        });
        await firstReads.Task.WaitAsync(Guard.HangLimit);

        await Task.Run(async () =>
        {
            Assert.False(catalog.IsReadHeldByCurrentFlow);
            using (await catalog.AcquireReadAsync(Guard.HangLimit))
            {
                Assert.Equal(2, catalog.CurrentReaderCount);
                Assert.True(catalog.IsReadHeldByCurrentFlow);
                Assert.False(catalog.IsWriteHeldByCurrentFlow);
                Assert.False(await InAnUnrelatedFlow(() => Task.FromResult(catalog.IsReadHeldByCurrentFlow)));
                var again = await Assert.ThrowsAsync<LockRecursionException>(async () => await catalog.AcquireReadAsync(Guard.HangLimit));
                Assert.Contains("'flow-catalog'", again.Message, StringComparison.Ordinal);
            }

            Assert.Equal(1, catalog.CurrentReaderCount);
        }).WaitAsync(Guard.HangLimit);

        done.SetResult();
        Assert.True(await reader.WaitAsync(Guard.HangLimit));
        Assert.Equal(0, catalog.CurrentReaderCount);

        await Task.Run(async () =>
        {
            using (await catalog.AcquireWriteAsync(Guard.HangLimit))
            {
                Assert.True(catalog.IsWriteHeldByCurrentFlow);
                Assert.False(catalog.IsReadHeldByCurrentFlow);
                Assert.False(await InAnUnrelatedFlow(() => Task.FromResult(catalog.IsWriteHeldByCurrentFlow)));
            }
        }).WaitAsync(Guard.HangLimit);
        Assert.False(catalog.IsWriteHeld);
        Assert.Equal(0, catalog.WriterFlowId);
    }

    [Fact]
    public async Task TheOrderIsCheckedPerFlowAfterAwaits_Level20HolderTakingLevel10ThrowsBeforeWaiting_AnUnrelatedFlowTakesIt()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var ledger = new AsyncExclusiveLock("per-flow-ledger", level: 20);
        var stock = new AsyncExclusiveLock("per-flow-stock", level: 10);
        var stockHeld = NewSignal();
        var letStockGo = NewSignal();
        var stockHolder = InAnUnrelatedFlow(async () =>
        {
            using (await stock.AcquireAsync(Guard.HangLimit))
            {
                stockHeld.SetResult();
                await letStockGo.Task;
            }
        });
        await stockHeld.Task.WaitAsync(Guard.HangLimit);

        await Task.Run(async () =>
        {
            using (await ledger.AcquireAsync())
            {
                await LibraryStyleAwaits();
                var violation = await Assert.ThrowsAsync<LockOrderViolationException>(async () => await stock.AcquireAsync(Guard.HangLimit));
                Assert.StartsWith($"Lock order violation in flow #{FlowNumber(ledger)} (on thread ", violation.Message, StringComparison.Ordinal);
                Assert.Contains("'per-flow-stock'", violation.Message, StringComparison.Ordinal);
                Assert.Equal(0, stock.WaitingCount);

                // The order is the flow's: an unrelated flow holding nothing waits for level 10 in order.
                var unrelated = InAnUnrelatedFlow(async () =>
                {
                    using (await stock.AcquireAsync(Guard.HangLimit))
                    {
                        return stock.IsHeldByCurrentFlow;
                    }
                });
                Guard.SpinUntil(() => stock.WaitingCount == 1);
                letStockGo.SetResult();
                Assert.True(await unrelated.WaitAsync(Guard.HangLimit));
            }
        }).WaitAsync(Guard.HangLimit);
        await stockHolder.WaitAsync(Guard.HangLimit);
        AssertFree(ledger);
        AssertFree(stock);
    }

    [Fact]
    public async Task AThousandConcurrentFlows_EachWithItsOwnAndASharedLock_GetExactIsHeldByCurrentFlowAnswers()
    {
        const int flows = 1000;
        const int rounds = 3;
        var own = Enumerable.Range(0, flows).Select(i => new AsyncExclusiveLock($"own-{i}")).ToArray();
        var shared = new AsyncExclusiveLock("shared-by-1000");
        var go = NewSignal();
        int wrong = 0;
        int sharedHolders = 0;
        int sharedTakes = 0;

        void Expect(bool actual, bool expected)
        {
            if (actual != expected)
            {
                Interlocked.Increment(ref wrong);
            }
        }

        var tasks = new Task[flows];
        for (int n = 0; n < flows; n++)
        {
            int i = n;
            var neighbour = own[(i + 1) % flows];
            tasks[i] = Task.Run(async () =>
            {
                await go.Task;
                for (int r = 0; r < rounds; r++)
                {
                    Expect(own[i].IsHeldByCurrentFlow, false);
                    using (await own[i].AcquireAsync(Guard.HangLimit))
                    {
                        Expect(own[i].IsHeldByCurrentFlow, true);
                        Expect(neighbour.IsHeldByCurrentFlow, false);
                        Expect(shared.IsHeldByCurrentFlow, false);
                        using (await shared.AcquireAsync(Guard.HangLimit))
                        {
                            Expect(Interlocked.Increment(ref sharedHolders) == 1, true);
                            Interlocked.Increment(ref sharedTakes);
                            await Task.Yield();
                            Expect(shared.IsHeldByCurrentFlow, true);
                            Expect(own[i].IsHeldByCurrentFlow, true);
                            Expect(neighbour.IsHeldByCurrentFlow, false);
                            Expect(shared.HolderFlowId == own[i].HolderFlowId, true);
                            Interlocked.Decrement(ref sharedHolders);
                        }

                        Expect(shared.IsHeldByCurrentFlow, false);
                        await Task.Yield();
                        Expect(own[i].IsHeldByCurrentFlow, true);
                    }

                    Expect(own[i].IsHeldByCurrentFlow, false);
                }
            });
        }

        go.SetResult();
        await Task.WhenAll(tasks).WaitAsync(Guard.HangLimit);
        Assert.Equal(0, wrong);
        Assert.Equal(flows * rounds, sharedTakes);
        AssertFree(shared);
        Assert.All(own, AssertFree);
    }
}
