using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

public sealed class AsyncStripedLockTests
{
    private static (int First, int Second) KeysOnDifferentStripes(AsyncStripedLock<int> striped)
    {
        int first = 0;
        int second = Enumerable.Range(1, 1_000).First(k => striped.StripeOf(k) != striped.StripeOf(first));
        return (first, second);
    }

    [Fact]
    public async Task TenThousandConcurrentFlows_OnSixteenKeys_CountEachKeyExactly()
    {
        var striped = new AsyncStripedLock<int>(8, "accounts");
        var counters = new int[16];
        var flows = Enumerable.Range(0, 10_000).Select(i => Task.Run(async () =>
        {
            int key = i % counters.Length;
            using var scope = await striped.AcquireAsync(key);
            int seen = counters[key];
            await Task.Yield();
            counters[key] = seen + 1;
        }));

        await Task.WhenAll(flows);

        Assert.All(counters, count => Assert.Equal(10_000 / 16, count));
        Assert.Equal(10_000, counters.Sum());
        Assert.All(Enumerable.Range(0, striped.StripeCount), i => Assert.False(striped.StripeAt(i).IsHeld));
    }

    [Fact]
    public async Task KeysOnDifferentStripes_AreHeldAtOnce()
    {
        var striped = new AsyncStripedLock<int>(16, "parallel");
        var (a, b) = KeysOnDifferentStripes(striped);
        var aHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holderA = Task.Run(async () =>
        {
            using var scope = await striped.AcquireAsync(a);
            aHeld.SetResult();
            await releaseA.Task;
        });
        await aHeld.Task;

        // A still holds its stripe (it waits for releaseA, set only below), and B gets its own stripe meanwhile.
        bool bAcquiredWhileAHeld = await Task.Run(async () =>
        {
            using var scope = await striped.AcquireAsync(b).AsTask().WaitAsync(Guard.HangLimit);
            return scope.IsAcquired && !holderA.IsCompleted;
        });

        releaseA.SetResult();
        await holderA;
        Assert.True(bAcquiredWhileAHeld);
    }

    [Fact]
    public async Task TheSameKey_Excludes_UntilReleased()
    {
        var striped = new AsyncStripedLock<string>(16, "names");
        var held = await Task.Run(async () => await striped.AcquireAsync("alice"));

        var tried = await Task.Run(async () => await striped.TryAcquireAsync("alice", TimeSpan.Zero));
        var waiter = Task.Run(async () => await striped.AcquireAsync("alice"));
        Guard.SpinUntil(() => striped.StripeAt(striped.StripeOf("alice")).WaitingCount == 1);

        Assert.False(tried.IsAcquired);
        Assert.False(waiter.IsCompleted);
        held.Dispose();
        var next = await waiter;
        Assert.True(next.IsAcquired);
        next.Dispose();
    }

    [Fact]
    public async Task AcquireMany_InOppositeOrders_NeverDeadlocks_AndTakesEachStripeOnce()
    {
        var striped = new AsyncStripedLock<int>(4, "pairs");
        var (a, b) = KeysOnDifferentStripes(striped);
        int counter = 0;
        var flows = Enumerable.Range(0, 2_000).Select(i => Task.Run(async () =>
        {
            int[] keys = i % 2 == 0 ? [a, b, a] : [b, a];
            using var scope = await striped.AcquireManyAsync(keys);
            int seen = counter;
            await Task.Yield();
            counter = seen + 1;
            return scope.Count;
        }));

        var counts = await Task.WhenAll(flows);

        Assert.Equal(2_000, counter);
        Assert.All(counts, count => Assert.Equal(2, count));
        Assert.False(striped.StripeAt(striped.StripeOf(a)).IsHeld);
        Assert.False(striped.StripeAt(striped.StripeOf(b)).IsHeld);
    }

    [Fact]
    public async Task AcquireMany_WithAStripeTheFlowHolds_ThrowsAtOnce_TakingNothing()
    {
        var striped = new AsyncStripedLock<int>(16, "held");
        var (a, b) = KeysOnDifferentStripes(striped);
        using (await striped.AcquireAsync(a))
        {
            Assert.Throws<LockRecursionException>(() => { _ = striped.AcquireManyAsync([b, a]); });
            Assert.False(striped.StripeAt(striped.StripeOf(b)).IsHeld);
            Assert.True(striped.IsHeldByCurrentFlow(a));
        }

        Assert.False(striped.IsHeldByCurrentFlow(a));
    }

    /// <summary>
    /// Before, AcquireManyAsync had no timed form (the sync StripedLock's AcquireMany has one), so a flow locking several
    /// keys could only wait for the default timeout or a token. Now AcquireManyAsync(keys, timeout) throws
    /// LockTimeoutException and TryAcquireManyAsync(keys, timeout) returns an empty scope, each holding no stripe after.
    /// </summary>
    [Fact]
    public async Task AcquireMany_Timed_GivesUpAtTheTimeout_TakingNothing_AndSucceedsOnceFree()
    {
        var striped = new AsyncStripedLock<int>(16, "timed");
        var (a, b) = KeysOnDifferentStripes(striped);
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = Task.Run(async () =>
        {
            using var scope = await striped.AcquireAsync(b);
            held.SetResult();
            await release.Task;
        });
        await held.Task;

        await Task.Run(async () =>
        {
            var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () => { using var s = await striped.AcquireManyAsync([a, b], TimeSpan.FromMilliseconds(20)); });
            Assert.Contains("timed[", ex.Message, StringComparison.Ordinal);
            using (var tried = await striped.TryAcquireManyAsync([b, a], TimeSpan.FromMilliseconds(20)))
            {
                Assert.False(tried.IsAcquired);
            }

            Assert.False(striped.StripeAt(striped.StripeOf(a)).IsHeld);
        });

        release.SetResult();
        await holder;
        using (var scope = await striped.TryAcquireManyAsync([a, b], TimeSpan.Zero))
        {
            Assert.True(scope.IsAcquired);
            Assert.Equal(2, scope.Count);
        }

        using (var scope = await striped.AcquireManyAsync([a, b], Timeout.InfiniteTimeSpan))
        {
            Assert.Equal(2, scope.Count);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = striped.AcquireManyAsync([a], TimeSpan.FromMilliseconds(-2)); });
        Assert.False(striped.StripeAt(striped.StripeOf(a)).IsHeld);
        Assert.False(striped.StripeAt(striped.StripeOf(b)).IsHeld);
    }
}
