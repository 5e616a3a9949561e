using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A cancelled wait, as the server sees it afterwards: the blocking statement has ended (the session is idle, no waiting
/// row in <c>pg_locks</c>), nothing was taken, the flow's other locks on the session are kept, and the session takes the
/// next lock. Counted in <c>pg_locks</c> and <c>pg_stat_activity</c>, not inferred from the provider's own books.
/// </summary>
public sealed class PostgresCancelledWaitTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACancelledWait_OfAFlowHoldingAnotherLock_EndsOnTheServer_AndTheSessionTakesTheLockLater(bool shared)
    {
        await using var provider = PostgresServer.Provider();
        await using var admin = await PostgresServer.OpenAsync();
        string name = PostgresServer.Unique("cancelled_wait");
        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(name);
        var other = await provider.CreateExclusiveLock(PostgresServer.Unique("cancelled_wait_other")).AcquireAsync();
        int pid = other.SessionProcessId;
        var prices = provider.CreateReadWriteLock(name);
        using var cancel = new CancellationTokenSource();
        var waiting = (shared
            ? prices.AcquireReadAsync(Timeout.InfiniteTimeSpan, cancel.Token)
            : prices.AcquireWriteAsync(Timeout.InfiniteTimeSpan, cancel.Token)).AsTask();
        await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, prices.Key);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(PostgresServer.HangGuard));

        Assert.Equal((1L, 0L), await AdvisoryRowsAsync(admin, pid));
        Assert.Equal("idle", await StateOfAsync(admin, pid));
        Assert.False(other.IsLost);

        await PostgresServer.UnlockAllAsync(holder);
        await using (var again = shared ? await prices.AcquireReadAsync(TimeSpan.FromSeconds(30)) : await prices.AcquireWriteAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(pid, again.SessionProcessId);
            Assert.Equal((2L, 0L), await AdvisoryRowsAsync(admin, pid));
        }

        await other.DisposeAsync();
        Assert.Equal((0L, 0L), await AdvisoryRowsAsync(admin, pid));
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task ASetCancelledWhileItsSecondKeyWaits_LeavesNoRowOfEitherKey_AndReturnsItsSession()
    {
        await using var provider = PostgresServer.Provider();
        await using var admin = await PostgresServer.OpenAsync();
        await using var otherProcess = PostgresServer.Provider();
        string name = PostgresServer.Unique("cancelled_set");
        var accounts = provider.CreateKeyedLock<long>(name);
        var theirs = otherProcess.CreateKeyedLock<long>(name);
        await using var elsewhere = await KeyHeldElsewhere.HoldAsync(() => theirs.AcquireAsync(2L));
        using var cancel = new CancellationTokenSource();
        var waiting = accounts.AcquireManyAsync([1L, 2L], Timeout.InfiniteTimeSpan, cancel.Token).AsTask();
        await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, accounts.KeyOf(2L));
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(PostgresServer.HangGuard));

        Assert.Contains($"'{accounts.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0L, await PostgresProviderDisposalTests.CountRowsAsync(admin, accounts.KeyOf(1L)));
        Assert.Equal(1L, await PostgresProviderDisposalTests.CountRowsAsync(admin, accounts.KeyOf(2L)));
    }

    /// <summary>The advisory locks <paramref name="pid"/> holds and waits for.</summary>
    private static async Task<(long Granted, long Waiting)> AdvisoryRowsAsync(NpgsqlConnection admin, int pid)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = $1",
            admin);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<string?> StateOfAsync(NpgsqlConnection admin, int pid)
    {
        await using var command = new NpgsqlCommand("SELECT state FROM pg_catalog.pg_stat_activity WHERE pid = $1", admin);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        return (string?)await command.ExecuteScalarAsync();
    }
}
