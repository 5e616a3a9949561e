using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Composite;

public sealed class StripedLockTests
{
    [Fact]
    public void StripeCount_IsRoundedToAPowerOfTwo()
    {
        Assert.Equal(64, new StripedLock<int>(50).StripeCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StripedLock<int>(0));
    }

    [Fact]
    public void KeysOnDifferentStripes_ProceedInParallel()
    {
        var striped = new StripedLock<string>(64, "prices");
        string a = "apple", b = FindKeyOnOtherStripe(striped, "apple");
        using var held = new HeldOnOtherThread("holder", release =>
        {
            using var scope = striped.Acquire(a);
            release.Wait();
        });
        held.WaitUntilHeld(() => !striped.IsStripeFree(a));

        // Another key's stripe is free while 'apple' is held elsewhere; apple's own stripe is not.
        Assert.True(striped.TryAcquire(b, out var other));
        other.Dispose();
        Assert.False(striped.TryAcquire(a, TimeSpan.FromMilliseconds(20), out _));
    }

    [Fact]
    public void SameKey_IsExclusive_LostUpdateExact()
    {
        var striped = new StripedLock<int>(16, "counters");
        long total = LostUpdate.Run(increment =>
        {
            using var scope = striped.Acquire(42);
            increment();
        });
        Assert.Equal(LostUpdate.Tasks * LostUpdate.IncrementsPerTask, total);
    }

    [Fact]
    public void MultiKey_RandomPairs_FromFourThreads_NeverDeadlock()
    {
        var striped = new StripedLock<int>(64, "pairs", level: 10);
        long done = 0;
        Concurrently.Run(4, thread =>
        {
            var random = new Random(thread + 100);
            for (int i = 0; i < 25_000; i++)
            {
                int x = random.Next(1_000), y = random.Next(1_000);
                using var scope = striped.AcquireMany(x, y);
                Assert.True(striped.IsHeldByCurrentThread(x));
                Assert.True(striped.IsHeldByCurrentThread(y));
                Interlocked.Increment(ref done);
            }
        });
        Assert.Equal(100_000, done);
    }

    [Fact]
    public void MultiKey_SameStripe_IsTakenOnce()
    {
        var striped = new StripedLock<int>(1, "one");
        using var scope = striped.AcquireMany(1, 2, 3);
        Assert.Equal(1, scope.Count);
    }

    [Fact]
    public void Declaration_NamesAndOrdersTheStripes()
    {
        var striped = new StripedLock<int>(4);
        striped.EnsureDeclared("Cache._stripes", 7);
        Assert.Equal("Cache._stripes", striped.Name);
        Assert.Equal("Cache._stripes[0]", striped.StripeAt(0).Name);
        Assert.Equal(7, striped.StripeAt(3).Level);
    }

    [Fact]
    public void HoldingOneStripe_ThenAnotherByHand_IsAnOrderViolation()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var striped = new StripedLock<int>(64, "s", level: 3);
        int a = 0, b = FindIntOnOtherStripe(striped, 0);
        using var first = striped.Acquire(a);
        Assert.Throws<LockOrderViolationException>(() => striped.Acquire(b));
    }

    private static string FindKeyOnOtherStripe(StripedLock<string> striped, string key)
    {
        for (int i = 0; ; i++)
        {
            string candidate = "key" + i;
            if (striped.StripeOf(candidate) != striped.StripeOf(key))
            {
                return candidate;
            }
        }
    }

    private static int FindIntOnOtherStripe(StripedLock<int> striped, int key)
    {
        for (int i = 1; ; i++)
        {
            if (striped.StripeOf(i) != striped.StripeOf(key))
            {
                return i;
            }
        }
    }
}

internal static class StripedLockTestExtensions
{
    public static bool IsStripeFree<TKey>(this StripedLock<TKey> striped, TKey key) =>
        !striped.StripeAt(striped.StripeOf(key)).IsHeld;
}
