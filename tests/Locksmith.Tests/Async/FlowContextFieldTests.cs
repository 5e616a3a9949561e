using System;
using System.Globalization;
using System.Runtime.ExceptionServices;
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

    [Fact]
    public void AClaimThatMovesACachedRecord_FromAFrameCarryingADeadView_GivesBackTheFramesBase()
    {
        var gate = new AsyncExclusiveLock("ctx-moved");
        Assert.Equal(MovedRounds, OnNewThread(() => MovedRecordRounds(gate)));
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void FirstReadsEndedInTheirFrame_OrOnAnotherThread_GiveBackTheContextBefore()
    {
        var readWrite = new AsyncReadWriteLock();
        var inner = new AsyncExclusiveLock("ctx-read-inner");
        Assert.Equal(Rounds, OnNewThread(() => ReadRounds(readWrite, inner)));
        Assert.Equal(0, readWrite.CurrentReaderCount);
        Assert.False(inner.IsHeld);
    }

    [Fact]
    public void AContextChangedInsideTheHold_OrAReleaseInsideRunOnAnotherThread_EndsTheClaimAsRestoreWould()
    {
        var gate = new AsyncExclusiveLock("ctx-changed");
        Assert.Equal(ChangedRounds, OnNewThread(() => ChangedContextRounds(gate)));
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void KnownLimitation_ABaseCarryingADeadView_StillSharesTheClaimThatMakesItLive_OnTheDirectPath()
    {
        var gate = new AsyncExclusiveLock("ctx-dead-base");
        var other = new AsyncExclusiveLock("ctx-dead-base-other");
        Assert.Equal(MovedRounds, OnNewThread(() => DeadViewBaseRounds(gate, other)));
        Assert.False(gate.IsHeld);
        Assert.False(other.IsHeld);
    }

    private const int MovedRounds = 20;
    private const int ChangedRounds = 100;

    private static readonly AsyncLocal<string?> s_name = new();

    /// <summary>
    /// Per round, on one thread with a full cache: a claim on base B released on another thread (the frame keeps its dead
    /// view), then a claim from that frame, which claims as from B on the least recently cached record (another base's,
    /// whose base as the thread field held it must not survive the move). Its release must give back B itself.
    /// </summary>
    private static int MovedRecordRounds(AsyncExclusiveLock gate)
    {
        int rounds = 0;
        for (int r = 0; r < MovedRounds; r++)
        {
            var others = new ExecutionContext[5];
            for (int i = 0; i < others.Length; i++)
            {
                others[i] = ContextNamed($"x{i}-{r}");
            }

            for (int i = 0; i < 4; i++)
            {
                In(others[i], () => ClaimAndRelease(gate));
            }

            Assert.True(FlowOwnership.ReadsTheThreadContextDirectly);
            var based = ContextNamed($"b-{r}");
            In(based, () =>
            {
                var scope = Acquired(gate);
                var dead = ExecutionContext.Capture();
                RunOnNewThread(scope.Dispose, flow: true);
                Assert.False(gate.IsHeld);
                Assert.False(gate.IsHeldByCurrentFlow);

                // Fills this thread's cache again, with a record on a base of its own.
                In(others[4], () => ClaimAndRelease(gate));
                Assert.Same(dead, ExecutionContext.Capture());

                using (Acquired(gate))
                {
                    Assert.True(gate.IsHeldByCurrentFlow);
                    Assert.Equal($"b-{r}", s_name.Value);
                }

                Assert.Same(based, ExecutionContext.Capture());
                Assert.False(gate.IsHeldByCurrentFlow);
                ClaimAndRelease(gate);
                ClaimAndRelease(gate);
            });

            // The moved record's old base still claims and gives back its own context.
            In(others[1], () => ClaimAndRelease(gate));
            rounds++;
        }

        return rounds;
    }

    /// <summary>
    /// Per round: a context C made inside a claim on B (its view V, plus a value of its own) has a cached record of
    /// its own, claimed on C, at the front of the thread's cache; the fifth claim on B makes V live again. An acquisition
    /// from C then shares that claim, as the async local's look-up finds (README's known limitation), rather than
    /// claiming C's cached record: a base carrying a view is never claimed on without that look-up.
    /// </summary>
    private static int DeadViewBaseRounds(AsyncExclusiveLock gate, AsyncExclusiveLock other)
    {
        int rounds = 0;
        for (int r = 0; r < MovedRounds; r++)
        {
            var based = ContextNamed($"b-{r}");
            ExecutionContext? carrying = null;
            In(based, () =>
            {
                using (Acquired(gate))
                {
                    In(ExecutionContext.Capture()!, () =>
                    {
                        s_name.Value = $"c-{r}";
                        carrying = ExecutionContext.Capture();
                    });
                }
            });

            // Claims 2-4 on B: the next one reuses V.
            for (int i = 0; i < 3; i++)
            {
                In(based, () => ClaimAndRelease(gate));
            }

            // C's own record, claimed on C (a base that carries a view) round all its views, first in the thread's cache.
            for (int i = 0; i < 4; i++)
            {
                In(carrying!, () => ClaimAndRelease(other));
            }

            In(based, () =>
            {
                using (Acquired(gate))
                {
                    var inside = ExecutionContext.Capture()!;
                    In(carrying!, () =>
                    {
                        using (Acquired(other))
                        {
                            bool sharedWithB = false;
                            In(inside, () => sharedWithB = other.IsHeldByCurrentFlow);
                            Assert.True(sharedWithB, "C's acquisition should share the claim that made its view live");
                        }

                        Assert.Same(carrying, ExecutionContext.Capture());
                    });
                    Assert.True(gate.IsHeldByCurrentFlow);
                }

                Assert.Same(based, ExecutionContext.Capture());
            });
            Assert.False(other.IsHeld);
            rounds++;
        }

        return rounds;
    }

    private static int ReadRounds(AsyncReadWriteLock readWrite, AsyncExclusiveLock inner)
    {
        var handled = new AsyncLocal<int>(static _ => { });
        handled.Value = 5;
        s_name.Value = "reader";
        var based = ExecutionContext.Capture();
        int rounds = 0;
        for (int i = 0; i < Rounds; i++)
        {
            var read = readWrite.AcquireReadAsync();
            Assert.True(read.IsCompletedSuccessfully);
            if (i % 50 == 7)
            {
                // The first read ends on another thread: the frame keeps a dead view and holds nothing.
                RunOnNewThread(read.Result.Dispose, flow: true);
                Assert.False(readWrite.IsReadHeldByCurrentFlow);
                Assert.Equal(0, readWrite.CurrentReaderCount);
                read = readWrite.AcquireReadAsync();
                Assert.True(read.IsCompletedSuccessfully);
            }

            using (read.Result)
            {
                Assert.True(readWrite.IsReadHeldByCurrentFlow);
                if (i % 10 == 0)
                {
                    using (Acquired(inner))
                    {
                        Assert.True(inner.IsHeldByCurrentFlow);
                        Assert.True(readWrite.IsReadHeldByCurrentFlow);
                    }

                    Assert.False(inner.IsHeldByCurrentFlow);
                    Assert.True(readWrite.IsReadHeldByCurrentFlow);
                }
            }

            Assert.Same(based, ExecutionContext.Capture());
            Assert.False(readWrite.IsReadHeldByCurrentFlow);
            Assert.Equal(5, handled.Value);
            rounds++;
        }

        return rounds;
    }

    private static int ChangedContextRounds(AsyncExclusiveLock gate)
    {
        s_name.Value = "changed";
        var culture = CultureInfo.CurrentCulture;
        int rounds = 0;
        for (int i = 0; i < ChangedRounds; i++)
        {
            // A culture set inside the hold (an async local with a change handler): the frame keeps it, not the claim.
            var other = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            var scope = Acquired(gate);
            CultureInfo.CurrentCulture = other;
            scope.Dispose();
            Assert.False(gate.IsHeld);
            Assert.False(gate.IsHeldByCurrentFlow);
            Assert.Same(other, CultureInfo.CurrentCulture);
            Assert.False(Task.Run(() => gate.IsHeldByCurrentFlow).GetAwaiter().GetResult());
            ClaimAndRelease(gate);
            Assert.Same(other, CultureInfo.CurrentCulture);
            CultureInfo.CurrentCulture = culture;

            // Released with the flow suppressed.
            scope = Acquired(gate);
            using (ExecutionContext.SuppressFlow())
            {
                scope.Dispose();
            }

            Assert.False(gate.IsHeld);
            Assert.False(gate.IsHeldByCurrentFlow);
            ClaimAndRelease(gate);

            // Released inside ExecutionContext.Run of the claim's context on a thread started in the context before it.
            var before = ExecutionContext.Capture();
            scope = Acquired(gate);
            var inside = ExecutionContext.Capture()!;
            In(before!, () => RunOnNewThread(() => ExecutionContext.Run(inside, static state => ((IDisposable)state!).Dispose(), scope), flow: true));
            Assert.False(gate.IsHeld);
            Assert.False(gate.IsHeldByCurrentFlow);
            Assert.Same(inside, ExecutionContext.Capture());
            using (Acquired(gate))
            {
                Assert.True(gate.IsHeldByCurrentFlow);
            }

            Assert.Same(before, ExecutionContext.Capture());
            Assert.Equal("changed", s_name.Value);
            Assert.Same(culture, CultureInfo.CurrentCulture);
            rounds++;
        }

        return rounds;
    }

    private static AsyncLockScope Acquired(AsyncExclusiveLock gate)
    {
        var acquisition = gate.AcquireAsync();
        Assert.True(acquisition.IsCompletedSuccessfully);
        return acquisition.Result;
    }

    /// <summary>One claim and its end in the calling frame: the very context before comes back, with its values.</summary>
    private static void ClaimAndRelease(AsyncExclusiveLock gate)
    {
        var before = ExecutionContext.Capture();
        var name = s_name.Value;
        using (Acquired(gate))
        {
            Assert.True(gate.IsHeldByCurrentFlow);
            Assert.Equal(name, s_name.Value);
        }

        Assert.Same(before, ExecutionContext.Capture());
        Assert.False(gate.IsHeldByCurrentFlow);
    }

    [Fact]
    public void TwoFlowsWithContextsOfTheirOwn_TakingTurnsOnOneThread_EachClaimTheirOwnCachedRecordDirectly()
    {
        var first = new AsyncExclusiveLock("turns-first");
        var second = new AsyncExclusiveLock("turns-second");
        int direct = 0;
        int firstHeld = 0;
        int secondHeld = 0;
        var firstHolders = new System.Collections.Generic.HashSet<int>();
        var secondHolders = new System.Collections.Generic.HashSet<int>();
        Thread? turns = null;
        FlowOwnership.OlderCachedClaimForTests = () =>
        {
            if (ReferenceEquals(Thread.CurrentThread, turns))
            {
                direct++;
            }
        };

        try
        {
            turns = new Thread(() =>
            {
                var firstContext = ContextNamed("first");
                var secondContext = ContextNamed("second");
                for (int i = 0; i < Rounds; i++)
                {
                    In(firstContext, () => firstHeld += HoldOnce(first, second, firstHolders));
                    In(secondContext, () => secondHeld += HoldOnce(second, first, secondHolders));
                }
            });
            turns.Start();
            turns.Join();
        }
        finally
        {
            FlowOwnership.OlderCachedClaimForTests = null;
        }

        Assert.Equal(Rounds, firstHeld);
        Assert.Equal(Rounds, secondHeld);

        // Each flow kept one record of its own, round after round, and not the other's.
        Assert.Single(firstHolders);
        Assert.Single(secondHolders);
        Assert.NotEqual(Assert.Single(firstHolders), Assert.Single(secondHolders));

        // Both records are in the thread's cache after the first round; the one not claimed last is never the latest, so
        // every claim but the first few (each record makes its views, one per claim, before it can reuse them) took its
        // record from the older entries directly instead of going the general way.
        Assert.True(direct >= 2 * (Rounds - 8), $"{direct} of {2 * Rounds} claims took their record directly");
        Assert.False(first.IsHeld);
        Assert.False(second.IsHeld);
    }

    private static int HoldOnce(AsyncExclusiveLock mine, AsyncExclusiveLock theirs, System.Collections.Generic.HashSet<int> holders)
    {
        var acquisition = mine.AcquireAsync();
        Assert.True(acquisition.IsCompletedSuccessfully);
        using (acquisition.Result)
        {
            holders.Add(mine.HolderFlowId);
            return mine.IsHeldByCurrentFlow && !theirs.IsHeldByCurrentFlow ? 1 : 0;
        }
    }

    /// <summary>A context like the default one with only <see cref="s_name"/> set; the caller's context is unchanged.</summary>
    private static ExecutionContext ContextNamed(string name)
    {
        var saved = ExecutionContext.Capture()!;
        s_name.Value = name;
        var made = ExecutionContext.Capture()!;
        ExecutionContext.Restore(saved);
        return made;
    }

    private static void In(ExecutionContext context, Action body) => ExecutionContext.Run(context, static state => ((Action)state!)(), body);

    /// <summary>
    /// Runs on a thread of its own (its own thread-statics), with the caller's context or the default one (SuppressFlow's
    /// undo leaves the caller an equal context, not the same one).
    /// </summary>
    private static void RunOnNewThread(Action body, bool flow)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        if (flow)
        {
            thread.Start();
        }
        else
        {
            using (ExecutionContext.SuppressFlow())
            {
                thread.Start();
            }
        }

        thread.Join();
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private static T OnNewThread<T>(Func<T> body)
    {
        T result = default!;
        RunOnNewThread(() => result = body(), flow: false);
        return result;
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
