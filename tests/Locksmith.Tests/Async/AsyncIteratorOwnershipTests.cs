using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// An async iterator that holds an async lock across <c>yield return</c>. .NET runs each step of an async iterator after
/// the first in the execution context of the <c>MoveNextAsync</c> call, the consumer's: a claim the iterator made in its
/// first step is not in it. So the iterator's later steps own the lock only when the consumer's flow does: the consumer
/// holds an async lock or began its flow with <see cref="AsyncLockFlow.Begin"/> before enumerating (LSM0060 reports an
/// <c>await foreach</c> that does neither).
/// </summary>
public sealed class AsyncIteratorOwnershipTests
{
    /// <summary>Yields, in each step, whether the iterator's own code owns the lock it holds.</summary>
    private static async IAsyncEnumerable<bool> StepsHolding(AsyncExclusiveLock target, int steps)
    {
        using (await target.AcquireAsync())
        {
            for (int i = 0; i < steps; i++)
            {
                yield return target.IsHeldByCurrentFlow;
                await Task.Yield();
            }
        }
    }

    [Fact]
    public async Task WithoutAClaimedConsumer_TheStepsAfterTheFirst_DoNotOwnTheLock()
    {
        var ledger = new AsyncExclusiveLock("iterator-unclaimed");
        var owned = new List<bool>();
        await foreach (bool step in StepsHolding(ledger, 3))
        {
            owned.Add(step);

            // Another flow's hold, as far as this flow can tell: a try does not get it.
            using var again = await ledger.TryAcquireAsync(TimeSpan.Zero);
            Assert.False(again.IsAcquired);
        }

        Assert.Equal([true, false, false], owned);
        Assert.False(ledger.IsHeld);
    }

    [Fact]
    public async Task AConsumerThatBeganItsFlow_OwnsTheLock_InEveryStepAndInItsLoop()
    {
        var ledger = new AsyncExclusiveLock("iterator-begun");
        var owned = new List<bool>();
        using (AsyncLockFlow.Begin())
        {
            await foreach (bool step in StepsHolding(ledger, 3))
            {
                owned.Add(step);
                Assert.True(ledger.IsHeldByCurrentFlow);
            }

            Assert.False(ledger.IsHeldByCurrentFlow);
        }

        Assert.Equal([true, true, true], owned);
        Assert.False(ledger.IsHeld);
    }

    [Fact]
    public async Task AConsumerHoldingAnAsyncLock_OwnsTheIteratorsLock_InEveryStep()
    {
        var outer = new AsyncExclusiveLock("iterator-outer");
        var ledger = new AsyncExclusiveLock("iterator-held-by-consumer");
        var owned = new List<bool>();
        using (await outer.AcquireAsync())
        {
            await foreach (bool step in StepsHolding(ledger, 3))
            {
                owned.Add(step);
            }
        }

        Assert.Equal([true, true, true], owned);
        Assert.False(ledger.IsHeld);
        Assert.False(outer.IsHeld);
    }

    /// <summary>Asks for the lock it holds again after its first yield; yields what that did.</summary>
    private static async IAsyncEnumerable<string> AsksAgainAfterAYield(AsyncExclusiveLock target)
    {
        using (await target.AcquireAsync())
        {
            yield return "took";
            string outcome;
            try
            {
                // A timeout far beyond the test's: a wait for itself would fail the test by hanging, not by a wrong verdict.
                using var again = await target.AcquireAsync(Guard.HangLimit);
                outcome = "took again";
            }
            catch (LockRecursionException error)
            {
                outcome = error.Message;
            }

            yield return outcome;
        }
    }

    [Fact]
    public async Task AskingAgainAfterAYield_ThrowsAtOnce_WhenTheConsumerBeganItsFlow()
    {
        var ledger = new AsyncExclusiveLock("iterator-reentry");
        var outcomes = new List<string>();
        using (AsyncLockFlow.Begin())
        {
            await foreach (string outcome in AsksAgainAfterAYield(ledger))
            {
                outcomes.Add(outcome);
            }
        }

        Assert.Equal(2, outcomes.Count);
        Assert.Equal("took", outcomes[0]);
        Assert.Contains("'iterator-reentry'", outcomes[1], StringComparison.Ordinal);
        Assert.Contains("already holds", outcomes[1], StringComparison.Ordinal);
        Assert.False(ledger.IsHeld);
    }

    [Fact]
    public async Task TheGlobalOrder_CountsTheIteratorsLock_InTheConsumersLoop()
    {
        var high = new AsyncExclusiveLock("iterator-level-20", level: 20);
        var low = new AsyncExclusiveLock("iterator-level-10", level: 10);
        int steps = 0;
        using (AsyncLockFlow.Begin())
        {
            await foreach (bool step in StepsHolding(high, 2))
            {
                steps++;
                var error = await Assert.ThrowsAsync<LockOrderViolationException>(async () => await low.AcquireAsync());
                Assert.Contains("iterator-level-10", error.Message, StringComparison.Ordinal);
                Assert.Contains("iterator-level-20", error.Message, StringComparison.Ordinal);
            }
        }

        Assert.Equal(2, steps);
        Assert.False(low.IsHeld);
        Assert.False(high.IsHeld);
    }
}
