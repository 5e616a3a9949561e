using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// A claim and its end read and swap the thread's context field directly when they can (see FlowOwnership): the
/// contexts a frame sees must be exactly those <see cref="ExecutionContext.Restore"/> would have given it.
/// </summary>
public sealed class FlowContextFieldTests
{
    private const int Rounds = 1_000;

    [Fact]
    public async Task ClaimsEndedInTheirFrame_GiveBackTheVeryContextBefore_WithItsAsyncLocalsAndNoChangeNotification()
    {
        var gate = new AsyncExclusiveLock("ctx-exact");
        var (rounds, explicitChanges, switches) = await Task.Run(() => RoundsWithHandler(gate));

        Assert.Equal(Rounds, rounds);

        // The test's own set, and nothing from the claims: the handler's value never changed on this thread.
        Assert.Equal(1, explicitChanges);
        Assert.Equal(0, switches);
        Assert.True(FlowOwnership.ReadsTheThreadContextDirectly, "the first claims should have shown the context field is safe to use here");
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public async Task ClaimsFromTheDefaultContext_GiveBackTheDefaultContext_AndTasksStartedInsideShareOnlyThatHold()
    {
        var gate = new AsyncExclusiveLock("ctx-default");
        Task<int> run;
        using (ExecutionContext.SuppressFlow())
        {
            // Started with no context to flow: the body runs in the thread pool's default context.
            run = Task.Run(() => RoundsFromTheDefaultContext(gate));
        }

        Assert.Equal(Rounds, await run);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public async Task TwoFlowsStartedFromOneContextOnOneThread_GetRecordsOfTheirOwn()
    {
        var first = new AsyncExclusiveLock("ctx-first");
        var second = new AsyncExclusiveLock("ctx-second");
        var (checks, firstHeld, secondHeld) = await Task.Run(() => Interleave(first, second));

        Assert.Equal(Rounds, checks);
        Assert.Equal(Rounds, firstHeld);
        Assert.Equal(Rounds, secondHeld);
        Assert.False(first.IsHeld);
        Assert.False(second.IsHeld);
    }

    private static (int Rounds, int ExplicitChanges, int Switches) RoundsWithHandler(AsyncExclusiveLock gate)
    {
        int explicitChanges = 0;
        int switches = 0;
        var handled = new AsyncLocal<string>(change =>
        {
            if (change.ThreadContextChanged)
            {
                switches++;
            }
            else
            {
                explicitChanges++;
            }
        });
        var plain = new AsyncLocal<int>();

        // A context with a change handler in it: Restore would call OnValuesChanged for every swap.
        handled.Value = "request-7";
        plain.Value = 42;
        int rounds = 0;
        for (int i = 0; i < Rounds; i++)
        {
            var before = ExecutionContext.Capture();
            var acquisition = gate.AcquireAsync();
            Assert.True(acquisition.IsCompletedSuccessfully);
            using (acquisition.Result)
            {
                Assert.NotSame(before, ExecutionContext.Capture());
                Assert.True(gate.IsHeldByCurrentFlow);
                Assert.Equal("request-7", handled.Value);
                Assert.Equal(42, plain.Value);
            }

            Assert.Same(before, ExecutionContext.Capture());
            Assert.False(gate.IsHeldByCurrentFlow);
            Assert.Equal("request-7", handled.Value);
            rounds++;
        }

        return (rounds, explicitChanges, switches);
    }

    private static int RoundsFromTheDefaultContext(AsyncExclusiveLock gate)
    {
        var probe = new AsyncLocal<int>();
        int rounds = 0;
        for (int i = 0; i < Rounds; i++)
        {
            var before = ExecutionContext.Capture();
            Assert.Equal(0, probe.Value);
            var acquisition = gate.AcquireAsync();
            Assert.True(acquisition.IsCompletedSuccessfully);
            using (acquisition.Result)
            {
                Assert.True(gate.IsHeldByCurrentFlow);
                if (i % 100 == 0)
                {
                    // A task started inside the hold carries it.
                    Assert.True(Task.Run(() => gate.IsHeldByCurrentFlow).GetAwaiter().GetResult());
                }
            }

            Assert.Same(before, ExecutionContext.Capture());
            Assert.False(gate.IsHeldByCurrentFlow);
            if (i % 100 == 0)
            {
                // One started after the release does not.
                Assert.False(Task.Run(() => gate.IsHeldByCurrentFlow).GetAwaiter().GetResult());
            }

            rounds++;
        }

        return rounds;
    }

    /// <summary>
    /// Per round, two async methods called from this frame's context on this thread, each claiming in its own frame
    /// and staying suspended inside its hold while the other claims: the same base context, two live records.
    /// </summary>
    private static (int Checks, int FirstHeld, int SecondHeld) Interleave(AsyncExclusiveLock first, AsyncExclusiveLock second)
    {
        int checks = 0;
        int firstHeld = 0;
        int secondHeld = 0;
        for (int i = 0; i < Rounds; i++)
        {
            var before = ExecutionContext.Capture();
            var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var releaseSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var firstRun = HoldUntil(first, second, releaseFirst.Task);
            Assert.Same(before, ExecutionContext.Capture());
            var secondRun = HoldUntil(second, first, releaseSecond.Task);
            Assert.Same(before, ExecutionContext.Capture());

            // This frame holds neither; each method's frame holds only its own.
            Assert.False(first.IsHeldByCurrentFlow);
            Assert.False(second.IsHeldByCurrentFlow);
            checks++;

            releaseFirst.SetResult();
            releaseSecond.SetResult();
            firstHeld += firstRun.GetAwaiter().GetResult();
            secondHeld += secondRun.GetAwaiter().GetResult();
        }

        return (checks, firstHeld, secondHeld);
    }

    private static async Task<int> HoldUntil(AsyncExclusiveLock mine, AsyncExclusiveLock theirs, Task release)
    {
        using (await mine.AcquireAsync())
        {
            Assert.True(mine.IsHeldByCurrentFlow);
            await release;
            Assert.False(theirs.IsHeldByCurrentFlow);
            return mine.IsHeldByCurrentFlow ? 1 : 0;
        }
    }
}
