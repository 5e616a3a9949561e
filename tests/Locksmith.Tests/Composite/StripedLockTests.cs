using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
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
    public void DefaultStripeCount_IsAtLeast64_AndFourPerProcessor()
    {
        int count = new StripedLock<string>().StripeCount;
        Assert.True(count >= 64 && count >= 4 * Environment.ProcessorCount, $"{count} stripes");
        Assert.Equal(0, count & (count - 1));
        Assert.Equal(count, new StripedReadWriteLock<string>().StripeCount);
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
        var error = Assert.Throws<LockOrderViolationException>(() => striped.Acquire(b));

        // "Acquire the other first" cannot help two stripes of one level: the advice is the striped lock's own.
        Assert.Contains($"'s[{striped.StripeOf(a)}]' and 's[{striped.StripeOf(b)}]' are stripes of 's' and share its level, so take the keys together, with AcquireMany,", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LockSet", error.Message, StringComparison.Ordinal);
    }

    // A service trial got "or use LockSet to take both" for a stripe, which no LockSet takes: only the order fixes it.
    [Fact]
    public async Task AStripeAskedUnderAHigherLock_IsAdvisedToTakeTheKeyFirst_NotALockSet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var holds = new AsyncStripedLock<string>(64, "holds", level: 20);
        var bin = new AsyncExclusiveLock("bin", level: 30);
        using var held = await bin.AcquireAsync();
        var error = await Assert.ThrowsAsync<LockOrderViolationException>(async () => await holds.AcquireAsync("apple"));

        Assert.EndsWith("take the key of 'holds' before 'bin' (a stripe cannot be put in a LockSet).", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("use LockSet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALockAskedUnderAHigherStripe_IsAdvisedToComeBeforeTheKey_NotALockSet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var stripes = new StripedLock<int>(64, "rows", level: 5);
        var audit = new ExclusiveLock("audit", level: 3);
        using var held = stripes.Acquire(1);
        var error = Assert.Throws<LockOrderViolationException>(() => audit.Acquire());

        Assert.EndsWith("acquire 'audit' before the key of 'rows' (a stripe cannot be put in a LockSet).", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("use LockSet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HoldingOneAsyncStripe_ThenAnother_IsAnOrderViolation_AdvisingAcquireManyAsync()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var striped = new AsyncStripedLock<int>(64, "as", level: 3);
        int a = 0, b = Enumerable.Range(1, 1_000).First(k => striped.StripeOf(k) != striped.StripeOf(a));
        using var first = await striped.AcquireAsync(a);
        var error = await Assert.ThrowsAsync<LockOrderViolationException>(async () => await striped.AcquireAsync(b));

        Assert.Contains("are stripes of 'as' and share its level, so take the keys together, with AcquireManyAsync,", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StringKeys_UserComparer_IsHonoured()
    {
        var comparer = new CountingComparer(StringComparer.OrdinalIgnoreCase);
        var striped = new StripedLock<string>(64, "ci", comparer: comparer);

        // Case-insensitive keys are one key: each maps to the comparer's stripe, and the comparer did the hashing.
        for (int i = 0; i < 200; i++)
        {
            string key = "Customer:" + i;
            Assert.Equal(striped.StripeOf(key), striped.StripeOf(key.ToUpperInvariant()));
        }

        Assert.Equal(400, comparer.HashCalls);
        using (striped.Acquire("ABC"))
        {
            Assert.True(striped.IsHeldByCurrentThread("abc"));
        }

        Assert.Equal(402, comparer.HashCalls);
    }

    [Fact]
    public void StringKeys_DefaultComparerGivenExplicitly_IsTheDefaultPath()
    {
        var implicitDefault = new StripedLock<string>(64, "a");
        var explicitDefault = new StripedLock<string>(64, "b", comparer: EqualityComparer<string>.Default);
        foreach (string key in RealisticKeys(500))
        {
            Assert.Equal(implicitDefault.StripeOf(key), explicitDefault.StripeOf(key));
        }
    }

    [Fact]
    public void StringKeys_EqualStrings_HashTheSame_AtEveryLength()
    {
        // Distinct instances of equal strings (of every length around the hash's 4/8/16/32-byte boundaries, and
        // past them) land on one stripe in every lock instance: the hash reads only the chars, and is not seeded.
        var first = new StripedLock<string>(1024, "first");
        var second = new StripedLock<string>(1024, "second");
        for (int length = 0; length <= 70; length++)
        {
            string key = new string(Enumerable.Range(0, length).Select(i => (char)('a' + ((i * 7) % 26))).ToArray());
            string copy = new string(key.AsSpan());
            Assert.True(length == 0 || !ReferenceEquals(key, copy));
            Assert.Equal(first.StripeOf(key), first.StripeOf(copy));
            Assert.Equal(first.StripeOf(key), second.StripeOf(copy));
            Assert.Equal(StripeHash.Ordinal(key), StripeHash.Ordinal(copy));
        }

        Assert.Equal(0, first.StripeOf(null!));
    }

    [Fact]
    public void StringKeys_SpreadOverStripes_EvenWhenOnlyTheLastCharDiffers()
    {
        var striped = new StripedLock<string>(64, "spread");
        var perStripe = new int[striped.StripeCount];
        foreach (string key in RealisticKeys(6_400))
        {
            perStripe[striped.StripeOf(key)]++;
        }

        // 100 keys per stripe on average; a fair hash stays far inside [50, 150] (about five standard deviations).
        Assert.All(perStripe, count => Assert.InRange(count, 50, 150));

        // Keys that differ in their last char only.
        var lastChar = new HashSet<int>();
        for (char c = '0'; c <= '9'; c++)
        {
            lastChar.Add(striped.StripeOf("customer:1234" + c));
        }

        Assert.True(lastChar.Count >= 6, $"10 keys differing in the last char hit only {lastChar.Count} stripes.");
    }

    [Fact]
    public void StringKeys_OnOneStripe_StillExcludeEachOther_LostUpdateExact()
    {
        var striped = new StripedLock<string>(64, "shared");
        (string a, string b) = FindStringsOnSameStripe(striped);
        Assert.NotEqual(a, b);

        // Held elsewhere under 'a', the stripe refuses 'b'.
        using (var held = new HeldOnOtherThread("holder-a", release =>
        {
            using var scope = striped.Acquire(a);
            release.Wait();
        }))
        {
            held.WaitUntilHeld(() => !striped.IsStripeFree(a));
            Assert.False(striped.TryAcquire(b, out _));
        }

        // Two threads, one per key, increment one unsynchronised counter: only the shared stripe keeps it exact.
        const int Increments = 200_000;
        long counter = 0;
        Concurrently.Run(2, thread =>
        {
            string key = thread == 0 ? a : b;
            for (int i = 0; i < Increments; i++)
            {
                using var scope = striped.Acquire(key);
                counter++;
            }
        });
        Assert.Equal(2L * Increments, counter);
    }

    [Fact]
    public void StringKeys_OnDifferentStripes_AreHeldAtOnce_FromTwoThreads()
    {
        var striped = new StripedLock<string>(64, "parallel");
        string a = "customer:12345", b = FindKeyOnOtherStripe(striped, a);

        // Each thread takes its key and then waits at the barrier while holding it: both pass only if both stripes
        // are held at the same moment (a hang guard, not a clock assertion, bounds the wait).
        using var bothHeld = new Barrier(2);
        int heldTogether = 0;
        Concurrently.Run(2, thread =>
        {
            using var scope = striped.Acquire(thread == 0 ? a : b);
            if (bothHeld.SignalAndWait(Guard.HangLimit))
            {
                Assert.False(striped.IsStripeFree(a));
                Assert.False(striped.IsStripeFree(b));
                Interlocked.Increment(ref heldTogether);
            }

            bothHeld.SignalAndWait(Guard.HangLimit);
        });
        Assert.Equal(2, heldTogether);
    }

    [Fact]
    public void IntKeys_MapAsBefore()
    {
        // Int keys keep their spread hash: consecutive keys on consecutive stripes.
        var striped = new StripedLock<int>(64, "ints");
        for (int key = 0; key < 64; key++)
        {
            Assert.Equal(key, striped.StripeOf(key));
        }
    }

    private static IEnumerable<string> RealisticKeys(int count)
    {
        string[] prefixes = ["customer:", "order:", "user:", "session:", "acct-"];
        for (int i = 0; i < count; i++)
        {
            yield return prefixes[i % prefixes.Length] + (10_000 + (i * 7_919 % 90_000));
        }
    }

    private static (string A, string B) FindStringsOnSameStripe(StripedLock<string> striped)
    {
        string a = "customer:10000";
        for (int i = 10_001; ; i++)
        {
            string candidate = "customer:" + i;
            if (striped.StripeOf(candidate) == striped.StripeOf(a))
            {
                return (a, candidate);
            }
        }
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

    /// <summary>
    /// Before, a thread locking several keys could only wait (AcquireMany, throwing on timeout) and take no token; the
    /// single-key forms and LockSet.TryAcquire all have a Try form. Now TryAcquireMany / TryAcquireManyWrite return false
    /// holding nothing when a key's stripe stays held, true once it is free, and a cancelled token takes nothing.
    /// </summary>
    [Fact]
    public void TryAcquireMany_ReturnsFalseHoldingNothing_WhileAStripeIsHeld_AndTrueOnceFree()
    {
        var striped = new StripedLock<int>(16, "try-many");
        var readWrite = new StripedReadWriteLock<int>(16, "try-many-rw");
        int a = 0;
        int b = Enumerable.Range(1, 1_000).First(k => striped.StripeOf(k) != striped.StripeOf(a) && readWrite.StripeOf(k) != readWrite.StripeOf(a));
        using (HeldOnOtherThread.Hold("holder", release =>
        {
            using var stripe = striped.Acquire(b);
            using var write = readWrite.AcquireWrite(b);
            release.Wait();
        }))
        {
            Assert.False(striped.TryAcquireMany(TimeSpan.FromMilliseconds(20), out var none, a, b));
            Assert.False(none.IsAcquired);
            Assert.False(striped.IsHeldByCurrentThread(a));
            Assert.False(readWrite.TryAcquireManyWrite(TimeSpan.Zero, CancellationToken.None, out var noneWrite, b, a));
            Assert.False(noneWrite.IsAcquired);
            using (var taken = readWrite.AcquireManyWrite(TimeSpan.Zero, a))
            {
                Assert.Equal(1, taken.Count);
            }
        }

        Assert.True(striped.TryAcquireMany(TimeSpan.Zero, out var both, a, b, a));
        using (both)
        {
            Assert.Equal(2, both.Count);
            Assert.True(striped.IsHeldByCurrentThread(b));
        }

        Assert.True(readWrite.TryAcquireManyWrite(TimeSpan.FromSeconds(30), out var bothWrite, b, a));
        bothWrite.Dispose();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => striped.TryAcquireMany(Timeout.InfiniteTimeSpan, cancelled.Token, out _, a, b));
        Assert.False(striped.IsHeldByCurrentThread(a));
        Assert.Throws<ArgumentOutOfRangeException>(() => striped.TryAcquireMany(TimeSpan.FromMilliseconds(-2), out _, a));
    }
}

internal sealed class CountingComparer(IEqualityComparer<string> inner) : IEqualityComparer<string>
{
    private int _hashCalls;

    public int HashCalls => Volatile.Read(ref _hashCalls);

    public bool Equals(string? x, string? y) => inner.Equals(x, y);

    public int GetHashCode(string obj)
    {
        Interlocked.Increment(ref _hashCalls);
        return inner.GetHashCode(obj);
    }
}

internal static class StripedLockTestExtensions
{
    public static bool IsStripeFree<TKey>(this StripedLock<TKey> striped, TKey key) =>
        !striped.StripeAt(striped.StripeOf(key)).IsHeld;
}
