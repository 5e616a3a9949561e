using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// A caller blocking on the ValueTask of a queued wait (a misuse the wait answers by withdrawing itself) while the lock is
/// released to that very wait: whichever comes first, the caller gets the hold or is told the wait was withdrawn, and the
/// lock is never left granted to nobody. (Completing grants from a work item of their own, tried for contended
/// throughput, opened such a window between the grant and its completion; this test caught it.)
/// </summary>
public sealed class GrantDispatchTests
{
    [Fact]
    public async Task ABlockingReadOfAWaitGrantedAtThatMoment_GetsTheHoldOrIsToldItWasWithdrawn_AndTheLockIsNeverLost()
    {
        var gate = new AsyncExclusiveLock("grant-dispatch-race");
        int granted = 0;
        int withdrawn = 0;
        using var start = new Barrier(2);
        for (int round = 0; round < 3_000; round++)
        {
            var held = await gate.AcquireAsync();

            // A flow of its own queues behind the holder (flow suppressed: not a task of the holder's flow).
            Task<ValueTask<AsyncLockScope>> queueing;
            using (ExecutionContext.SuppressFlow())
            {
                queueing = Task.Run(() => gate.AcquireAsync());
            }

            var waiting = await queueing;

            Assert.Equal(1, gate.WaitingCount);
            var release = Task.Run(() =>
            {
                start.SignalAndWait();
                held.Dispose();
            });

            var read = Task.Run(() =>
            {
                start.SignalAndWait();
                try
                {
                    // Before the grant: withdrawn. After it, with its work item run or not: the hold.
                    waiting.GetAwaiter().GetResult().Dispose();
                    return true;
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("The wait was withdrawn", StringComparison.Ordinal))
                {
                    return false;
                }
            });

            if (await read)
            {
                granted++;
            }
            else
            {
                withdrawn++;
            }

            await release;
            Assert.False(gate.IsHeld);
            Assert.Equal(0, gate.WaitingCount);
        }

        Assert.Equal(3_000, granted + withdrawn);
    }
}
