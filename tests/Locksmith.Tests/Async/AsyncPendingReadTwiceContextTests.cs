using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using static Locksmith.Tests.Async.TaggedReads;

namespace Locksmith.Tests.Async;

/// <summary>
/// A second read of a queued acquisition's <c>ValueTask</c> is refused (see <see cref="AsyncPendingReadTwiceTests"/>);
/// these check that the refusal leaves the first read's contexts alone: its continuation runs where it asked to.
/// </summary>
public sealed class AsyncPendingReadTwiceContextTests
{
    private static readonly AsyncLocal<string?> s_tag = new();

    [Fact]
    public async Task ASecondAwaitFromAnotherSynchronizationContext_LeavesTheFirstAwaitOnItsOwn()
    {
        // Before, the refused second registration first replaced the wait's captured scheduling context with its own, so
        // the first await resumed on the second awaiter's context (a UI thread's, a request's).
        var gate = new AsyncExclusiveLock("pending-read-twice-sync-context");
        for (int round = 0; round < 20; round++)
        {
            var holder = await HeldByAnotherFlow.StartAsync(gate);
            var queued = gate.AcquireAsync();
            var first = new TaggedContext("first");
            var second = new TaggedContext("second");
            var firstRead = StartUnder(first, () => ResumesUnder(queued));
            var secondRead = StartUnder(second, () => RefusedUnder(queued));

            await holder.ReleaseAsync().WaitAsync(Guard.HangLimit);
            Assert.Equal("first", await firstRead.WaitAsync(Guard.HangLimit));

            // The refused await is told so on its own context too, as its outcome would have been.
            Assert.Equal("second", await secondRead.WaitAsync(Guard.HangLimit));
            Assert.Equal(1, first.Posts);
            Assert.Equal(1, second.Posts);
            Assert.False(gate.IsHeld, $"round {round}");
            Assert.Equal(0, gate.WaitingCount);
        }
    }

    [Fact]
    public async Task ASecondOnCompletedFromAnotherExecutionContext_LeavesTheFirstContinuationInItsOwn()
    {
        // An awaiter's OnCompleted flows the execution context through the wait's source: before, the refused second one
        // replaced the first's, so the first continuation saw the second registrant's async locals.
        var gate = new AsyncExclusiveLock("pending-read-twice-execution-context");
        for (int round = 0; round < 20; round++)
        {
            var holder = await HeldByAnotherFlow.StartAsync(gate);
            var awaiter = gate.AcquireAsync().GetAwaiter();
            var firstSaw = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var secondRead = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            RegisterWith("first", awaiter, () =>
            {
                string? seen = s_tag.Value;
                awaiter.GetResult().Dispose();
                firstSaw.SetResult(seen);
            });
            var secondSaw = (string?)null;
            RegisterWith("second", awaiter, () =>
            {
                secondSaw = s_tag.Value;
                secondRead.SetResult(Record.Exception(() => { awaiter.GetResult(); }));
            });

            await holder.ReleaseAsync().WaitAsync(Guard.HangLimit);
            Assert.Equal("first", await firstSaw.Task.WaitAsync(Guard.HangLimit));
            var refused = Assert.IsType<InvalidOperationException>(await secondRead.Task.WaitAsync(Guard.HangLimit));
            Assert.Contains("that was read already", refused.Message, StringComparison.Ordinal);
            Assert.Equal("second", secondSaw);
            Assert.False(gate.IsHeld, $"round {round}");
            Assert.Equal(0, gate.WaitingCount);
        }
    }

    /// <summary>Registers <paramref name="continuation"/> from a context whose async local reads <paramref name="tag"/>.</summary>
    private static void RegisterWith(string tag, ValueTaskAwaiter<AsyncLockScope> awaiter, Action continuation)
    {
        // Run on a copy of the context, so the tag does not stay in the test's own.
        ExecutionContext.Run(ExecutionContext.Capture()!, _ =>
        {
            s_tag.Value = tag;
            awaiter.OnCompleted(continuation);
        }, null);
    }
}
