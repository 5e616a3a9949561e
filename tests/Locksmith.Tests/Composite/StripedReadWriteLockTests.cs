using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Composite;

public sealed class StripedReadWriteLockTests
{
    private static long s_expected;
    [Fact]
    public void StringKeys_UserComparer_IsHonoured()
    {
        var comparer = new CountingComparer(StringComparer.OrdinalIgnoreCase);
        var striped = new StripedReadWriteLock<string>(64, "ci-rw", comparer: comparer);
        using (striped.AcquireWrite("SKU-1"))
        {
            Assert.True(striped.StripeAt(striped.StripeOf("sku-1")).IsWriteLockHeldByCurrentThread);
        }

        Assert.Equal(2, comparer.HashCalls);
        Assert.Equal(new StripedLock<string>(64).StripeOf("sku-1"), new StripedReadWriteLock<string>(64).StripeOf("sku-1"));
    }

    [Fact]
    public void ReadersOfOneKey_Share_WritersExclude()
    {
        var striped = new StripedReadWriteLock<string>(16, "catalog");
        using (striped.AcquireRead("sku-1"))
        {
            using var second = new HeldOnOtherThread("reader-2", release =>
            {
                using var read = striped.AcquireRead("sku-1");
                release.Wait();
            });
            second.WaitUntilHeld(() => striped.StripeAt(striped.StripeOf("sku-1")).CurrentReaderCount == 2);
            Assert.Equal(2, striped.StripeAt(striped.StripeOf("sku-1")).CurrentReaderCount);
        }

        using var write = striped.AcquireWrite("sku-1");
        Assert.True(striped.StripeAt(striped.StripeOf("sku-1")).IsWriteLockHeldByCurrentThread);
    }

    [Fact]
    public void WriteLockOfOneKey_BlocksReadersOfThatKeyOnly()
    {
        var striped = new StripedReadWriteLock<int>(64, "rw");
        int other = 1;
        while (striped.StripeOf(other) == striped.StripeOf(0))
        {
            other++;
        }

        using var holder = new HeldOnOtherThread("writer", release =>
        {
            using var scope = striped.AcquireWrite(0);
            release.Wait();
        });
        holder.WaitUntilHeld(() => striped.StripeAt(striped.StripeOf(0)).WriterThreadId != 0);

        Assert.False(striped.TryAcquireRead(0, TimeSpan.FromMilliseconds(20), out _));
        Assert.True(striped.TryAcquireRead(other, TimeSpan.Zero, out var read));
        read.Dispose();
    }

    [Fact]
    public void WritesThroughStripes_AreExact_AndMultiKeyNeverDeadlocks()
    {
        var striped = new StripedReadWriteLock<int>(8, "counts", level: 4, policy: ReadWritePolicy.Fair);
        var counts = new long[32];
        s_expected = 0;
        Concurrently.Run(4, thread =>
        {
            var random = new Random(thread);
            for (int i = 0; i < 10_000; i++)
            {
                int a = random.Next(counts.Length), b = random.Next(counts.Length);
                using var scope = striped.AcquireManyWrite(a, b);
                counts[a]++;
                Interlocked.Increment(ref s_expected);
                if (b != a)
                {
                    counts[b]++;
                    Interlocked.Increment(ref s_expected);
                }
            }
        });

        long total = 0;
        foreach (long c in counts)
        {
            total += c;
        }

        Assert.Equal(expected: Volatile.Read(ref s_expected), total);
        Assert.Equal(ReadWritePolicy.Fair, striped.StripeAt(0).Policy);
        Assert.Equal(4, striped.StripeAt(7).Level);
    }

    [Fact]
    public void TimedMultiKeyWrite_IsAllOrNothing()
    {
        var striped = new StripedReadWriteLock<int>(64, "timed");
        int other = 1;
        while (striped.StripeOf(other) == striped.StripeOf(0))
        {
            other++;
        }

        using var holder = new HeldOnOtherThread("reader", release =>
        {
            using var scope = striped.AcquireRead(0);
            release.Wait();
        });
        holder.WaitUntilHeld(() => striped.StripeAt(striped.StripeOf(0)).CurrentReaderCount == 1);

        var ex = Assert.Throws<LockTimeoutException>(() => striped.AcquireManyWrite(TimeSpan.FromMilliseconds(30), other, 0));
        Assert.Contains("timed[", ex.LockName);
        Assert.Equal(0, striped.StripeAt(striped.StripeOf(other)).WriterThreadId);
    }
}
