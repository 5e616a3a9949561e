using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>A flow's ordered holds: the inline entries, the overflow beyond them, and tasks sharing the record.</summary>
public sealed class AsyncFlowOrderTests
{
    [Fact]
    public async Task TwelveNestedOrderedLocks_BeyondTheInlineEntries_AreAllChecked_AndReleasedInAnyOrder()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var locks = Enumerable.Range(1, 12).Select(i => new AsyncExclusiveLock($"nested-{i}", level: i * 10)).ToArray();
        var scopes = new AsyncLockScope[locks.Length];
        for (int i = 0; i < locks.Length; i++)
        {
            scopes[i] = await locks[i].AcquireAsync();
        }

        var below = new AsyncExclusiveLock("nested-below-top", level: 115);
        var error = Assert.Throws<LockOrderViolationException>(() => { _ = below.AcquireAsync(); });
        Assert.Contains("'nested-12'", error.Message, StringComparison.Ordinal);
        Assert.False(below.IsHeld);

        // Release the top four (two of them beyond the inline entries) out of order: the highest held is now 80.
        scopes[9].Dispose();
        scopes[11].Dispose();
        scopes[8].Dispose();
        scopes[10].Dispose();
        var between = new AsyncExclusiveLock("nested-between", level: 85);
        using (var fine = await between.AcquireAsync())
        {
            Assert.True(fine.IsAcquired);
        }

        var atSeventy = new AsyncExclusiveLock("nested-seventy", level: 75);
        error = Assert.Throws<LockOrderViolationException>(() => { _ = atSeventy.AcquireAsync(); });
        Assert.Contains("'nested-8'", error.Message, StringComparison.Ordinal);

        for (int i = 7; i >= 0; i--)
        {
            scopes[i].Dispose();
        }

        // Nothing held: the order starts over.
        using var low = await new AsyncExclusiveLock("nested-low", level: 1).AcquireAsync();
        Assert.True(low.IsAcquired);
    }

    [Fact]
    public async Task TasksSharingAFlowsRecord_TakeOrderedLocksAtOnce_AndLeaveNoHoldBehind()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new AsyncExclusiveLock("shared-outer", level: 10);
        var inner = Enumerable.Range(0, 4).Select(i => new AsyncExclusiveLock($"shared-inner-{i}", level: 20 + i)).ToArray();
        var errors = new ConcurrentQueue<Exception>();
        using (await outer.AcquireAsync())
        {
            // Started while the flow holds `outer`: each task shares its record and claims entries at once. Their holds
            // are one flow's, so they break the order among themselves: reported violations are ignored here.
            var ignore = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
            var sharers = inner.Select(lockPrimitive => Task.Run(async () =>
            {
                try
                {
                    for (int i = 0; i < 2_000; i++)
                    {
                        using var scope = await lockPrimitive.AcquireAsync();
                        if (i % 64 == 0)
                        {
                            await Task.Yield();
                        }
                    }
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                }
            })).ToArray();

            await Task.WhenAll(sharers).WaitAsync(Guard.HangLimit);
            ignore.Dispose();
            Assert.Empty(errors);

            // Only `outer` (10) is held again: 15 is in order, 5 is not.
            var lower = new AsyncExclusiveLock("shared-lower", level: 5);
            var error = Assert.Throws<LockOrderViolationException>(() => { _ = lower.AcquireAsync(); });
            Assert.Contains("'shared-outer'", error.Message, StringComparison.Ordinal);
            using var between = await new AsyncExclusiveLock("shared-between", level: 15).AcquireAsync();
            Assert.True(between.IsAcquired);
        }

        using var low = await new AsyncExclusiveLock("shared-low", level: 5).AcquireAsync();
        Assert.True(low.IsAcquired);
    }
}
