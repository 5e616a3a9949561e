using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A lock set's wait for a member records that member's contention and wait, as the member's own acquisition does, however
/// the wait ends (granted, timed out, cancelled); a member taken at once records neither. The set's members are taken
/// through the single lock's acquisition (<c>AcquireReservedAsync</c>), which records them.
/// </summary>
public sealed class PostgresLockSetMetricsTests
{
    public enum Ending
    {
        Granted,
        TimedOut,
        Canceled,
    }

    [Theory]
    [InlineData(Ending.Granted)]
    [InlineData(Ending.TimedOut)]
    [InlineData(Ending.Canceled)]
    public async Task ASetThatWaitsForAMember_RecordsThatMembersContentionAndWait(Ending ending)
    {
        await using var provider = PostgresServer.Provider();
        string free = PostgresServer.Unique("set_metrics_free"), taken = PostgresServer.Unique("set_metrics_taken");
        using var freeCounts = new PostgresWaitEndingMetricsTests.Counts(free);
        using var takenCounts = new PostgresWaitEndingMetricsTests.Counts(taken);
        var freeLock = provider.CreateExclusiveLock(free);
        var takenLock = provider.CreateExclusiveLock(taken);
        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(taken);

        // The provider's pool gets its connection (opened, checked not a standby) now, so the timed-out set's budget is
        // spent waiting for the taken member, not opening its session: a budget spent before the member is reached tries it
        // once without waiting, which records no wait (a CI run on a loaded machine saw that with a 300 ms budget).
        await using (await freeLock.AcquireAsync())
        {
        }

        using var cancel = new CancellationTokenSource();
        var waiting = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            try
            {
                await using var set = await PostgresLockSet.TryAcquireAsync(
                    ending == Ending.TimedOut ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(60), [freeLock.Request(), takenLock.Request()], cancel.Token);
                return set.IsAcquired ? "granted" : "timed out";
            }
            catch (OperationCanceledException)
            {
                return "canceled";
            }
        });

        if (ending != Ending.TimedOut)
        {
            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, takenLock.Key);
            }

            if (ending == Ending.Canceled)
            {
                await cancel.CancelAsync();
            }
            else
            {
                await PostgresServer.UnlockAllAsync(holder);
            }
        }

        Assert.Equal(ending switch { Ending.Granted => "granted", Ending.TimedOut => "timed out", _ => "canceled" }, await waiting.WaitAsync(PostgresServer.HangGuard));
        await PostgresServer.UnlockAllAsync(holder);
        Assert.Equal((1, 1), takenCounts.Read());
        Assert.Equal((0, 0), freeCounts.Read());
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
