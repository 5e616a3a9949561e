using System;
using System.Threading;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// A scope disposed from two threads at once: one release wins, the other throws, and nothing of the hold that
/// follows (its holder, its flow's order) is touched by the loser.
/// </summary>
public sealed class AsyncExclusiveLockConcurrentReleaseTests
{
    private const int Rounds = 200;

    // Ordered locks the holding flow takes above L each round: L's entry is then at the bottom of the flow's order
    // stack, so a release's bookkeeping is long enough for the loser to pass the token test before the winner frees
    // the lock in most rounds (the old release erased the next holder's record in 265 of 300 such rounds).
    private const int Above = 2_000;

    private const int Kept = 8;

    private readonly AsyncExclusiveLock _lock = new("concurrent-release-L", 30);
    private readonly AsyncExclusiveLock[] _above = new AsyncExclusiveLock[Above];
    private readonly int[] _finished = new int[2];
    private AsyncLockScope _scope;
    private volatile int _round;
    private int _losers;
    private int _nextHolds;
    private int _nextHoldsOwned;
    private Exception? _failure;

    [Fact]
    public void AScopeDisposedFromTwoThreadsAtOnce_ReleasesOnce_AndLeavesTheNextHoldersOwnershipAlone()
    {
        for (int i = 0; i < Above; i++)
        {
            _above[i] = new AsyncExclusiveLock($"concurrent-release-above-{i}", 31 + i);
        }

        RunRounds();

        Assert.Null(_failure);
        Assert.Equal(Rounds, _losers);
        Assert.Equal(Rounds, _nextHolds);
        Assert.Equal(Rounds, _nextHoldsOwned);
        Assert.False(_lock.IsHeld);
    }

    // Each round this thread's flow takes L and the locks above it (all free: each acquisition completes at once), and
    // the two threads dispose L's scope together.
    private void RunRounds()
    {
        // Held for the whole run, below L: they fill the flow's inline order entries, so L's sits in its order stack.
        var kept = new AsyncLockScope[Kept];
        for (int i = 0; i < Kept; i++)
        {
            kept[i] = new AsyncExclusiveLock($"concurrent-release-kept-{i}", 10 + i).AcquireAsync().AsTask().GetAwaiter().GetResult();
        }

        var scopes = new AsyncLockScope[Above];
        Thread[] workers;
        using (ExecutionContext.SuppressFlow())
        {
            // Flows of their own: the winner's next hold is another flow's, as a request's would be.
            workers = [new Thread(() => Dispose(0)), new Thread(() => Dispose(1))];
            foreach (var worker in workers)
            {
                worker.Start();
            }
        }

        for (int round = 1; round <= Rounds; round++)
        {
            _scope = _lock.AcquireAsync().AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < Above; i++)
            {
                scopes[i] = _above[i].AcquireAsync().AsTask().GetAwaiter().GetResult();
            }

            _round = round;
            var spin = default(SpinWait);
            while (Volatile.Read(ref _finished[0]) < round || Volatile.Read(ref _finished[1]) < round)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            for (int i = Above - 1; i >= 0; i--)
            {
                scopes[i].Dispose();
            }
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        for (int i = Kept - 1; i >= 0; i--)
        {
            kept[i].Dispose();
        }
    }

    private void Dispose(int me)
    {
        try
        {
            DisposeEachRound(me);
        }
        catch (Exception exception)
        {
            // Reported by the test; the rounds must not wait for this thread.
            _failure = exception;
            Volatile.Write(ref _finished[me], int.MaxValue);
        }
    }

    private void DisposeEachRound(int me)
    {
        int other = 1 - me;
        for (int round = 1; round <= Rounds; round++)
        {
            while (_round != round)
            {
                Thread.SpinWait(1);
            }

            try
            {
                _scope.Dispose();
            }
            catch (SynchronizationLockException)
            {
                Interlocked.Increment(ref _losers);
                Volatile.Write(ref _finished[me], round);
                continue;
            }

            // The winner takes L at once as a flow of its own, then waits for the loser to finish its release attempt.
            var next = _lock.TryAcquireAsync(TimeSpan.Zero).AsTask().GetAwaiter().GetResult();
            var spin = default(SpinWait);
            while (Volatile.Read(ref _finished[other]) < round)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            if (next.IsAcquired)
            {
                Interlocked.Increment(ref _nextHolds);
                if (_lock.IsHeldByCurrentFlow && _lock.HolderFlowId != 0)
                {
                    Interlocked.Increment(ref _nextHoldsOwned);
                }

                next.Dispose();
            }

            Volatile.Write(ref _finished[me], round);
        }
    }
}
