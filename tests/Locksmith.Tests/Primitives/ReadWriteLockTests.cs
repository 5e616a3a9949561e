using System;
using System.Linq;
using System.Threading;
using Locksmith.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Locksmith.Tests.Primitives;

public sealed class ReadWriteLockTests
{
    [Theory]
    [InlineData(ReadWritePolicy.ReaderPreferred)]
    [InlineData(ReadWritePolicy.WriterPreferred)]
    [InlineData(ReadWritePolicy.Fair)]
    public void MixedReadersAndWriters_WriterNeverOverlapsAnyone_AndNoUpdateIsLost(ReadWritePolicy policy)
    {
        const int Threads = 4;
        const int OpsPerThread = 20_000;
        var rw = new ReadWriteLock("stress", policy: policy);
        int readersInside = 0;
        int writersInside = 0;
        int maxReadersInside = 0;
        long counter = 0;

        Concurrently.Run(Threads, t =>
        {
            for (int i = 0; i < OpsPerThread; i++)
            {
                if ((i + t) % 8 == 0)
                {
                    using var write = rw.AcquireWrite();
                    Assert.Equal(1, Interlocked.Increment(ref writersInside));
                    Assert.Equal(0, Volatile.Read(ref readersInside));
                    long read = counter;
                    if ((read & 0x1F) == 0)
                    {
                        Thread.Yield();
                    }

                    counter = read + 1;
                    Interlocked.Decrement(ref writersInside);
                }
                else
                {
                    using var read = rw.AcquireRead();
                    int inside = Interlocked.Increment(ref readersInside);
                    Assert.Equal(0, Volatile.Read(ref writersInside));
                    if (inside > Volatile.Read(ref maxReadersInside))
                    {
                        Volatile.Write(ref maxReadersInside, inside);
                    }

                    Interlocked.Decrement(ref readersInside);
                }
            }
        });

        Assert.Equal(Threads * OpsPerThread / 8, counter);
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.Equal(0, rw.WriterThreadId);
        Assert.Equal(0, rw.QueueLength);
        Assert.True(rw.TryAcquireWrite(out var scope));
        scope.Dispose();
    }

    [Fact]
    public void Readers_ShareTheLock()
    {
        var rw = new ReadWriteLock("shared");
        using var holder = rw.HoldRead("reader");

        using (var mine = rw.AcquireRead(TimeSpan.FromSeconds(30)))
        {
            Assert.True(mine.IsAcquired);
            Assert.Equal(2, rw.CurrentReaderCount);
            Assert.True(rw.IsReadLockHeldByCurrentThread);
            Assert.False(rw.IsWriteLockHeldByCurrentThread);
        }

        Assert.False(rw.IsReadLockHeldByCurrentThread);
        Assert.False(rw.TryAcquireWrite(TimeSpan.Zero, out var none));
        Assert.False(none.IsAcquired);
        holder.Release();
        Assert.Equal(0, rw.CurrentReaderCount);
    }

    [Fact]
    public void WriteLock_ReportsItsWriter()
    {
        var rw = new ReadWriteLock("owner", level: null, ReadWritePolicy.Fair);
        Assert.Equal(ReadWritePolicy.Fair, rw.Policy);
        Assert.Equal(LockKind.ReadWrite, rw.Kind);
        using (rw.AcquireWrite())
        {
            Assert.True(rw.IsWriteLockHeldByCurrentThread);
            Assert.False(rw.IsReadLockHeldByCurrentThread);
            Assert.Equal(Environment.CurrentManagedThreadId, rw.WriterThreadId);
            Assert.Equal(Environment.CurrentManagedThreadId, rw.ExclusiveOwnerId);
        }

        Assert.Equal(0, rw.WriterThreadId);
        Assert.Equal(ReadWritePolicy.WriterPreferred, new ReadWriteLock().Policy);
    }

    [Fact]
    public void APolicyNamedAlone_CompilesAndIsTheLocksPolicy()
    {
        // Was CS0121 (two constructors take 'policy:'), so this file did not build; README's example had to be positional.
        var fair = new ReadWriteLock(policy: ReadWritePolicy.Fair);
        var readers = new ReadWriteLock(ReadWritePolicy.ReaderPreferred);
        Assert.Equal((ReadWritePolicy.Fair, ReadWritePolicy.ReaderPreferred), (fair.Policy, readers.Policy));
        Assert.Null(fair.Level);
        Assert.Contains("ReadWriteLockTests.cs", fair.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void NestedReadsOfDifferentLocks_ReleaseInAnyOrder()
    {
        var locks = Enumerable.Range(0, 6).Select(i => new ReadWriteLock($"nested-{i}")).ToArray();
        foreach (var rw in locks)
        {
            rw.AcquireRead();
        }

        Assert.All(locks, rw => Assert.True(rw.IsReadLockHeldByCurrentThread));
        foreach (int i in new[] { 2, 0, 5, 1, 4, 3 })
        {
            locks[i].ReleaseRead();
            Assert.False(locks[i].IsReadLockHeldByCurrentThread);
        }

        Assert.All(locks, rw => Assert.Equal(0, rw.CurrentReaderCount));
    }

    [Theory]
    [InlineData(ReadWritePolicy.ReaderPreferred)]
    [InlineData(ReadWritePolicy.WriterPreferred)]
    [InlineData(ReadWritePolicy.Fair)]
    public void WriteWhileHoldingRead_ThrowsRecursionAtOnce_AndLeavesNoWriterClaim(ReadWritePolicy policy)
    {
        var rw = new ReadWriteLock("catalog", policy: policy);
        using var read = rw.AcquireRead();

        var ex = Assert.Throws<LockRecursionException>(() => rw.AcquireWrite());
        Assert.Contains("'catalog'", ex.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Contains("read lock", ex.Message);
        Assert.Throws<LockRecursionException>(() => rw.TryAcquireWrite(out _));
        Assert.Throws<LockRecursionException>(() => rw.AcquireWrite(TimeSpan.FromSeconds(30)));

        // The failed upgrade must not have left the writer bit behind: another reader still gets in at once.
        Assert.True(rw.IsReadLockHeldByCurrentThread);
        bool otherRead = false;
        Concurrently.Start("other-reader", () =>
        {
            otherRead = rw.TryAcquireRead(out var scope);
            scope.Dispose();
        }).JoinGuarded();
        Assert.True(otherRead);
    }

    [Fact]
    public void ReadWhileHoldingRead_ThrowsRecursionAtOnce()
    {
        var rw = new ReadWriteLock("prices", policy: ReadWritePolicy.ReaderPreferred);
        using var read = rw.AcquireRead();

        var ex = Assert.Throws<LockRecursionException>(() => rw.AcquireRead());
        Assert.Contains("'prices'", ex.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Throws<LockRecursionException>(() => rw.TryAcquireRead(out _));
        Assert.Equal(1, rw.CurrentReaderCount);
    }

    [Fact]
    public void WriteWhileHoldingWrite_AndReadWhileHoldingWrite_ThrowRecursionAtOnce()
    {
        var rw = new ReadWriteLock("stock");
        using var write = rw.AcquireWrite();

        var again = Assert.Throws<LockRecursionException>(() => rw.AcquireWrite());
        Assert.Contains("'stock'", again.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", again.Message);
        Assert.Throws<LockRecursionException>(() => rw.TryAcquireWrite(out _));

        var read = Assert.Throws<LockRecursionException>(() => rw.AcquireRead());
        Assert.Contains("'stock'", read.Message);
        Assert.Contains("write lock", read.Message);
        Assert.True(rw.IsWriteLockHeldByCurrentThread);
    }

    [Fact]
    public void ReleasingAModeNotHeld_ThrowsSynchronizationLock_NamingLockAndThreads()
    {
        var rw = new ReadWriteLock("ledger");
        var readEx = Assert.Throws<SynchronizationLockException>(rw.ReleaseRead);
        Assert.Contains("'ledger'", readEx.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", readEx.Message);
        var writeEx = Assert.Throws<SynchronizationLockException>(rw.ReleaseWrite);
        Assert.Contains("no thread holds it", writeEx.Message);

        using var write = rw.AcquireWrite();
        Assert.Throws<SynchronizationLockException>(rw.ReleaseRead);
        Exception? caught = null;
        Concurrently.Start("intruder", () =>
        {
            try
            {
                rw.ReleaseWrite();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        }).JoinGuarded();

        var sle = Assert.IsType<SynchronizationLockException>(caught);
        Assert.Contains("'ledger'", sle.Message);
        Assert.Contains("'intruder'", sle.Message);
        Assert.Contains($"held by thread {Environment.CurrentManagedThreadId}", sle.Message);
        Assert.True(rw.IsWriteLockHeldByCurrentThread);
    }

    [Fact]
    public void ReleaseRead_OnAThreadThatDidNotAcquire_Throws()
    {
        var rw = new ReadWriteLock("affine");
        using var read = rw.AcquireRead();
        Exception? caught = null;
        Concurrently.Start("other", () =>
        {
            try
            {
                rw.ReleaseRead();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        }).JoinGuarded();

        Assert.IsType<SynchronizationLockException>(caught);
        Assert.Equal(1, rw.CurrentReaderCount);
    }

    [Fact]
    public void DisposingScopesTwice_ReleasesOnce()
    {
        var rw = new ReadWriteLock("twice");
        var read = rw.AcquireRead();
        read.Dispose();
        read.Dispose();
        var write = rw.AcquireWrite();
        write.Dispose();
        write.Dispose();
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.Equal(0, rw.WriterThreadId);
    }

    [Fact]
    public void ExceptionInsideReadOrWriteSection_LeavesLockReleased()
    {
        var rw = new ReadWriteLock("throwing");
        void ReadBody()
        {
            using var scope = rw.AcquireRead();
            throw new InvalidOperationException("read boom");
        }

        void WriteBody()
        {
            using var scope = rw.AcquireWrite();
            throw new InvalidOperationException("write boom");
        }

        Assert.Throws<InvalidOperationException>(ReadBody);
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.False(rw.IsReadLockHeldByCurrentThread);
        Assert.Throws<InvalidOperationException>(WriteBody);
        Assert.Equal(0, rw.WriterThreadId);
        Assert.True(rw.TryAcquireWrite(out var write));
        write.Dispose();
        Assert.True(rw.TryAcquireRead(out var read));
        read.Dispose();
    }

    [Fact]
    public void WriteHeldElsewhere_TimedReadFails_TimedWriteThrowsNamingLockAndWriter()
    {
        var rw = new ReadWriteLock("inventory");
        using var holder = rw.HoldWrite("writer");

        Assert.False(rw.TryAcquireRead(TimeSpan.FromMilliseconds(50), out var none));
        Assert.False(none.IsAcquired);

        var ex = Assert.Throws<LockTimeoutException>(() => rw.AcquireWrite(TimeSpan.FromMilliseconds(50)));
        Assert.Equal("inventory", ex.LockName);
        Assert.Equal(holder.ThreadId, ex.OwnerThreadId);
        Assert.Contains("'inventory'", ex.Message);
        Assert.Contains("write access", ex.Message);
        Assert.Contains($"held by thread {holder.ThreadId}", ex.Message);

        var readEx = Assert.Throws<LockTimeoutException>(() => rw.AcquireRead(TimeSpan.FromMilliseconds(20)));
        Assert.Contains("read access", readEx.Message);
        Assert.Equal(holder.ThreadId, readEx.OwnerThreadId);

        holder.Release();
        Assert.Equal(0, rw.QueueLength);
        using var mine = rw.AcquireRead(TimeSpan.FromSeconds(30));
        Assert.True(rw.IsReadLockHeldByCurrentThread);
    }

    [Theory]
    [InlineData(ReadWritePolicy.ReaderPreferred)]
    [InlineData(ReadWritePolicy.WriterPreferred)]
    [InlineData(ReadWritePolicy.Fair)]
    public void ReadHeldElsewhere_TimedWriteThrows_AndLeavesReadersFree(ReadWritePolicy policy)
    {
        var rw = new ReadWriteLock("catalog", policy: policy);
        using var holder = rw.HoldRead("reader");

        var ex = Assert.Throws<LockTimeoutException>(() => rw.AcquireWrite(TimeSpan.FromMilliseconds(50)));
        Assert.Equal("catalog", ex.LockName);
        Assert.Equal(0, ex.OwnerThreadId);
        Assert.Contains("shared mode", ex.Message);
        Assert.False(rw.TryAcquireWrite(TimeSpan.Zero, out _));

        // The writer gave up: it must not keep holding new readers back.
        Assert.True(rw.TryAcquireRead(out var read));
        read.Dispose();
        holder.Release();
        Assert.True(rw.TryAcquireWrite(out var write));
        write.Dispose();
    }

    [Fact]
    public void DefaultTimeoutPolicy_AppliesToBothModes()
    {
        var rw = new ReadWriteLock("defaulted");
        using var holder = rw.HoldWrite("writer");

        using var policy = PolicyScope.DefaultTimeout(TimeSpan.FromMilliseconds(30));
        Assert.Throws<LockTimeoutException>(() => rw.AcquireRead());
        Assert.Throws<LockTimeoutException>(() => rw.AcquireWrite());
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        var rw = new ReadWriteLock("args");
        Assert.Throws<ArgumentOutOfRangeException>(() => rw.AcquireRead(TimeSpan.FromMilliseconds(-5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => rw.AcquireWrite(TimeSpan.FromMilliseconds(-5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReadWriteLock((ReadWritePolicy)42));
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.Equal(0, rw.WriterThreadId);
    }

    [Fact]
    public void AlreadyCancelledToken_Throws_WhenTheLockIsBusy()
    {
        var rw = new ReadWriteLock("busy");
        using var holder = rw.HoldWrite("writer");

        var cancelled = new CancellationToken(canceled: true);
        Assert.Throws<OperationCanceledException>(() => rw.AcquireRead(cancelled));
        Assert.Throws<OperationCanceledException>(() => rw.AcquireWrite(cancelled));
        Assert.Equal(holder.ThreadId, rw.WriterThreadId);
    }

    [Fact]
    public void CancelledReader_ThrowsOperationCanceled_AndLeavesLockAsItWas()
    {
        var rw = new ReadWriteLock("cancelled-reader");
        using var holder = rw.HoldWrite("writer");

        using var cts = new CancellationTokenSource();
        Exception? caught = null;
        var waiter = Concurrently.Start("reader", () =>
        {
            try
            {
                rw.AcquireRead(Timeout.InfiniteTimeSpan, cts.Token).Dispose();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        Guard.SpinUntil(() => rw.QueueLength == 1);
        cts.Cancel();
        waiter.JoinGuarded();

        Assert.IsType<OperationCanceledException>(caught);
        Assert.Equal(0, rw.QueueLength);
        Assert.Equal(holder.ThreadId, rw.WriterThreadId);
        holder.Release();
        Assert.True(rw.TryAcquireWrite(out var write));
        write.Dispose();
    }

    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred)]
    [InlineData(ReadWritePolicy.Fair)]
    public void CancelledWaitingWriter_DoesNotLeaveTheReadersItHeldBackBlocked(ReadWritePolicy policy)
    {
        var rw = new ReadWriteLock("cancelled-writer", policy: policy);
        using var holder = rw.HoldRead("reader");

        using var cts = new CancellationTokenSource();
        Exception? caught = null;
        var writer = Concurrently.Start("writer", () =>
        {
            try
            {
                rw.AcquireWrite(Timeout.InfiniteTimeSpan, cts.Token).Dispose();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        Guard.SpinUntil(() => rw.WaitingThreadCount == 1);

        // A reader arriving now queues behind the waiting writer.
        bool blockedReaderGotIn = false;
        var reader = Concurrently.Start("late-reader", () =>
        {
            using var scope = rw.AcquireRead();
            blockedReaderGotIn = true;
        });
        Guard.SpinUntil(() => rw.QueueLength == 1);
        Assert.False(rw.TryAcquireRead(out _));

        cts.Cancel();
        writer.JoinGuarded();
        reader.JoinGuarded();

        Assert.IsType<OperationCanceledException>(caught);
        Assert.True(blockedReaderGotIn);
        Assert.Equal(0, rw.WriterThreadId);
        Assert.Equal(0, rw.QueueLength);
        Assert.Equal(1, rw.CurrentReaderCount);
        Assert.True(rw.TryAcquireRead(out var read));
        read.Dispose();
        holder.Release();
        Assert.True(rw.TryAcquireWrite(out var write));
        write.Dispose();
    }

    [Fact]
    public void OrderedLock_ChecksOrderInBothModes()
    {
        var low = new ExclusiveLock("low", level: 5);
        var rw = new ReadWriteLock("mid", level: 10);
        var high = new ExclusiveLock("high", level: 20);

        using (rw.AcquireRead())
        {
            var ex = Assert.Throws<LockOrderViolationException>(() => low.Acquire());
            Assert.Contains("'mid'", ex.Message);
        }

        using (rw.AcquireWrite())
        {
            Assert.Throws<LockOrderViolationException>(() => low.Acquire());
        }

        using (high.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => rw.AcquireRead());
            Assert.Throws<LockOrderViolationException>(() => rw.AcquireWrite());
            Assert.Equal(0, rw.CurrentReaderCount);
            Assert.Equal(0, rw.WriterThreadId);
        }

        // Both modes were popped from the held stack: taking the locks in order works.
        using (low.Acquire())
        using (rw.AcquireRead())
        using (high.Acquire())
        {
            Assert.True(rw.IsReadLockHeldByCurrentThread);
        }
    }

    [Fact]
    public void Acquisitions_AreRecordedWithTheirMode()
    {
        var rw = new ReadWriteLock("metered-rw");
        using var collector = new MetricCollector<long>(LocksmithMetrics.Meter, "locksmith.lock.acquisitions");

        rw.AcquireRead().Dispose();
        rw.AcquireRead().Dispose();
        rw.AcquireWrite().Dispose();

        var mine = collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags["lock.name"], "metered-rw")).ToList();
        Assert.Equal(2, mine.Count(m => Equals(m.Tags["lock.mode"], "read")));
        Assert.Equal(1, mine.Count(m => Equals(m.Tags["lock.mode"], "write")));
        Assert.All(mine, m => Assert.Equal("read_write", m.Tags["lock.kind"]));
    }

    [Fact]
    public void SteadyStateAcquireAndRelease_AllocateNothing()
    {
        var rw = new ReadWriteLock("no-alloc");
        Assert.Equal(0, Allocations.FewestOfThreeWindows(() =>
        {
            using (rw.AcquireRead())
            {
            }

            using (rw.AcquireWrite())
            {
            }
        }, warmUp: 1_000));
    }

    [Fact]
    public void WriteHeldElsewhere_ThrowingReadWithZeroTimeout_Throws_AndHoldsNothing()
    {
        var rw = new ReadWriteLock("zero-read");
        using var holder = rw.HoldWrite("writer");

        Assert.Throws<LockTimeoutException>(() => rw.AcquireRead(TimeSpan.Zero));
        Assert.False(rw.IsReadLockHeldByCurrentThread);
        Assert.Equal(0, rw.CurrentReaderCount);
    }
}
