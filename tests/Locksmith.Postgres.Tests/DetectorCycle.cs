using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The cycle the deadlock detector's tests build through a distributed lock and an in-process one: a first flow holds the
/// distributed lock, then waits for the local lock; a second holds the local lock, then waits for the distributed lock
/// until the cycle is broken.
/// </summary>
internal static class DetectorCycle
{
    /// <summary>
    /// Builds the cycle, asks the detector (up to <paramref name="polls"/> times, 10 ms apart: a hang guard, not a
    /// measurement) for a cycle with an edge named <paramref name="lockName"/>, then breaks it: the second flow's wait is
    /// cancelled (asserted), and the first flow gets the local lock and ends. Returns the cycle found, or null.
    /// </summary>
    /// <param name="holdDistributed">The first flow's acquisition of the distributed lock.</param>
    /// <param name="local">The in-process lock.</param>
    /// <param name="waitForDistributed">The second flow's wait for the distributed lock, given the token that breaks the cycle.</param>
    /// <param name="lockName">The name of the distributed lock's edge (a keyed lock's key: <c>accounts[1]</c>).</param>
    /// <param name="polls">How many times the detector is asked at most.</param>
    public static async Task<DeadlockCycle?> FindAsync(
        Func<ValueTask<PostgresLockScope>> holdDistributed, AsyncExclusiveLock local, Func<CancellationToken, Task> waitForDistributed, string lockName, int polls)
    {
        var firstHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var breakTheCycle = new CancellationTokenSource();

        // A flow that fails before it signals hands its error to the other, which would otherwise wait for the signal for good.
        var first = Task.Run(async () =>
        {
            try
            {
                await using var held = await holdDistributed();
                firstHolds.SetResult();
                await secondHolds.Task.WaitAsync(PostgresServer.HangGuard);
                using var then = await local.AcquireAsync(TimeSpan.FromMinutes(2));
            }
            catch (Exception e)
            {
                firstHolds.TrySetException(e);
                throw;
            }
        });
        var second = Task.Run(async () =>
        {
            try
            {
                using var held = await local.AcquireAsync(PostgresServer.HangGuard);
                secondHolds.SetResult();
                await firstHolds.Task.WaitAsync(PostgresServer.HangGuard);
                await waitForDistributed(breakTheCycle.Token);
            }
            catch (Exception e)
            {
                secondHolds.TrySetException(e);
                throw;
            }
        });

        DeadlockCycle? found = null;
        for (int i = 0; i < polls && found is null; i++)
        {
            found = DeadlockDetector.FindCycles().FirstOrDefault(c => c.Edges.Any(e => e.LockName == lockName));
            if (found is null)
            {
                await Task.Delay(10);
            }
        }

        await breakTheCycle.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(PostgresServer.HangGuard));
        await first.WaitAsync(PostgresServer.HangGuard);
        return found;
    }
}
