using System;
using System.Threading.Tasks;
using System.Transactions;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The provider's connections are sessions of its own, whatever the caller's connection string or ambient state says:
/// an ambient <see cref="TransactionScope"/> does not take them in, and a multiplexing connection string does not share them.
/// </summary>
public sealed class PostgresSessionSettingsTests
{
    [Fact]
    public async Task InsideATransactionScope_ATimeoutIsATimeout_AndAReleaseUnlocks()
    {
        await using var provider = PostgresServer.Provider();
        await using var elsewhere = PostgresServer.Provider();
        var ledger = provider.CreateExclusiveLock(PostgresServer.Unique("gB-ledger"));
        string reportName = PostgresServer.Unique("gB-report");
        var report = provider.CreateExclusiveLock(reportName);
        await using var heldElsewhere = await elsewhere.CreateExclusiveLock(reportName).AcquireAsync();

        // A service's unit of work: an ambient transaction that flows with the awaits, and locks taken inside it.
        using (var unitOfWork = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            var held = await ledger.AcquireAsync(TimeSpan.FromSeconds(30));

            // Enlisted, the refused wait (55P03) aborted the transaction the session was in, and the check after it
            // failed with 25P02: a session failure instead of the timeout.
            var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await report.AcquireAsync(TimeSpan.FromMilliseconds(200)));
            Assert.Equal(reportName, error.LockName);

            // Enlisted, the unlock failed in the aborted transaction (ignored), and the lock stayed on the pooled connection.
            await held.DisposeAsync();
            Assert.Equal(0, await GrantedCountAsync(ledger.Name));
            Assert.Equal(0, provider.ConnectionsInUse);
        }

        await using var again = await elsewhere.CreateExclusiveLock(ledger.Name).TryAcquireAsync(TimeSpan.Zero);
        Assert.True(again.IsAcquired);
    }

    [Fact]
    public async Task AMultiplexingConnectionString_StillHoldsEachLockOnOneSession()
    {
        // The application's connection string, shared with its queries, multiplexes them over the pool's connections.
        var multiplexing = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Multiplexing = true };
        await using var provider = new PostgresLockProvider(multiplexing.ConnectionString);
        await using var elsewhere = PostgresServer.Provider();
        var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("gB-nightly"));

        // Multiplexed, a connection has no session of its own: the acquisition failed on reading the session's backend pid.
        var held = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, held.SessionProcessId);
        Assert.Equal(1, await GrantedCountAsync(nightly.Name));
        await using (var refused = await elsewhere.CreateExclusiveLock(nightly.Name).TryAcquireAsync(TimeSpan.Zero))
        {
            Assert.False(refused.IsAcquired);
        }

        await held.DisposeAsync();
        Assert.Equal(0, await GrantedCountAsync(nightly.Name));
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    private static async Task<long> GrantedCountAsync(string name)
    {
        var key = AdvisoryKey.ForName(name);

        // The watcher's own connection stays out of the test's transaction.
        using var outside = new TransactionScope(TransactionScopeOption.Suppress, TransactionScopeAsyncFlowOption.Enabled);
        await using var connection = await PostgresServer.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::oid AND objid = $2::oid AND objsubid = 1",
            connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
