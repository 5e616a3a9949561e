using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Many flows wait on the server for one key, and all their waits end at once: cancelled by one token, or timed out
/// together, while the holder keeps the key or lets go of it as they end (so a grant may race each cancel or timeout).
/// Afterwards no advisory lock of the key is left in <c>pg_locks</c>, granted or waiting, no connection is out of the
/// budget, each waiter either got the lock (and released it) or got its cancellation or timeout, and the next acquirer
/// takes the key at once.
/// </summary>
public sealed class PostgresWaiterStormTests
{
    private const int Waiters = 12;
    private const int Rounds = 3;

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ManyWaitsEndingAtOnce_LeaveNothingHeldOrWaiting_AndTheNextAcquirerGetsTheKey(bool timeOut, bool holderLetsGo)
    {
        await using var provider = PostgresServer.Provider(budget: Waiters);
        for (int round = 0; round < Rounds; round++)
        {
            string name = PostgresServer.Unique("waiter_storm");
            var wanted = provider.CreateExclusiveLock(name);
            var holder = await PostgresServer.HoldOnPlainSessionAsync(name);
            using var cancel = new CancellationTokenSource();
            int granted = 0;

            // A timeout long enough for every waiter to start waiting on a loaded machine; each ends by it, or by the token.
            var timeout = timeOut ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(60);
            var waits = Enumerable.Range(0, Waiters).Select(_ => PostgresServer.InAFlowOfItsOwn(async () =>
            {
                try
                {
                    await using var scope = await wanted.AcquireAsync(timeout, cancel.Token);
                    Interlocked.Increment(ref granted);
                    return "granted";
                }
                catch (OperationCanceledException) when (!timeOut)
                {
                    return "canceled";
                }
                catch (LockTimeoutException) when (timeOut)
                {
                    return "timed out";
                }
            })).ToArray();

            await using (var watcher = await PostgresServer.OpenAsync())
            {
                if (!timeOut)
                {
                    await PostgresServer.WaitUntilWaitingAsync(watcher, wanted.Key, Waiters);
                    var letGo = holderLetsGo ? PostgresServer.UnlockAllAsync(holder) : Task.CompletedTask;
                    await cancel.CancelAsync();
                    await letGo;
                }
                else if (holderLetsGo)
                {
                    // Let go about when the waits time out: some may be granted as they give up.
                    await PostgresServer.WaitUntilWaitingAsync(watcher, wanted.Key, 1);
                    await Task.Delay(timeout - TimeSpan.FromMilliseconds(50));
                    await PostgresServer.UnlockAllAsync(holder);
                }

                string[] outcomes = await Task.WhenAll(waits).WaitAsync(PostgresServer.HangGuard);
                Assert.Equal(granted, outcomes.Count(static o => o == "granted"));
                if (!holderLetsGo)
                {
                    Assert.Equal(0, granted);
                }

                await PostgresServer.UnlockAllAsync(holder);
                await holder.DisposeAsync();

                Assert.Equal(0, provider.HeldCount);
                Assert.Equal(0, provider.ConnectionsInUse);
                Assert.Equal(0L, await AdvisoryRowsAsync(watcher, wanted.Key));
            }

            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => wanted.TryAcquireAsync(TimeSpan.Zero)), name);
        }
    }


    /// <summary>Every row of the key in pg_locks, granted or waiting, of every session.</summary>
    private static async Task<long> AdvisoryRowsAsync(NpgsqlConnection watcher, AdvisoryKey key)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid AND objsubid = $3",
            watcher);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = key.SubId });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
