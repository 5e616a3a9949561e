using System;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// A late read of an ended wait, arriving while the first read of the node's next wait is inside its result and
/// before a second read of that wait, cannot let the second read through: of the next wait's reads, only the first
/// takes its result, so the pooled node is never recycled twice.
/// </summary>
public sealed class AsyncResultClaimRaceTests
{
    private static readonly FieldInfo s_source =
        typeof(ValueTask<AsyncLockScope>).GetField("_obj", BindingFlags.NonPublic | BindingFlags.Instance)!;

    private static readonly FieldInfo s_resultTaken =
        typeof(AsyncWaitNode).GetField("_resultTaken", BindingFlags.NonPublic | BindingFlags.Instance)!;

    /// <summary>
    /// The first read blocks on the queued wait (<c>.GetAwaiter().GetResult()</c>) and, having taken the result, waits
    /// for the lock's gate (held here) to withdraw it. Before, the late read swapped its stale token in over the first
    /// read's, and the second read, finding a token not its own, went on as if it were first: it too waited for the gate
    /// (a hang here), and both reads then recycled the node. Now the second read is refused at once.
    /// </summary>
    [Fact]
    public async Task ALateReadBetweenTheFirstAndSecondReadOfTheNextWait_DoesNotLetTheSecondThrough()
    {
        // Longer than the rounds' own hang guards, so a hang fails there, saying which wait never ended.
        await SharedNodeWaits.OnAThreadOfItsOwnAsync(() => Rounds(new AsyncExclusiveLock("result-claim-race")), Guard.HangLimit * 3);
    }

    private static void Rounds(AsyncExclusiveLock gate)
    {
        for (int round = 0; round < 5; round++)
        {
            var (ended, endedAwaiter) = SharedNodeWaits.EndedWait(gate);
            var holder = HeldByAnotherFlow.StartAsync(gate).WaitAsync(Guard.HangLimit).GetAwaiter().GetResult();
            var queued = gate.AcquireAsync();
            var node = s_source.GetValue(queued)!;
            Assert.Same(s_source.GetValue(ended), node);

            Exception? firstFailure = null;
            Exception? secondFailure = null;
            Worker first;
            using (var gateHeld = HeldOnOtherThread.Hold("queue-gate-holder", release =>
            {
                lock (((IAsyncWaitHost)gate).Gate)
                {
                    release.Wait();
                }
            }))
            {
                // The first read takes the result, finds the wait still queued and waits for the gate to withdraw it.
                first = Worker.Start("first-read", () => firstFailure = Record.Exception(() => queued.GetAwaiter().GetResult()));
                short token = GetToken(queued);
                Guard.SpinUntil(() => (int)s_resultTaken.GetValue(node)! == token, "the first read took the result");

                var late = Assert.Throws<InvalidOperationException>(() => endedAwaiter.GetResult());
                Assert.Contains("that was read already", late.Message, StringComparison.Ordinal);

                // While the first read still waits for the gate: refused at once, not waiting beside it.
                var second = Worker.Start("second-read", () => secondFailure = Record.Exception(() => queued.GetAwaiter().GetResult()));
                second.JoinGuarded();
                var refused = Assert.IsType<InvalidOperationException>(secondFailure);
                Assert.Contains("that was read already", refused.Message, StringComparison.Ordinal);
                Assert.False(first.HasEnded, "the first read ended before the gate was let go");
                gateHeld.Release();
            }

            first.JoinGuarded();

            // The first read withdrew the wait (a blocking read of a queued wait): told so, holding nothing.
            var withdrawn = Assert.IsType<InvalidOperationException>(firstFailure);
            Assert.Contains("The wait was withdrawn", withdrawn.Message, StringComparison.Ordinal);
            holder.ReleaseAsync().WaitAsync(Guard.HangLimit).GetAwaiter().GetResult();
            Assert.False(gate.IsHeld, $"round {round}");
            Assert.Equal(0, gate.WaitingCount);
        }
    }

    private static short GetToken(ValueTask<AsyncLockScope> task) =>
        (short)typeof(ValueTask<AsyncLockScope>).GetField("_token", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(task)!;
}
