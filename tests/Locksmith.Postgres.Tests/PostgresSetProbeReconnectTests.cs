using System;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A set listing one key through two providers that name the server differently, whose server will not say what it is,
/// asks the server whether the two are one with a probe key on each session. When the server ended the pooled connections
/// those sessions get (between two such sets), the probe's first statement finds its connection ended, and the probe
/// replaces it through the session's bounded opening (<c>PostgresSession.ReconnectAsync</c>) and asks again.
/// </summary>
[Collection(nameof(PostgresTestHookCollection))]
public sealed class PostgresSetProbeReconnectTests
{
    [Fact]
    public async Task ASetsProbe_OnConnectionsTheServerEndedInThePool_ReconnectsAndTakesTheKeyOnce()
    {
        string function = $"public.{PostgresServer.Unique("refused_control_system")}()";
        string application = PostgresServer.Unique("probe_reconnect");
        await using var admin = await PostgresServer.OpenAsync();
        await PostgresSameServerTests.ExecuteAsync(admin,
            $"CREATE FUNCTION {function} RETURNS TABLE (system_identifier bigint) LANGUAGE sql AS 'SELECT 1::bigint'; " +
            $"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, CURRENT_USER;");
        try
        {
            // No lost-lock check: its own connection, opened on a tick while the first set held (slowly, on a loaded machine),
            // can join the pool after the server ended the others (a loaded run saw 1 session where 0 is asserted below).
            await using var here = ProviderWithoutCheck($"{PostgresServer.ConnectionString};Application Name={application}", function);
            await using var there = ProviderWithoutCheck(
                $"{PostgresSameServerTests.ConnectionStringUnderOtherName()};Application Name={application}", function);
            string name = PostgresServer.Unique("probe_reconnect");
            PostgresLockRequest[] requests = [here.CreateExclusiveLock(name).Request(), there.CreateExclusiveLock(name).Request()];

            // The first set opens both sessions, proves them with its probes, and returns them to the pools.
            int first = await TakeOnceAsync(admin, here, there, requests);

            // Between the two sets the server ends every connection of the pools, idle there.
            Assert.True(await CountAsync(admin, "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application) >= 2);
            for (int i = 0; i < 3000 && await CountAsync(admin, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application) > 0; i++)
            {
                await Task.Delay(10);
            }

            Assert.Equal(0L, await CountAsync(admin, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application));

            // The second set's sessions get those ended connections: each probe finds its own ended, and replaces it.
            int second = await TakeOnceAsync(admin, here, there, requests);
            Assert.NotEqual(first, second);
            Assert.Null(here.ServerInstance);
            Assert.Null(there.ServerInstance);
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>
    /// The same, on a database with no connection slot left when the probe replaces its ended connection (a CONNECTION LIMIT
    /// of 2, filled after the server ended the pools' connections): the reconnect, refused (53300), fails the set with the
    /// opening's error naming the lock and the SQLSTATE; nothing is held or kept in use, and once slots are free again the
    /// set is taken, on new connections.
    /// </summary>
    [Fact]
    public async Task ASetsProbe_WhoseReconnectTheServerRefuses_FailsNamingTheLock_AndLeavesNothing()
    {
        string database = PostgresServer.Unique("probe_limited");
        string function = $"public.{PostgresServer.Unique("refused_control_system")}()";
        string application = PostgresServer.Unique("probe_refused");
        await using var admin = await PostgresServer.OpenAsync();
        await PostgresSameServerTests.ExecuteAsync(admin, $"CREATE DATABASE \"{database}\" TEMPLATE template0 CONNECTION LIMIT 2");
        var limited = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Database = database, ApplicationName = application };
        var unpooled = new NpgsqlConnectionStringBuilder(limited.ConnectionString) { Pooling = false }.ConnectionString;
        try
        {
            await using (var owner = new NpgsqlConnection(unpooled))
            {
                await owner.OpenAsync();
                await PostgresSameServerTests.ExecuteAsync(owner,
                    $"CREATE FUNCTION {function} RETURNS TABLE (system_identifier bigint) LANGUAGE sql AS 'SELECT 1::bigint'; " +
                    $"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, CURRENT_USER;");
            }

            await WaitForSessionsAsync(admin, database, atMost: 0);
            var otherName = new NpgsqlConnectionStringBuilder(PostgresSameServerTests.ConnectionStringUnderOtherName())
            {
                Database = database,
                ApplicationName = application,
            };
            await using var here = ProviderWithoutCheck(limited.ConnectionString, function);
            await using var there = ProviderWithoutCheck(otherName.ConnectionString, function);
            string name = PostgresServer.Unique("probe_refused");
            PostgresLockRequest[] requests = [here.CreateExclusiveLock(name).Request(), there.CreateExclusiveLock(name).Request()];

            // Both slots: the first set's two sessions, back in the pools; the server ends them, and two plain sessions fill the slots.
            int first = await TakeOnceAsync(admin, here, there, requests);
            Assert.Equal(2L, await CountAsync(admin, "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application));
            await WaitForSessionsAsync(admin, database, atMost: 0);
            var fillers = new[] { new NpgsqlConnection(unpooled), new NpgsqlConnection(unpooled) };
            foreach (var filler in fillers)
            {
                await filler.OpenAsync();
            }

            var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), requests));
            Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
            Assert.Contains("53300", error.Message, StringComparison.Ordinal);
            Assert.Contains("could not open a PostgreSQL session", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, here.HeldCount + there.HeldCount);
            Assert.Equal(0, here.ConnectionsInUse + there.ConnectionsInUse);

            foreach (var filler in fillers)
            {
                await filler.DisposeAsync();
            }

            await WaitForSessionsAsync(admin, database, atMost: 0);
            int again = await TakeOnceAsync(admin, here, there, requests);
            Assert.NotEqual(first, again);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    /// <summary>
    /// A provider that reads its identity from <paramref name="function"/> and runs no lost-lock check meanwhile: the check's
    /// own connection would take a slot, or join the pool after the server ended the connections there.
    /// </summary>
    private static PostgresLockProvider ProviderWithoutCheck(string connectionString, string function) =>
        new(new PostgresLockProviderOptions
            {
                ConnectionString = connectionString,
                ConnectionBudget = 4,
                DefaultTimeout = TimeSpan.FromSeconds(60),
                LostLockCheckInterval = TimeSpan.FromHours(1),
            },
            "idle_session_timeout",
            function);

    /// <summary>Waits (bounded by iterations) until <paramref name="database"/> has at most <paramref name="atMost"/> sessions.</summary>
    private static async Task WaitForSessionsAsync(NpgsqlConnection admin, string database, long atMost)
    {
        for (int i = 0; i < 3000; i++)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1", admin);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
            if ((long)(await command.ExecuteScalarAsync())! <= atMost)
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException($"Database {database} kept more than {atMost} sessions.");
    }

    /// <summary>
    /// Takes the set, which holds the key once (the server, asked, showed the two names are one), on a live session that
    /// holds nothing else (the probe's key given back); returns the holding backend's pid. Nothing is held or in use after.
    /// </summary>
    private static async Task<int> TakeOnceAsync(NpgsqlConnection admin, PostgresLockProvider here, PostgresLockProvider there, PostgresLockRequest[] requests)
    {
        int pid;
        await using (var scope = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), requests))
        {
            Assert.Equal(1, scope.Count);
            Assert.False(scope.LostToken.IsCancellationRequested);
            Assert.Equal(1, here.HeldCount + there.HeldCount);
            pid = await HolderOfAsync(admin, requests[0]);
            Assert.Equal(1L, await PostgresSameServerTests.AdvisoryLocksOfAsync(admin, pid));
        }

        Assert.Equal(0, here.HeldCount + there.HeldCount);
        Assert.Equal(0, here.ConnectionsInUse + there.ConnectionsInUse);
        return pid;
    }

    /// <summary>The backend holding <paramref name="request"/>'s advisory lock now.</summary>
    private static async Task<int> HolderOfAsync(NpgsqlConnection admin, PostgresLockRequest request)
    {
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::oid AND objid = $2::oid AND objsubid = $3", admin);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = request.Key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = request.Key.Lo });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = request.Key.SubId });
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> CountAsync(NpgsqlConnection admin, string sql, string application)
    {
        await using var command = new NpgsqlCommand(sql, admin);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = application });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
