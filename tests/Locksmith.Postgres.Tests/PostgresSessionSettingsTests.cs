using System;
using System.Threading;
using System.Threading.Tasks;
using System.Transactions;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The provider's connections are sessions of its own, whatever the caller's connection string or ambient state says:
/// an ambient <see cref="TransactionScope"/> does not take them in, a multiplexing connection string does not share them,
/// and a server's idle_session_timeout does not end them while they hold locks; the pool's reset still clears what a
/// connection returned with.
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
        await using var heldElsewhere = await KeyHeldElsewhere.HoldAsync(() => elsewhere.CreateExclusiveLock(reportName).AcquireAsync());

        // A service's unit of work: an ambient transaction that flows with the awaits, and locks taken inside it.
        using (var unitOfWork = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            var held = await ledger.AcquireAsync(TimeSpan.FromSeconds(30));

            // Enlisted, the refused wait (55P03) aborted the transaction the session was in, and the check after it
            // failed with 25P02: a session failure instead of the timeout. 2 s, so the server waits and refuses even on a
            // loaded machine (a budget spent before the statement makes it a try-once, which refuses nothing).
            var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await report.AcquireAsync(TimeSpan.FromSeconds(2)));
            Assert.Equal(reportName, error.LockName);

            // Enlisted, the unlock failed in the aborted transaction (ignored), and the lock stayed on the pooled connection.
            await held.DisposeAsync();
            Assert.Equal(0, await GrantedCountAsync(ledger.Name));
            Assert.Equal(0, provider.ConnectionsInUse);
        }

        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(ledger.Name).TryAcquireAsync(TimeSpan.Zero)));
    }

    [Fact]
    public async Task AMultiplexingConnectionString_StillHoldsEachLockOnOneSession()
    {
        // The application's connection string, shared with its queries, multiplexes them over the pool's connections.
        var multiplexing = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Multiplexing = true };
        await using var provider = new PostgresLockProvider(multiplexing.ConnectionString);
        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("gB-nightly"));

        // Multiplexed, a connection has no session of its own: the acquisition failed on reading the session's backend pid.
        var held = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, held.SessionProcessId);
        Assert.Equal(1, await GrantedCountAsync(nightly.Name));
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(nightly.Name).TryAcquireAsync(TimeSpan.Zero)));

        await held.DisposeAsync();
        Assert.Equal(0, await GrantedCountAsync(nightly.Name));
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task LocksHeldLongerThanTheServersIdleSessionTimeout_StayHeld_AndTheNextAcquisitionWorks()
    {
        // A DBA's idle_session_timeout (PostgreSQL 14+), given here by the connection string's options as a role or database
        // default would give it: a session that holds a lock is idle by design, and the server ended it, and its locks with it.
        var strict = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Options = "-c idle_session_timeout=200" };
        await using var waiting = new PostgresLockProvider(strict.ConnectionString);
        await using var polling = new PostgresLockProvider(strict.ConnectionString);
        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        var nightly = waiting.CreateExclusiveLock(PostgresServer.Unique("gB-nightly"));
        var leader = polling.CreateExclusiveLock(PostgresServer.Unique("gB-leader"));

        // The try-once's opening has 2 s at most: the polling provider's pool is opened first, with the same options.
        await PostgresServer.WarmUpAsync(polling);

        // Taken by the waiting form and by a try-once, each on a session of its own.
        var held = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
        var led = await leader.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(led.IsAcquired);

        // Idle while holding, for several of the server's idle timeouts (a wait for the server's timer, not a bound).
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        foreach (var (scope, name) in new[] { (held, nightly.Name), (led, leader.Name) })
        {
            Assert.False(scope.IsLost);
            Assert.Equal(1, await GrantedCountAsync(name));
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)));
        }

        // Released, their connections idle in the pool past the timeout too; the next acquisitions reuse them.
        await held.DisposeAsync();
        await led.DisposeAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        await using var heldAgain = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
        await using var ledAgain = await leader.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(ledAgain.IsAcquired);
        Assert.Equal(1, await GrantedCountAsync(nightly.Name));
        Assert.Equal(1, await GrantedCountAsync(leader.Name));
    }

    [Fact]
    public async Task ALockLeftOnAPooledConnection_IsClearedByThePoolsReset_WhichKeepsTheStartupOptions()
    {
        // The caller's options (an idle timeout, as a role default gives it, and a setting of its own) beside the provider's.
        var strict = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Options = "-c idle_session_timeout=200 -c work_mem=5MB" };
        await using var provider = new PostgresLockProvider(strict.ConnectionString);
        string name = PostgresServer.Unique("gB-leftover");

        // A lock left held on a healthy connection as it returns to the pool (what every session unlocks before it returns).
        int processId;
        await using (var connection = await provider.DataSource.OpenConnectionAsync())
        {
            processId = connection.ProcessID;
            await using var command = new NpgsqlCommand("SELECT pg_catalog.pg_advisory_lock($1)", connection);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryKey.ForName(name).BigintValue });
            await command.ExecuteScalarAsync();
        }

        // The same physical connection, reused: the pool's reset (DISCARD ALL) runs first and unlocks it, and returns the
        // session to its startup options, where the provider's idle_session_timeout=0 outranks the caller's.
        await using (var reused = await provider.DataSource.OpenConnectionAsync())
        {
            Assert.Equal(processId, reused.ProcessID);
            await using var command = new NpgsqlCommand("SELECT current_setting('idle_session_timeout') || ' ' || current_setting('work_mem')", reused);
            Assert.Equal("0 5MB", await command.ExecuteScalarAsync());
        }

        Assert.Equal(0, await GrantedCountAsync(name));
    }

    [Fact]
    public async Task AServerThatRefusesTheStartupParameter_AsOneBefore14Does_IsConnectedToWithoutIt()
    {
        // PostgreSQL 13 and older end a connection attempt that names idle_session_timeout, which they do not know (42704);
        // this server ends one that names a parameter it does not know the same way.
        var caller = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Options = "-c work_mem=5MB" };
        await using var provider = new PostgresLockProvider(
            new PostgresLockProviderOptions { ConnectionString = caller.ConnectionString, ConnectionBudget = 4 }, "gb_no_such_timeout");
        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("gB-nightly"));
        var leader = provider.CreateExclusiveLock(PostgresServer.Unique("gB-leader"));

        // The first connection meets the refusal; the provider connects without the parameter from then on.
        await using var held = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
        await using var led = await leader.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(led.IsAcquired);
        foreach (string name in new[] { nightly.Name, leader.Name })
        {
            Assert.Equal(1, await GrantedCountAsync(name));
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)));
        }

        // The health check's connection too; and the caller's own options are kept.
        await provider.PingAsync(CancellationToken.None);
        await using var connection = await provider.OpenConnectionAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT current_setting('work_mem')", connection);
        Assert.Equal("5MB", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task AServersStatementTimeout_DoesNotCutAWaitShort_WhichEndsInItsOwnTimeout()
    {
        // A DBA's statement_timeout, given here by the connection string's options as a role or database default would give
        // it: the server cancelled the lock's wait after 200 ms (57014, a "server ended the wait" NpgsqlException), long
        // before the acquisition's own timeout, and every other statement of the provider's too.
        var strict = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Options = "-c statement_timeout=200 -c work_mem=5MB" };
        await using var provider = new PostgresLockProvider(strict.ConnectionString);
        string name = PostgresServer.Unique("gB-statement");
        var nightly = provider.CreateExclusiveLock(name);
        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(name);

        // The 2 s go to the wait, well past the 200 ms statement_timeout, not to opening the session.
        await PostgresServer.WarmUpAsync(provider);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await nightly.AcquireAsync(TimeSpan.FromSeconds(2)).AsTask().WaitAsync(PostgresServer.HangGuard));
        Assert.Equal(name, error.LockName);
        Assert.Equal(0, provider.ConnectionsInUse);

        // The provider's sessions run with no statement_timeout; the caller's other options are kept.
        await using var connection = await provider.OpenConnectionAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT current_setting('statement_timeout') || ' ' || current_setting('work_mem')", connection);
        Assert.Equal("0 5MB", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task TheProvidersSessions_AskTheServerForTcpKeepalives_UnlessTheConnectionStringsOptionsSetThem()
    {
        // A holding session is idle for as long as it holds: with the server's default (the OS's, 2 hours on Linux), a
        // NAT or load balancer that dropped it, or a holder whose host vanished, kept other processes blocked that long.
        await using var provider = PostgresServer.Provider();
        Assert.Equal("30 10", await KeepalivesAsync(provider));

        // The caller's own choice wins, parameter by parameter.
        var tuned = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Options = "-c tcp_keepalives_idle=120" };
        await using var tunedProvider = new PostgresLockProvider(tuned.ConnectionString);
        Assert.Equal("120 10", await KeepalivesAsync(tunedProvider));

        // A lost-lock check that waits 2 minutes for an answer: the server's probes wait longer (8 of 25 s), so it never
        // frees a silent holder's locks for another process before the holder is told it lost them.
        await using var patient = new PostgresLockProvider(
            new PostgresLockProviderOptions { ConnectionString = PostgresServer.ConnectionString, LostLockCheckTimeout = TimeSpan.FromMinutes(2) });
        Assert.Equal("30 25", await KeepalivesAsync(patient));
    }

    [Fact]
    public async Task AServerThatRefusesOnlyTheIdleTimeout_AsOneBefore14Does_KeepsTheOtherStartupOptions()
    {
        // PostgreSQL 13 refuses idle_session_timeout alone (42704): statement_timeout and the keepalives it knows.
        var caller = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Options = "-c statement_timeout=200" };
        await using var provider = new PostgresLockProvider(
            new PostgresLockProviderOptions { ConnectionString = caller.ConnectionString, ConnectionBudget = 4 }, "gb_no_such_timeout");
        string name = PostgresServer.Unique("gB-before14");
        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(name);

        // The 2 s go to the wait, well past the 200 ms statement_timeout, not to the refused opening and the one after it.
        await PostgresServer.WarmUpAsync(provider);

        await Assert.ThrowsAsync<LockTimeoutException>(async () => await provider.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(2)).AsTask().WaitAsync(PostgresServer.HangGuard));
        await using var connection = await provider.OpenConnectionAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT current_setting('statement_timeout') || ' ' || current_setting('tcp_keepalives_idle')", connection);
        Assert.Equal("0 30", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task APgBouncerThatRefusesTheStartupOptions_GetsTheCallersOptionsAlone()
    {
        // PgBouncer ends a connection attempt whose options name a parameter it does not track (08P01): the pool the
        // provider switches to then carries the caller's options only, none of its own (this server stands in for it).
        var caller = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Options = "-c statement_timeout=200" };
        await using var provider = new PostgresLockProvider(
            new PostgresLockProviderOptions { ConnectionString = caller.ConnectionString, ConnectionBudget = 4 }, "gb_no_such_timeout");
        var refusal = new PostgresException("unsupported startup parameter in options: gb_no_such_timeout", "FATAL", "FATAL", PostgresErrorCodes.ProtocolViolation);
        Assert.True(provider.RefusedIdleSessionTimeout(provider.DataSource, refusal));

        await using var connection = await provider.SwitchToBefore14(refusal).OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('statement_timeout') || ' ' || current_setting('tcp_keepalives_idle')", connection);
        Assert.Equal("200ms 7200", await command.ExecuteScalarAsync());
    }

    private static async Task<string?> KeepalivesAsync(PostgresLockProvider provider)
    {
        await using var connection = await provider.OpenConnectionAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT current_setting('tcp_keepalives_idle') || ' ' || current_setting('tcp_keepalives_interval')", connection);
        return (string?)await command.ExecuteScalarAsync();
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
