using System;
using System.Linq;
using System.Threading;
using Locksmith.Testing.Support;

namespace Locksmith.Tests.Support;

/// <summary>
/// Two threads started inside a flow's hold (so tasks of one flow, sharing its holds) ask for one lock at the same
/// instant, round after round; README says one gets it and the other a <see cref="LockRecursionException"/> naming it.
/// </summary>
internal static class SiblingAsks
{
    /// <summary>
    /// Runs <paramref name="rounds"/> rounds of <paramref name="ask"/> (round r asks for the lock named
    /// <paramref name="lockName"/>(r); an empty scope counts as neither) and returns how many rounds did not end with
    /// exactly one holder and one refusal. <paramref name="tightSpins"/> is how long each meeting spins before it yields.
    /// </summary>
    public static int RoundsNotOneHolderAndOneRefusal(int rounds, Func<int, AsyncLockScope> ask, Func<int, string> lockName, int tightSpins) =>
        RoundsNotOneHolderAndOneRefusal(rounds, (r, _) => ask(r), lockName, tightSpins);

    /// <summary>
    /// As above, but each thread asks its own way: <paramref name="ask"/>(r, t) for thread t (0 or 1); a thread may do
    /// something else first (give up another hold), then ask. <paramref name="prepare"/>(r, t), if given, runs on each
    /// thread before the round's meeting (to take a hold the round gives up, say).
    /// </summary>
    public static int RoundsNotOneHolderAndOneRefusal(
        int rounds, Func<int, int, AsyncLockScope> ask, Func<int, string> lockName, int tightSpins, Action<int, int>? prepare = null)
    {
        var took = new int[rounds];
        var refused = new int[rounds];
        int lineUp = 0, answered = 0, released = 0;
        Concurrently.Run(2, thread =>
        {
            for (int r = 0; r < rounds; r++)
            {
                prepare?.Invoke(r, thread);
                Meet(ref lineUp, r, tightSpins);
                AsyncLockScope scope = default;
                try
                {
                    scope = ask(r, thread);
                    if (scope.IsAcquired)
                    {
                        Interlocked.Increment(ref took[r]);
                    }
                }
                catch (LockRecursionException error)
                {
                    Xunit.Assert.Contains($"'{lockName(r)}'", error.Message, StringComparison.Ordinal);
                    Interlocked.Increment(ref refused[r]);
                }

                // Both answered before either lets go, so a hold still held is what the other one met.
                Meet(ref answered, r, tightSpins);
                scope.Dispose();
                Meet(ref released, r, tightSpins);
            }
        });

        return Enumerable.Range(0, rounds).Count(r => took[r] != 1 || refused[r] != 1);
    }

    // Round r of two threads: each arrives, then reads the count in a tight loop (yielding only after a while, for a
    // loaded machine) until the other has, so both leave within a few nanoseconds of each other.
    private static void Meet(ref int arrivals, int round, int tightSpins)
    {
        Interlocked.Increment(ref arrivals);
        var spinner = default(SpinWait);
        for (int spins = 0; Volatile.Read(ref arrivals) < 2 * (round + 1); spins++)
        {
            if (spins > tightSpins)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }
}
