using System;
using System.Threading;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// Two permits of one ordered semaphore, held by one flow and released from two threads at once: each release forgets
/// its own order entry, so afterwards the flow holds nothing of the semaphore's level (the old release could let both
/// clear one entry and leave the other behind, a phantom hold that refused every lower lock from then on).
/// </summary>
public sealed class SemaphorePermitsConcurrentReleaseTests
{
    // The old release left the phantom in about 1 round in 70 on 2 cores; a round is a few microseconds.
    private const int Rounds = 20_000;

    private readonly CountingSemaphore _permits = new(2, 2, "permits-concurrent-release", level: 10);
    private readonly AsyncExclusiveLock _below = new("permits-concurrent-release-below", level: 5);

    // Unordered: keeps the flow's record claimed across both releases, as an outer hold of a request would.
    private readonly AsyncExclusiveLock _outer = new("permits-concurrent-release-outer");
    private AsyncLockScope _second;
    private volatile int _round;
    private volatile int _released;
    private Exception? _failure;

    [Fact]
    public void TwoPermitsOfOneFlow_ReleasedAtOnce_LeaveNoOrderedHoldBehind()
    {
        int lowerTaken = RunRounds();

        Assert.Null(_failure);
        Assert.Equal(Rounds, lowerTaken);
        Assert.Equal(2, _permits.CurrentCount);
    }

    // Each acquisition completes at once (everything is free), in this frame, so this frame is the flow that holds.
    private int RunRounds()
    {
        Thread worker;
        using (ExecutionContext.SuppressFlow())
        {
            worker = new Thread(ReleaseSecondEachRound) { IsBackground = true };
            worker.Start();
        }

        int lowerTaken = 0;
        for (int round = 1; round <= Rounds && _failure is null; round++)
        {
            var outer = _outer.AcquireAsync().AsTask().GetAwaiter().GetResult();
            var first = _permits.AcquireAsync().AsTask().GetAwaiter().GetResult();
            _second = _permits.AcquireAsync().AsTask().GetAwaiter().GetResult();
            _round = round;

            // Sweeps the two releases' alignment.
            Thread.SpinWait(round % 64);
            first.Dispose();
            var spin = default(SpinWait);
            while (_released < round && _failure is null)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            // Neither permit is held now: a lock below the semaphore's level is in order.
            try
            {
                _below.AcquireAsync().AsTask().GetAwaiter().GetResult().Dispose();
                lowerTaken++;
            }
            catch (LockOrderViolationException exception)
            {
                Assert.Fail($"round {round}: both permits were released, yet the flow still holds the semaphore's level: {exception.Message}");
            }
            finally
            {
                outer.Dispose();
            }
        }

        _round = int.MaxValue;
        worker.Join();
        return lowerTaken;
    }

    private void ReleaseSecondEachRound()
    {
        try
        {
            for (int round = 1; round <= Rounds; round++)
            {
                // A tight spin, not SpinWait's yields: the release must start within a few hundred cycles of the other.
                while (_round < round)
                {
                    Thread.SpinWait(1);
                }

                if (_round == int.MaxValue)
                {
                    return;
                }

                _second.Dispose();
                _released = round;
            }
        }
        catch (Exception exception)
        {
            _failure = exception;
        }
    }
}
