using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

/// <summary>Who gets in first under each <see cref="ReadWritePolicy"/>; every wait is bounded by state, not by time.</summary>
public sealed class ReadWriteLockPolicyTests
{
    [Fact]
    public void ReaderPreferred_NewReaderEnters_WhileAWriterWaits()
    {
        var rw = new ReadWriteLock("rp", policy: ReadWritePolicy.ReaderPreferred);
        using var holder = HoldRead(rw);
        bool writerEntered = false;
        var writer = Concurrently.Start("writer", () =>
        {
            using var scope = rw.AcquireWrite();
            Volatile.Write(ref writerEntered, true);
        });
        Guard.SpinUntil(() => rw.WaitingThreadCount == 1);

        Assert.True(rw.TryAcquireRead(TimeSpan.Zero, out var read));
        Assert.Equal(2, rw.CurrentReaderCount);
        read.Dispose();
        Assert.False(Volatile.Read(ref writerEntered));

        holder.Release();
        writer.JoinGuarded();
        Assert.True(writerEntered);
    }

    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred)]
    [InlineData(ReadWritePolicy.Fair)]
    public void WaitingWriter_HoldsBackNewReaders(ReadWritePolicy policy)
    {
        var rw = new ReadWriteLock("wp", policy: policy);
        using var holder = HoldRead(rw);
        bool writerEntered = false;
        var writer = Concurrently.Start("writer", () =>
        {
            using var scope = rw.AcquireWrite();
            Volatile.Write(ref writerEntered, true);
        });
        Guard.SpinUntil(() => rw.WaitingThreadCount == 1);

        Assert.False(rw.TryAcquireRead(TimeSpan.Zero, out var read));
        Assert.False(read.IsAcquired);
        Assert.Equal(1, rw.CurrentReaderCount);

        holder.Release();
        writer.JoinGuarded();
        Assert.True(writerEntered);
        Assert.True(rw.TryAcquireRead(out read));
        read.Dispose();
    }

    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred)]
    [InlineData(ReadWritePolicy.Fair)]
    public void Writer_GetsIn_WithinBoundedReaderTurns_UnderContinuousReading(ReadWritePolicy policy)
    {
        const int Readers = 4;
        var rw = new ReadWriteLock("busy", policy: policy);
        bool stop = false;
        long entries = 0;
        long enteredBehindWriter = 0;
        var readers = Enumerable.Range(0, Readers).Select(i => Concurrently.Start($"reader-{i}", () =>
        {
            while (!Volatile.Read(ref stop))
            {
                // A reader that starts while the writer's claim is visible arrived behind the writer.
                bool behindWriter = rw.WriterPending;
                using var scope = rw.AcquireRead();
                Interlocked.Increment(ref entries);
                if (behindWriter)
                {
                    Interlocked.Increment(ref enteredBehindWriter);
                }

                Thread.SpinWait(50);
            }
        })).ToArray();

        Guard.SpinUntil(() => Volatile.Read(ref entries) >= 2_000);
        long overtakers;
        using (rw.AcquireWrite())
        {
            // Readers that arrived behind the writer but got in before it: none, under both policies.
            overtakers = Volatile.Read(ref enteredBehindWriter);
        }

        Volatile.Write(ref stop, true);
        foreach (var reader in readers)
        {
            reader.JoinGuarded();
        }

        Assert.Equal(0, overtakers);
        Assert.Equal(0, rw.CurrentReaderCount);
    }

    [Fact]
    public void Fair_GrantsInArrivalOrder()
    {
        var rw = new ReadWriteLock("fair", policy: ReadWritePolicy.Fair);
        var order = new ConcurrentQueue<string>();
        var read = rw.AcquireRead();

        var w1 = StartWriter(rw, "W1", order);
        Guard.SpinUntil(() => rw.WaitingThreadCount == 1);
        var r2 = StartReader(rw, "R2", order);
        Guard.SpinUntil(() => rw.QueueLength == 1);
        var w3 = StartWriter(rw, "W3", order);
        Guard.SpinUntil(() => rw.QueueLength == 2);

        read.Dispose();
        w1.JoinGuarded();
        r2.JoinGuarded();
        w3.JoinGuarded();

        Assert.Equal(new[] { "W1", "R2", "W3" }, order.ToArray());
    }

    [Fact]
    public void WriterPreferred_QueuedWritersGoBeforeQueuedReaders()
    {
        var rw = new ReadWriteLock("wp-order", policy: ReadWritePolicy.WriterPreferred);
        var order = new ConcurrentQueue<string>();
        var read = rw.AcquireRead();

        var w1 = StartWriter(rw, "W1", order);
        Guard.SpinUntil(() => rw.WaitingThreadCount == 1);
        var r2 = StartReader(rw, "R2", order);
        Guard.SpinUntil(() => rw.QueueLength == 1);
        var w3 = StartWriter(rw, "W3", order);
        Guard.SpinUntil(() => rw.QueueLength == 2);

        read.Dispose();
        w1.JoinGuarded();
        r2.JoinGuarded();
        w3.JoinGuarded();

        Assert.Equal(new[] { "W1", "W3", "R2" }, order.ToArray());
    }

    [Fact]
    public void Fair_ConsecutiveQueuedReaders_AreAdmittedTogether()
    {
        var rw = new ReadWriteLock("fair-batch", policy: ReadWritePolicy.Fair);
        var order = new ConcurrentQueue<string>();
        int readersInside = 0;
        bool bothInsideAtOnce = true;
        var read = rw.AcquireRead();

        var w1 = StartWriter(rw, "W1", order);
        Guard.SpinUntil(() => rw.WaitingThreadCount == 1);
        var readers = new[] { "R2", "R3" }.Select((name, i) =>
        {
            var thread = Concurrently.Start(name, () =>
            {
                using var scope = rw.AcquireRead();
                Interlocked.Increment(ref readersInside);
                // Each waits for the other inside: only a batch admission lets both in while W4 waits behind them.
                bool together = SpinWait.SpinUntil(() => Volatile.Read(ref readersInside) == 2, TimeSpan.FromSeconds(30));
                if (!together)
                {
                    Volatile.Write(ref bothInsideAtOnce, false);
                }

                order.Enqueue(name);
            });
            Guard.SpinUntil(() => rw.QueueLength == i + 1);
            return thread;
        }).ToArray();
        var w4 = StartWriter(rw, "W4", order);
        Guard.SpinUntil(() => rw.QueueLength == 3);

        read.Dispose();
        w1.JoinGuarded();
        foreach (var reader in readers)
        {
            reader.JoinGuarded();
        }

        w4.JoinGuarded();
        Assert.True(bothInsideAtOnce);
        var seen = order.ToArray();
        Assert.Equal("W1", seen[0]);
        Assert.Equal(new[] { "R2", "R3" }, seen[1..3].Order());
        Assert.Equal("W4", seen[3]);
    }

    [Fact]
    public void ReaderPreferred_QueuedReadersAllEnterWhenTheWriterLeaves()
    {
        var rw = new ReadWriteLock("rp-batch", policy: ReadWritePolicy.ReaderPreferred);
        var write = rw.AcquireWrite();
        int entered = 0;
        var readers = Enumerable.Range(0, 3).Select(i => Concurrently.Start($"reader-{i}", () =>
        {
            using var scope = rw.AcquireRead();
            Interlocked.Increment(ref entered);
        })).ToArray();
        Guard.SpinUntil(() => rw.QueueLength == 3);
        Assert.Equal(0, Volatile.Read(ref entered));

        write.Dispose();
        foreach (var reader in readers)
        {
            reader.JoinGuarded();
        }

        Assert.Equal(3, entered);
        Assert.Equal(0, rw.QueueLength);
        Assert.Equal(0, rw.CurrentReaderCount);
    }

    private static HeldOnOtherThread HoldRead(ReadWriteLock rw)
    {
        var holder = rw.HoldRead("holder");
        return holder;
    }

    private static Worker StartWriter(ReadWriteLock rw, string name, ConcurrentQueue<string> order) =>
        Concurrently.Start(name, () =>
        {
            using var scope = rw.AcquireWrite();
            order.Enqueue(name);
        });

    private static Worker StartReader(ReadWriteLock rw, string name, ConcurrentQueue<string> order) =>
        Concurrently.Start(name, () =>
        {
            using var scope = rw.AcquireRead();
            order.Enqueue(name);
        });
}
