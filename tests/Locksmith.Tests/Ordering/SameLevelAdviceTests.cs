using System;
using System.Threading.Tasks;
using Locksmith.Tests.Support;
using Xunit;

namespace Locksmith.Tests.Ordering;

/// <summary>
/// Two locks of one level (README's accounts, each at level 10) taken one inside the other: the advice was "acquire
/// 'account:2' first, or use LockSet", and acquiring it first breaks the order just the same. It now says they share the
/// level and names the set call that takes both (found by a controlled-scheduler trial's bank transfer).
/// </summary>
public sealed class SameLevelAdviceTests
{
    [Fact]
    public void TwoSyncLocksOfOneLevel_AreAdvisedToBeTakenTogetherWithLockSetAcquire()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var first = new ExclusiveLock("account:1", level: 10);
        var second = new ExclusiveLock("account:2", level: 10);

        LockOrderViolationException error;
        using (first.Acquire())
        {
            error = Assert.Throws<LockOrderViolationException>(() => second.Acquire());
        }

        Assert.EndsWith(
            ": acquiring 'account:2' (level 10) while holding 'account:1' (level 10). Locks must be acquired in increasing level order; " +
            "'account:1' and 'account:2' share level 10, so acquiring either first cannot help: take both together with LockSet.Acquire, " +
            "which takes locks of one level in a fixed order, or give them different levels.",
            error.Message,
            StringComparison.Ordinal);
        Assert.False(second.IsHeld);

        // The advice can be followed: the set takes both.
        using (LockSet.Acquire(first, second))
        {
            Assert.True(first.IsHeldByCurrentThread && second.IsHeldByCurrentThread);
        }
    }

    [Fact]
    public async Task TwoAsyncLocksOfOneLevel_AreAdvisedToBeTakenTogetherWithLockSetAcquireAsync()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var first = new AsyncExclusiveLock("ledger:1", level: 10);
        var second = new AsyncExclusiveLock("ledger:2", level: 10);

        string message = await Task.Run(async () =>
        {
            using (await first.AcquireAsync())
            {
                return Assert.Throws<LockOrderViolationException>(() => { _ = second.AcquireAsync(); }).Message;
            }
        });

        Assert.EndsWith(
            "'ledger:1' and 'ledger:2' share level 10, so acquiring either first cannot help: take both together with " +
            "LockSet.AcquireAsync, which takes locks of one level in a fixed order, or give them different levels.",
            message,
            StringComparison.Ordinal);
        Assert.False(second.IsHeld);
        await Task.Run(async () =>
        {
            using (await LockSet.AcquireAsync(first, second))
            {
                Assert.True(first.IsHeldByCurrentFlow && second.IsHeldByCurrentFlow);
            }
        });
    }

    [Fact]
    public async Task TwoLocksOfOneLevelThatNoSetTakesTogether_AreAdvisedToGetDifferentLevels()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var cache = new AsyncExclusiveLock("cache", level: 5);
        var stats = new ExclusiveLock("stats", level: 5);

        // No set takes a sync lock and an async one together: only distinct levels fix it.
        string message = await Task.Run(async () =>
        {
            using (await cache.AcquireAsync())
            {
                return Assert.Throws<LockOrderViolationException>(() => stats.Acquire()).Message;
            }
        });

        Assert.EndsWith("'cache' and 'stats' share level 5, so acquiring either first cannot help: give them different levels.", message, StringComparison.Ordinal);
        Assert.False(stats.IsHeld);
    }
}
