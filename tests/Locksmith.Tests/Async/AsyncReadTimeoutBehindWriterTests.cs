using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// A read that times out while only readers hold the lock waited for the writers queued ahead of it (writer-preferred,
/// fair): its message says so, instead of blaming the shared mode a reader shares.
/// </summary>
public sealed class AsyncReadTimeoutBehindWriterTests
{
    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred, 0)]
    [InlineData(ReadWritePolicy.WriterPreferred, 40)]
    [InlineData(ReadWritePolicy.Fair, 0)]
    [InlineData(ReadWritePolicy.Fair, 40)]
    public async Task AReadTimingOutBehindAQueuedWriter_IsToldOfTheWriter_NotOfTheSharedMode(ReadWritePolicy policy, int timeoutMs)
    {
        // Before: "timed out … waiting for read access to 'prices', held in a shared mode or released as the wait
        // ended." A reader asking for a lock held in a shared mode would get it; what held it back was the writer queued.
        var prices = new AsyncReadWriteLock("prices", policy: policy);
        var releaseReader = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readerIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader, writer;
        using (ExecutionContext.SuppressFlow())
        {
            reader = Task.Run(async () =>
            {
                using var read = await prices.AcquireReadAsync();
                readerIn.SetResult();
                await releaseReader.Task;
            });
        }

        await readerIn.Task.WaitAsync(Guard.HangLimit);
        using (ExecutionContext.SuppressFlow())
        {
            writer = Task.Run(async () => (await prices.AcquireWriteAsync(Guard.HangLimit)).Dispose());
        }

        Guard.SpinUntil(() => prices.WaitingCount == 1);

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await prices.AcquireReadAsync(TimeSpan.FromMilliseconds(timeoutMs)));
        Assert.Contains("waiting for read access to 'prices'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("held in a shared mode or released", error.Message, StringComparison.Ordinal);
        Assert.Contains($"1 writer queued ahead of it, and under {policy} a reader waits behind a queued writer", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, prices.WaitingCount);

        releaseReader.SetResult();
        await Task.WhenAll(reader, writer).WaitAsync(Guard.HangLimit);
        Assert.False(prices.IsWriteHeld);
        Assert.Equal(0, prices.CurrentReaderCount);
        Assert.Equal(0, prices.WaitingCount);
    }

    [Fact]
    public async Task AWriteTimingOutBehindReaders_StillSaysSharedMode()
    {
        var prices = new AsyncReadWriteLock("prices-readers");
        using var read = await prices.AcquireReadAsync();
        Task<string> writing;
        using (ExecutionContext.SuppressFlow())
        {
            // A flow of its own: in this one, asking for the write lock would be an upgrade.
            writing = Task.Run(async () =>
                (await Assert.ThrowsAsync<LockTimeoutException>(async () => await prices.AcquireWriteAsync(TimeSpan.FromMilliseconds(20)))).Message);
        }

        string message = await writing.WaitAsync(Guard.HangLimit);
        Assert.Contains("held in a shared mode or released as the wait ended.", message, StringComparison.Ordinal);
        Assert.Equal(0, prices.WaitingCount);
    }
}
