using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Postgres.Tests;

/// <summary>The lost-lock check marks a session lost only for a lock it still holds, never for one released meanwhile.</summary>
public sealed class PostgresLostCheckTests
{
    [Fact]
    public async Task AnAnswerAboutAHoldReleasedAfterTheSnapshot_DoesNotMarkTheFlowsSessionLost()
    {
        // The periodic check stays out of the way; the test plays its steps in the order of the race: the snapshot,
        // then the release (unregistered, then unlocked), then the server's answer that the lock is gone.
        await using var provider = PostgresServer.Provider(checkInterval: TimeSpan.FromHours(1));
        var kept = provider.CreateExclusiveLock(PostgresServer.Unique("lostcheck_kept"));
        var released = provider.CreateExclusiveLock(PostgresServer.Unique("lostcheck_released"));
        await using var keep = await kept.AcquireAsync();
        var scope = await released.AcquireAsync();

        var snapshot = new List<PostgresHold>();
        provider.SnapshotHolds(snapshot);
        int releasedIndex = snapshot.FindIndex(hold => hold.Key == released.Key);
        int keptIndex = snapshot.FindIndex(hold => hold.Key == kept.Key);
        Assert.True(releasedIndex >= 0 && keptIndex >= 0);
        await scope.DisposeAsync();

        provider.MarkLost(snapshot, [releasedIndex]);

        Assert.False(keep.IsLost);
        await using (var again = await released.AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.False(again.IsLost);
        }

        // The same answer about a lock the session still holds is a loss: the check itself still works.
        provider.MarkLost(snapshot, [keptIndex]);
        Assert.True(keep.IsLost);
        Assert.True(keep.LostToken.IsCancellationRequested);
    }

    /// <summary>
    /// A hold counted lost while its session's connection still works (the check could not confirm it: the server was
    /// unreachable for the check's own connection, or did not answer in time) gets no unlock, and its connection must not go
    /// back to the pool with the lock on it. Before, the connection was "discarded" with NpgsqlConnection.ClearPool, which
    /// clears only pools made from a connection string, not the provider's data source: the connection went back to the
    /// pool, and its backend kept the advisory lock, so another process could not take it.
    /// </summary>
    [Fact]
    public async Task AHoldCountedLostWhileItsConnectionWorks_IsNotPooledWithTheLock_SoAnotherProcessGetsIt()
    {
        await using var other = await PostgresServer.WarmedProviderAsync();
        await using var provider = PostgresServer.Provider(checkInterval: TimeSpan.FromHours(1));
        string name = PostgresServer.Unique("lostcheck_pooled");
        var mine = provider.CreateExclusiveLock(name);
        var scope = await mine.AcquireAsync();

        // The check's answer, played as the monitor gives it: the hold is counted lost, though the server still has it.
        var snapshot = new List<PostgresHold>();
        provider.SnapshotHolds(snapshot);
        provider.MarkLost(snapshot, [snapshot.FindIndex(hold => hold.Key == mine.Key)]);
        Assert.True(scope.IsLost);
        await scope.DisposeAsync();

        // The connection is closed, not pooled: its backend ends, and the server releases the lock with it.
        await using var watcher = await PostgresServer.OpenAsync();
        await PostgresProviderDisposalTests.WaitForRowsAsync(watcher, mine.Key, expected: 0);
        await using (var taken = await other.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero))
        {
            Assert.True(taken.IsAcquired);
        }
    }

    /// <summary>
    /// Before, when the server ended the lost-lock check's own connection while it was idle in the pool (here
    /// pg_terminate_backend of that backend alone), the next check failed on it and counted every hold as lost, though the
    /// holding sessions lived on and the server still granted their locks (a trial saw it twice). The check asks again on
    /// a new connection.
    /// </summary>
    [Fact]
    public async Task TheChecksOwnPooledConnectionEndedByTheServer_CostsNoHoldItsLock()
    {
        string application = PostgresServer.Unique("lostcheck_conn");
        await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = $"{PostgresServer.ConnectionString};Application Name={application}",
            ConnectionBudget = 4,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMilliseconds(50),
        });
        var mine = provider.CreateExclusiveLock(PostgresServer.Unique("lostcheck_conn"));
        await using var scope = await mine.AcquireAsync();
        await using var watcher = await PostgresServer.OpenAsync();

        // The check's connection: the provider's other backend, once a check has run on it.
        int checker = await WaitForCheckerAsync(watcher, application, scope.SessionProcessId, except: 0, () => false);
        await using (var terminate = new Npgsql.NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", watcher))
        {
            terminate.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = checker });
            Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
        }

        // A later check ran on a new connection (after one met the ended connection), or the hold was counted lost (then no
        // check asks about it any more).
        await WaitForCheckerAsync(watcher, application, scope.SessionProcessId, except: checker, () => scope.IsLost);
        Assert.False(scope.IsLost, "The hold was counted lost because the check's own pooled connection had been ended.");
    }

    /// <summary>
    /// The pid of a backend of <paramref name="application"/>, other than the holder and <paramref name="except"/>, that ran
    /// the check's query, or 0 once <paramref name="stop"/> says so (bounded by iterations).
    /// </summary>
    private static async Task<int> WaitForCheckerAsync(Npgsql.NpgsqlConnection watcher, string application, int holder, int except, Func<bool> stop)
    {
        for (int i = 0; i < 3000 && !stop(); i++)
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND pid <> $2 AND pid <> $3 AND query LIKE '%unnest%' LIMIT 1", watcher);
            command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = application });
            command.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = holder });
            command.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = except });
            if (await command.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            await Task.Delay(10);
        }

        return stop() ? 0 : throw new InvalidOperationException("No lost-lock check ran on a connection of its own.");
    }
}
