using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// A refused second read of a queued acquisition (see <see cref="AsyncPendingReadTwiceContextTests"/>) never costs the
/// first read its outcome, and a late read of an ended wait does not undo the refusal for the node's next wait.
/// </summary>
public sealed class AsyncPendingReadTwiceEdgeTests
{
    /// <summary>
    /// The second await registered from a task of a scheduler that takes no more work by the time the wait is read (a
    /// <see cref="ConcurrentExclusiveSchedulerPair"/> told to complete). Before, posting the refused read there threw out of
    /// the first read's GetResult: the first await failed with a TaskSchedulerException and the granted lock was never
    /// handed back (held for good). Now the refused read goes to the thread pool instead, and is still told.
    /// </summary>
    [Fact]
    public async Task ASecondReadWhoseSchedulerRefusesWork_LeavesTheFirstReadItsScope()
    {
        var gate = new AsyncExclusiveLock("pending-read-twice-closed-scheduler");
        for (int round = 0; round < 10; round++)
        {
            var holder = await HeldByAnotherFlow.StartAsync(gate);
            var queued = gate.AcquireAsync();
            var firstRead = TakeAndRelease(queued);
            var pair = new ConcurrentExclusiveSchedulerPair();
            var secondRead = await Task.Factory.StartNew(
                () => ReadAgain(queued), CancellationToken.None, TaskCreationOptions.None, pair.ExclusiveScheduler).WaitAsync(Guard.HangLimit);
            pair.Complete();

            await holder.ReleaseAsync().WaitAsync(Guard.HangLimit);
            await firstRead.WaitAsync(Guard.HangLimit);
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => secondRead.WaitAsync(Guard.HangLimit));
            Assert.Contains("that was read already", refused.Message, StringComparison.Ordinal);
            Assert.False(gate.IsHeld, $"round {round}");
            Assert.Equal(0, gate.WaitingCount);
        }
    }

    private static async Task TakeAndRelease(ValueTask<AsyncLockScope> queued) => (await queued.ConfigureAwait(false)).Dispose();

    private static async Task ReadAgain(ValueTask<AsyncLockScope> queued) => (await queued).Dispose();
}
