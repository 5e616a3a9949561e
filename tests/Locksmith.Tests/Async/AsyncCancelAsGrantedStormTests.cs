using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// An async set (and a striped lock's keys) waiting on a busy member whose token is cancelled at the moment the member is
/// released to it: the set either holds everything or throws its cancellation holding nothing, and after every round
/// each lock is free, each semaphore's permits are all back, nobody is queued and the waiting flow holds nothing.
/// </summary>
public sealed class AsyncCancelAsGrantedStormTests
{
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ACancellationRacingTheGrant_OfASetsOrAStripesWait_LeavesPermitsAndOwnershipExact()
    {
        var x = new AsyncExclusiveLock("cancel-as-granted-x");
        var permits = new CountingSemaphore(1, 1, "cancel-as-granted-permits");
        var striped = new AsyncStripedLock<int>(4, "cancel-as-granted-striped");
        int otherKey = 1;
        while (striped.StripeOf(otherKey) == striped.StripeOf(0))
        {
            otherKey++;
        }

        var random = new Random(20_261_205);
        for (int round = 0; round < 2_000; round++)
        {
            int shape = round % 4;
            using var cancel = new CancellationTokenSource();
            var held = await RunInOwnFlow(async () => await (shape switch
            {
                0 => x.AcquireAsync(),
                1 => permits.AcquireAsync(),
                _ => striped.AcquireAsync(0),
            })).WaitAsync(s_hangLimit);

            // The waiter, in a flow of its own, queues on the held member.
            var waiter = RunInOwnFlow(async () =>
            {
                try
                {
                    if (shape == 3)
                    {
                        var one = await striped.AcquireAsync(0, cancel.Token);
                        Assert.True(one.IsAcquired && striped.IsHeldByCurrentFlow(0));
                        one.Dispose();
                        return (true, Leftovers());
                    }

                    var scope = shape == 2
                        ? await striped.AcquireManyAsync([0, otherKey], cancel.Token)
                        : await LockSet.AcquireAsync([x, permits], cancel.Token);
                    Assert.True(scope.IsAcquired);
                    Assert.True(shape == 2 ? striped.IsHeldByCurrentFlow(otherKey) : x.IsHeldByCurrentFlow && permits.CurrentCount == 0);
                    scope.Dispose();
                    return (true, Leftovers());
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    return (false, Leftovers());
                }
            });
            Guard.SpinUntil(() => QueuedOn(shape) == 1 || waiter.IsCompleted);

            // The release of the holder's scope and the cancellation at one moment: the two threads meet, then each waits
            // a drawn while (the cancellation longer: its path to the queue's gate is the shorter), so either may come
            // first, or both at once (with a 0-4,000 draw, about one round in five was granted here; the rest cancelled).
            var meeting = new Meeting();
            int cancelLater = random.Next(0, 6_000);
            int releaseLater = random.Next(0, 50);
            var cancelling = Task.Run(() =>
            {
                meeting.Arrive();
                Thread.SpinWait(cancelLater);
                cancel.Cancel();
            });
            var releasing = Task.Run(() =>
            {
                meeting.Arrive();
                Thread.SpinWait(releaseLater);
                held.Dispose();
            });
            await Task.WhenAll(cancelling, releasing).WaitAsync(s_hangLimit);
            var (acquired, leftovers) = await waiter.WaitAsync(s_hangLimit);

            Assert.True(leftovers.Count == 0, $"round {round} (shape {shape}, granted: {acquired}): the waiting flow still held {string.Join(", ", leftovers)}");
            Assert.False(x.IsHeld, $"round {round} (shape {shape}, granted: {acquired})");
            Assert.Equal(1, permits.CurrentCount);
            Assert.Equal(0, x.WaitingCount + permits.QueuedAsyncWaiterCount);
            for (int stripe = 0; stripe < striped.StripeCount; stripe++)
            {
                Assert.False(striped.StripeAt(stripe).IsHeld, $"round {round} (shape {shape}): stripe {stripe} held");
                Assert.Equal(0, striped.StripeAt(stripe).WaitingCount);
            }
        }

        // What the flows left behind is nothing: every lock can be taken at once.
        using (var all = await LockSet.TryAcquireAsync(TimeSpan.Zero, [x, permits]))
        {
            Assert.True(all.IsAcquired);
        }

        using var stripes = await striped.TryAcquireManyAsync([0, 1, 2, 3, 4, 5, 6, 7], TimeSpan.Zero);
        Assert.True(stripes.IsAcquired);

        List<string> Leftovers()
        {
            // Read in the waiting flow, after its scope (if any) was disposed.
            var held = new List<string>();
            if (x.IsHeldByCurrentFlow)
            {
                held.Add(x.Name);
            }

            if (striped.IsHeldByCurrentFlow(0) || striped.IsHeldByCurrentFlow(otherKey))
            {
                held.Add(striped.Name);
            }

            if ((FlowOwnership.CurrentOrNull?.FlowHoldCount ?? 0) != 0)
            {
                held.Add($"{FlowOwnership.CurrentOrNull!.FlowHoldCount} hold(s) on its record");
            }

            return held;
        }

        int QueuedOn(int shape) => shape switch
        {
            0 => x.WaitingCount,
            1 => permits.QueuedAsyncWaiterCount,
            _ => striped.StripeAt(striped.StripeOf(0)).WaitingCount,
        };
    }

    /// <summary>Two threads spin until both arrived, so what each does next happens at about one moment.</summary>
    private sealed class Meeting
    {
        private int _arrived;

        public void Arrive()
        {
            Interlocked.Increment(ref _arrived);

            // Bounded by a count, not a clock: far beyond the time the other thread takes to start, even on a busy machine.
            for (long spins = 0; Volatile.Read(ref _arrived) < 2; spins++)
            {
                if (spins > 200_000_000)
                {
                    throw new TimeoutException("Hang guard: the other thread never arrived.");
                }

                if ((spins & 1023) == 1023)
                {
                    Thread.Yield();
                }
            }
        }
    }

    private static Task<T> RunInOwnFlow<T>(Func<Task<T>> body)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(body);
        }
    }
}
