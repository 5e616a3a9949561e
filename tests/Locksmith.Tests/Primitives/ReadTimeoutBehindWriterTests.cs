using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

/// <summary>
/// A thread's read that times out while only readers hold a <see cref="ReadWriteLock"/> waited for the writer queued
/// ahead of it (writer-preferred, fair): its message says so, as the async lock's does, instead of blaming the shared mode.
/// </summary>
public sealed class ReadTimeoutBehindWriterTests
{
    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred, 0)]
    [InlineData(ReadWritePolicy.WriterPreferred, 30)]
    [InlineData(ReadWritePolicy.Fair, 0)]
    [InlineData(ReadWritePolicy.Fair, 30)]
    public void AReadTimingOutBehindAQueuedWriter_IsToldOfTheWriter(ReadWritePolicy policy, int timeoutMs)
    {
        // Before: "Thread 13 timed out after 31.1 ms waiting for read access to 'sync-prices', held in a shared mode or
        // released as the wait ended."
        var prices = new ReadWriteLock("sync-prices", policy: policy);
        using var readerIn = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var reader = new Thread(() =>
        {
            using var read = prices.AcquireRead();
            readerIn.Set();
            release.Wait(Guard.HangLimit);
        }) { IsBackground = true };
        reader.Start();
        Assert.True(readerIn.Wait(Guard.HangLimit));
        var writer = new Thread(() =>
        {
            using var write = prices.AcquireWrite(Guard.HangLimit);
        }) { IsBackground = true };
        writer.Start();
        Guard.SpinUntil(() => prices.WaitingThreadCount == 1);

        string? message = null;
        var asker = new Thread(() => message = Assert.Throws<LockTimeoutException>(() =>
        {
            using var read = prices.AcquireRead(TimeSpan.FromMilliseconds(timeoutMs));
        }).Message) { IsBackground = true };
        asker.Start();
        Assert.True(asker.Join(Guard.HangLimit));

        release.Set();
        Assert.True(reader.Join(Guard.HangLimit));
        Assert.True(writer.Join(Guard.HangLimit));
        Assert.Contains("waiting for read access to 'sync-prices'", message, StringComparison.Ordinal);
        Assert.Contains($"held in a shared mode with 1 writer queued ahead of it, and under {policy} a reader waits behind a queued writer", message, StringComparison.Ordinal);
        Assert.Equal(0, prices.WaitingThreadCount);
    }
}
