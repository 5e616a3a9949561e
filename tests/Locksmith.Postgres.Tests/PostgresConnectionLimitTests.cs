using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A server with no connection slot left (SQLSTATE 53300, too_many_connections): a real database of its own with a
/// CONNECTION LIMIT, which the test role may create (CREATEDB, as .ci/prerequisites grants), filled by the test.
/// </summary>
public sealed class PostgresConnectionLimitTests
{
    /// <summary>
    /// Before, the flow that could not open its session read "… could not open a PostgreSQL session …: 53300: too many
    /// connections …; check that the server is up and reachable, and the provider's connection string", which sends the
    /// reader to the wrong place; now the message names the SQLSTATE and its condition and says what to do. Nothing is
    /// lost: the refused flow holds nothing and keeps no connection, the other flow's lock stays held, and the refused
    /// flow gets its lock once a slot is free.
    /// </summary>
    [Fact]
    public async Task ASessionTheServerRefuses_For53300_NamesTheLockTheSqlStateAndWhatToDo_AndLosesNothing()
    {
        await using (var admin = await PostgresServer.OpenAsync())
        {
            // Superusers are exempt from a CONNECTION LIMIT: the test runs as the role .ci/prerequisites creates.
            await using var role = new NpgsqlCommand("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user", admin);
            Assert.False((bool)(await role.ExecuteScalarAsync())!, "The test role is a superuser, which no CONNECTION LIMIT applies to.");
        }

        string database = await CreateLimitedDatabaseAsync();

        var limited = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Database = database };
        try
        {
            await using (var provider = new PostgresLockProvider(new PostgresLockProviderOptions
            {
                ConnectionString = limited.ConnectionString,
                ConnectionBudget = 4,
                DefaultTimeout = TimeSpan.FromSeconds(60),
                LostLockCheckInterval = TimeSpan.FromMinutes(10),
            }))
            {
                var first = provider.CreateExclusiveLock("first");
                var second = provider.CreateExclusiveLock("second");

                // One slot for the first flow's session, the other for a plain connection: none is left.
                var held = await InFlowOfItsOwn(async () => await first.AcquireAsync());

                var filler = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(limited.ConnectionString) { Pooling = false }.ConnectionString);
                await filler.OpenAsync();

                var error = await Assert.ThrowsAsync<NpgsqlException>(() => InFlowOfItsOwn(async () => await second.AcquireAsync(TimeSpan.FromSeconds(30))));

                Assert.Contains("'second'", error.Message, StringComparison.Ordinal);
                Assert.Contains($"/{database}", error.Message, StringComparison.Ordinal);
                Assert.Contains("SQLSTATE 53300 (too_many_connections)", error.Message, StringComparison.Ordinal);
                Assert.Contains($"too many connections for database \"{database}\"", error.Message, StringComparison.Ordinal);
                Assert.Contains("no connection slot", error.Message, StringComparison.Ordinal);
                Assert.Contains("CONNECTION LIMIT", error.Message, StringComparison.Ordinal);
                Assert.Contains("max_connections", error.Message, StringComparison.Ordinal);
                Assert.DoesNotContain("credentials", error.Message, StringComparison.Ordinal);
                Assert.Equal("53300", Assert.IsType<PostgresException>(error.InnerException).SqlState);

                // Nothing lost: the refused flow holds nothing and keeps no connection; the first flow's lock is held.
                Assert.Equal(1, provider.ConnectionsInUse);
                Assert.Equal(1, provider.HeldCount);
                Assert.Equal(2, await SessionsOnAsync(database));
                Assert.False(held.LostToken.IsCancellationRequested);

                // A slot comes free: the refused lock is granted, and everything is given back. The slot is free once the
                // filler's backend has exited, a moment after its socket closed (bounded by iterations).
                await filler.DisposeAsync();
                for (int i = 0; i < 3000 && await SessionsOnAsync(database) > 1; i++)
                {
                    await Task.Delay(10);
                }

                var granted = await InFlowOfItsOwn(async () => await second.AcquireAsync(TimeSpan.FromSeconds(30)));

                Assert.Equal(2, provider.HeldCount);
                await granted.DisposeAsync();
                await held.DisposeAsync();
                Assert.Equal(0, provider.ConnectionsInUse);
                Assert.Equal(0, provider.HeldCount);
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    /// <summary>
    /// Before, every tick of the lost-lock check whose own connection the full server refused (53300) counted every hold
    /// as lost ("a hold nobody can confirm"), though the server still granted them all: their LostToken was cancelled and
    /// their flows could take no other lock. Now such a tick asks on the holding sessions' own connections: the holds stay,
    /// and a session the server ended is still found lost.
    /// </summary>
    [Fact]
    public async Task ALostLockCheckTheFullServerRefuses_KeepsTheHolds_AndStillFindsASessionTheServerEnded()
    {
        string database = await CreateLimitedDatabaseAsync();

        var limited = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Database = database };
        try
        {
            await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
            {
                ConnectionString = limited.ConnectionString,
                ConnectionBudget = 4,
                DefaultTimeout = TimeSpan.FromSeconds(60),
                LostLockCheckInterval = TimeSpan.FromMilliseconds(50),
            });
            var first = provider.CreateExclusiveLock("first");
            var second = provider.CreateExclusiveLock("second");

            // The first flow's session and the check's connection take the two slots; the second flow then takes the
            // check's connection while it is idle in the pool (refused, 53300, while a check uses it), so every later
            // check finds the server full.
            var held = await InFlowOfItsOwn(async () => await first.AcquireAsync());
            PostgresLockScope other = default;
            for (int i = 0; i < 500 && !other.IsAcquired; i++)
            {
                try
                {
                    other = await InFlowOfItsOwn(async () => await second.AcquireAsync());
                }
                catch (NpgsqlException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.TooManyConnections })
                {
                    await Task.Delay(10);
                }
            }

            Assert.True(other.IsAcquired);
            Assert.Equal(2, await SessionsOnAsync(database));

            // Several checks (every 50 ms) while the server is full: neither hold is counted lost. Counted, not slept for (a
            // fixed second on a loaded machine could pass before any check ran): each such check asks on the holding
            // sessions' own connections, which pg_stat_activity shows as the first session's latest query, with its start.
            var checks = new System.Collections.Generic.HashSet<DateTime>();
            await using (var watcher = await PostgresServer.OpenAsync())
            {
                for (int i = 0; i < 3000 && checks.Count < 3 && !held.LostToken.IsCancellationRequested && !other.LostToken.IsCancellationRequested; i++)
                {
                    if (await CheckStartedOnAsync(watcher, held.SessionProcessId) is { } start)
                    {
                        checks.Add(start);
                    }

                    await Task.Delay(10);
                }
            }

            Assert.False(held.LostToken.IsCancellationRequested, "The first hold was counted lost while the server still granted it.");
            Assert.False(other.LostToken.IsCancellationRequested, "The second hold was counted lost while the server still granted it.");
            Assert.True(checks.Count >= 3, $"Only {checks.Count} lost-lock check(s) asked on the holding session while the server was full.");

            // The server ends the first flow's session: the check still finds it lost, and not the other.
            await using (var admin = await PostgresServer.OpenAsync())
            {
                await using var end = new NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", admin);
                end.Parameters.Add(new NpgsqlParameter<int> { TypedValue = held.SessionProcessId });
                Assert.True((bool)(await end.ExecuteScalarAsync())!);
            }

            for (int i = 0; i < 3000 && !held.LostToken.IsCancellationRequested; i++)
            {
                await Task.Delay(10);
            }

            Assert.True(held.LostToken.IsCancellationRequested);
            Assert.False(other.LostToken.IsCancellationRequested);
            await other.DisposeAsync();
            await held.DisposeAsync();
            Assert.Equal(0, provider.HeldCount);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    /// <summary>
    /// A pooled connection the server ended while idle is replaced before the lock's statement runs; when no new one opens
    /// (here: no slot left), the flow was told "the server ended its wait with SQLSTATE 57P01 …; the flow's other locks on
    /// it went with it", though it had not waited and held nothing (a review of the replacement found it). Now it reads
    /// as any session the server refuses: 53300, what to do, nothing held, no connection kept.
    /// </summary>
    [Fact]
    public async Task AnEndedPooledConnection_WhoseReplacementTheFullServerRefuses_IsReportedAsARefusedSession()
    {
        string database = await CreateLimitedDatabaseAsync();

        var limited = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Database = database };
        var fillers = new System.Collections.Generic.List<NpgsqlConnection>();
        try
        {
            await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
            {
                ConnectionString = limited.ConnectionString,
                ConnectionBudget = 4,
                DefaultTimeout = TimeSpan.FromSeconds(60),
                LostLockCheckInterval = TimeSpan.FromMinutes(10),
            });
            var gate = provider.CreateExclusiveLock("refilled");

            // One connection goes back to the pool idle; the server then ends it.
            var first = await InFlowOfItsOwn(async () => await gate.AcquireAsync());
            await first.DisposeAsync();
            await using (var admin = await PostgresServer.OpenAsync())
            {
                await using var terminate = new NpgsqlCommand("SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE datname = $1", admin);
                terminate.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
                Assert.Equal(1L, (long)(await terminate.ExecuteScalarAsync())!);
            }

            for (int i = 0; i < 3000 && await SessionsOnAsync(database) > 0; i++)
            {
                await Task.Delay(10);
            }

            // Both slots taken: the ended connection cannot be replaced.
            for (int i = 0; i < 2; i++)
            {
                var filler = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(limited.ConnectionString) { Pooling = false }.ConnectionString);
                await filler.OpenAsync();
                fillers.Add(filler);
            }

            var error = await Assert.ThrowsAsync<NpgsqlException>(() => InFlowOfItsOwn(async () => await gate.AcquireAsync(TimeSpan.FromSeconds(30))));

            Assert.Contains("could not open a PostgreSQL session to acquire", error.Message, StringComparison.Ordinal);
            Assert.Contains("'refilled'", error.Message, StringComparison.Ordinal);
            Assert.Contains("SQLSTATE 53300 (too_many_connections)", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("57P01", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("other locks", error.Message, StringComparison.Ordinal);
            Assert.Equal("53300", Assert.IsType<PostgresException>(error.InnerException).SqlState);
            Assert.Equal(0, provider.ConnectionsInUse);
            Assert.Equal(0, provider.HeldCount);

            // A slot comes free: the lock is granted on a new connection.
            await fillers[0].DisposeAsync();
            fillers.RemoveAt(0);
            var granted = await InFlowOfItsOwn(async () => await gate.AcquireAsync(TimeSpan.FromSeconds(30)));
            Assert.True(granted.IsAcquired && !granted.IsLost);
            await granted.DisposeAsync();
            Assert.Equal(0, provider.ConnectionsInUse);
        }
        finally
        {
            foreach (var filler in fillers)
            {
                await filler.DisposeAsync();
            }

            NpgsqlConnection.ClearAllPools();
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    /// <summary>A database of the test's own with a CONNECTION LIMIT of 2, which the test fills.</summary>
    private static async Task<string> CreateLimitedDatabaseAsync()
    {
        string database = PostgresServer.Unique("limited");
        await using var admin = await PostgresServer.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\" TEMPLATE template0 CONNECTION LIMIT 2", admin);
        await create.ExecuteNonQueryAsync();
        return database;
    }

    /// <summary>Runs <paramref name="acquire"/> as a flow of its own (its own session).</summary>
    private static Task<PostgresLockScope> InFlowOfItsOwn(Func<Task<PostgresLockScope>> acquire)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(acquire);
        }
    }

    /// <summary>When the lost-lock check's query last started on backend <paramref name="pid"/>; null while its latest query is another.</summary>
    private static async Task<DateTime?> CheckStartedOnAsync(NpgsqlConnection watcher, int pid)
    {
        await using var command = new NpgsqlCommand(
            "SELECT query_start FROM pg_catalog.pg_stat_activity WHERE pid = $1 AND query LIKE '%unnest%'", watcher);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        return await command.ExecuteScalarAsync() is DateTime start ? start : null;
    }

    /// <summary>The server's sessions on <paramref name="database"/>, asked from another database.</summary>
    private static async Task<long> SessionsOnAsync(string database)
    {
        await using var watcher = await PostgresServer.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1", watcher);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
