using System;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using static Locksmith.Tests.Async.TaggedReads;

namespace Locksmith.Tests.Async;

/// <summary>
/// A refused second read of a queued acquisition (see <see cref="AsyncPendingReadTwiceContextTests"/>) never costs the
/// first read its outcome, and a late read of an ended wait does not undo the refusal for the node's next wait.
/// </summary>
public sealed class AsyncPendingReadTwiceEdgeTests
{
    private static readonly FieldInfo s_source =
        typeof(ValueTask<AsyncLockScope>).GetField("_obj", BindingFlags.NonPublic | BindingFlags.Instance)!;

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

    /// <summary>
    /// A late second read of a wait that ended (its node recycled and queued for a new wait of this thread) used to write
    /// its stale token over the new wait's claim: a second read of the new wait then reached the source, which stored its
    /// contexts over the first read's (here that ended the test process: an InvalidCastException out of the source, thrown
    /// on the pool by the second await's builder). A stale read now leaves the claim alone.
    /// </summary>
    [Fact]
    public async Task ALateReadOfAnEndedWait_DoesNotLetASecondReadOfTheNodesNextWaitThrough()
    {
        await SharedNodeWaits.OnAThreadOfItsOwnAsync(() => LateReadRounds(new AsyncExclusiveLock("pending-read-twice-late-stale-read")), Guard.HangLimit);
    }

    private static void LateReadRounds(AsyncExclusiveLock gate)
    {
        for (int round = 0; round < 10; round++)
        {
            var (ended, endedAwaiter) = SharedNodeWaits.EndedWait(gate);
            var holder = HeldByAnotherFlow.StartAsync(gate).WaitAsync(Guard.HangLimit).GetAwaiter().GetResult();
            var queued = gate.AcquireAsync();
            Assert.Same(s_source.GetValue(ended), s_source.GetValue(queued));
            var first = new TaggedContext("first");
            var second = new TaggedContext("second");
            var firstRead = StartUnder(first, () => ResumesUnder(queued));

            // The late read of the ended wait: told it was read already, on the pool.
            var lateRead = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            endedAwaiter.OnCompleted(() => lateRead.SetResult(Record.Exception(() => endedAwaiter.GetResult())));
            var late = Assert.IsType<InvalidOperationException>(lateRead.Task.WaitAsync(Guard.HangLimit).GetAwaiter().GetResult());
            Assert.Contains("that was read already", late.Message, StringComparison.Ordinal);

            var secondRead = StartUnder(second, () => RefusedUnder(queued));
            holder.ReleaseAsync().WaitAsync(Guard.HangLimit).GetAwaiter().GetResult();
            Assert.Equal("first", firstRead.WaitAsync(Guard.HangLimit).GetAwaiter().GetResult());
            Assert.Equal("second", secondRead.WaitAsync(Guard.HangLimit).GetAwaiter().GetResult());
            Assert.False(gate.IsHeld, $"round {round}");
            Assert.Equal(0, gate.WaitingCount);
        }
    }

    private static async Task TakeAndRelease(ValueTask<AsyncLockScope> queued) => (await queued.ConfigureAwait(false)).Dispose();

    private static async Task ReadAgain(ValueTask<AsyncLockScope> queued) => (await queued).Dispose();
}
