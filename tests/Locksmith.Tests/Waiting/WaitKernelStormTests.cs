using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Waiting;

/// <summary>
/// Timeouts and cancellations racing releases, on every primitive that waits in the kernel's queue. Each thread
/// makes a fixed number of attempts with a short timeout or a token another thread cancels; at the end the counts
/// must be exact and the primitive idle: no permit lost, no owner stranded, no node left queued.
/// </summary>
public sealed class WaitKernelStormTests
{
    private const int Threads = 4;
    private const int AttemptsPerThread = 400;

    public enum Kind
    {
        Exclusive,
        Reentrant,
        Semaphore,
        WriterPreferredWrite,
        FairWrite,
        ReaderPreferredWrite,
        WriterPreferredMixed,
    }

    [Theory]
    [InlineData(Kind.Exclusive)]
    [InlineData(Kind.Reentrant)]
    [InlineData(Kind.Semaphore)]
    [InlineData(Kind.WriterPreferredWrite)]
    [InlineData(Kind.FairWrite)]
    [InlineData(Kind.ReaderPreferredWrite)]
    [InlineData(Kind.WriterPreferredMixed)]
    public void TimeoutAndCancellationStorm_LeavesCountsExact_AndThePrimitiveIdle(Kind kind)
    {
        var exclusive = new ExclusiveLock("storm-exclusive");
        var reentrant = new ReentrantLock("storm-reentrant");
        var semaphore = new CountingSemaphore(2, 2, "storm-semaphore");
        var readWrite = new ReadWriteLock("storm-rw", policy: kind switch
        {
            Kind.FairWrite => ReadWritePolicy.Fair,
            Kind.ReaderPreferredWrite => ReadWritePolicy.ReaderPreferred,
            _ => ReadWritePolicy.WriterPreferred,
        });

        long acquired = 0;
        long counted = 0;
        long reads = 0;
        int inside = 0;
        int maxInside = kind == Kind.Semaphore ? 2 : 1;
        int overlaps = 0;

        void Critical()
        {
            if (Interlocked.Increment(ref inside) > maxInside)
            {
                Interlocked.Increment(ref overlaps);
            }

            Interlocked.Increment(ref counted);
            Thread.SpinWait(50);
            Interlocked.Decrement(ref inside);
        }

        Concurrently.Run(Threads, index =>
        {
            var random = new Random(1234 + index);
            for (int i = 0; i < AttemptsPerThread; i++)
            {
                // Timeouts of 0 to 2 ms and tokens cancelled from a timer thread: both race the holders' releases,
                // which is the point.
                var timeout = TimeSpan.FromMilliseconds(random.Next(0, 3));
                using var cts = new CancellationTokenSource();
                if (random.Next(3) == 0)
                {
                    // The timer fires on another thread mid-wait; disposing the source stops a timer that has not.
                    cts.CancelAfter(TimeSpan.FromMilliseconds(1));
                }

                try
                {
                    if (TryOnce(kind, exclusive, reentrant, semaphore, readWrite, timeout, cts.Token, random, Critical, () => Interlocked.Increment(ref reads)))
                    {
                        Interlocked.Increment(ref acquired);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        Assert.Equal(0, overlaps);
        Assert.Equal(acquired, counted + reads);
        AssertIdle(kind, exclusive, reentrant, semaphore, readWrite);
    }

    private static bool TryOnce(
        Kind kind, ExclusiveLock exclusive, ReentrantLock reentrant, CountingSemaphore semaphore, ReadWriteLock readWrite,
        TimeSpan timeout, CancellationToken token, Random random, Action critical, Action readCritical)
    {
        switch (kind)
        {
            case Kind.Exclusive:
                if (!exclusive.TryAcquire(timeout, token, out var e))
                {
                    return false;
                }

                using (e)
                {
                    critical();
                }

                return true;
            case Kind.Reentrant:
                if (!reentrant.TryAcquire(timeout, token, out var r))
                {
                    return false;
                }

                using (r)
                {
                    using (reentrant.Acquire())
                    {
                        critical();
                    }
                }

                return true;
            case Kind.Semaphore:
                if (!semaphore.TryAcquire(timeout, token, out var s))
                {
                    return false;
                }

                using (s)
                {
                    critical();
                }

                return true;
            case Kind.WriterPreferredMixed when random.Next(2) == 0:
                if (!readWrite.TryAcquireRead(timeout, token, out var read))
                {
                    return false;
                }

                using (read)
                {
                    readCritical();
                }

                return true;
            default:
                if (!readWrite.TryAcquireWrite(timeout, token, out var w))
                {
                    return false;
                }

                using (w)
                {
                    critical();
                }

                return true;
        }
    }

    private static void AssertIdle(Kind kind, ExclusiveLock exclusive, ReentrantLock reentrant, CountingSemaphore semaphore, ReadWriteLock readWrite)
    {
        switch (kind)
        {
            case Kind.Exclusive:
                Assert.False(exclusive.IsHeld);
                Assert.True(exclusive.TryAcquire(TimeSpan.Zero, out var e));
                e.Dispose();
                break;
            case Kind.Reentrant:
                Assert.False(reentrant.IsHeld);
                Assert.True(reentrant.TryAcquire(TimeSpan.Zero, out var r));
                r.Dispose();
                break;
            case Kind.Semaphore:
                Assert.Equal(2, semaphore.CurrentCount);
                break;
            default:
                Assert.Equal(0, readWrite.QueueLength);
                Assert.Equal(0, readWrite.WaitingThreadCount);
                Assert.True(readWrite.TryAcquireWrite(TimeSpan.Zero, out var w));
                w.Dispose();
                break;
        }
    }
}
