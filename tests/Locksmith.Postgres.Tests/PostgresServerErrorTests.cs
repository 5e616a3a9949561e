using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A wait the server ends with an error other than a deadlock or a lock timeout says which lock and key, which SQLSTATE
/// and what the server said, with the server's <see cref="PostgresException"/> inside. Real server errors: another
/// connection ends the waiting backend (57P01) or cancels its statement (57014).
/// </summary>
public sealed class PostgresServerErrorTests
{
    /// <summary>
    /// Before, the ended session read "… when its PostgreSQL session failed: …", naming no SQLSTATE, and the cancelled
    /// statement was taken for a late cancel of the session's own and waited again, until the timeout.
    /// </summary>
    [Theory]
    [InlineData("pg_terminate_backend", "57P01", "terminating connection due to administrator command", "the server ended the session")]
    [InlineData("pg_cancel_backend", "57014", "canceling statement due to user request", "the session and the flow's other locks are kept")]
    public async Task AWaitTheServerEnds_NamesTheLockKeySqlStateAndTheServersMessage(string function, string sqlState, string serverMessage, string consequence)
    {
        await using var holderProvider = PostgresServer.Provider();
        await using var waiterProvider = PostgresServer.Provider();
        string name = PostgresServer.Unique("ended");
        var theirs = holderProvider.CreateKeyedLock<long>(name);
        var mine = waiterProvider.CreateKeyedLock<long>(name);
        await using var held = await theirs.AcquireAsync(7L);

        Task<PostgresLockScope> waiting;
        using (ExecutionContext.SuppressFlow())
        {
            waiting = Task.Run(async () => await mine.AcquireAsync(7L, TimeSpan.FromSeconds(30)));
        }

        await using (var watcher = await PostgresServer.OpenAsync())
        {
            int pid = await WaitingBackendAsync(watcher, mine.KeyOf(7L));
            await using var end = new NpgsqlCommand($"SELECT pg_catalog.{function}($1)", watcher);
            end.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
            Assert.True((bool)(await end.ExecuteScalarAsync())!);
        }

        var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await waiting);

        Assert.Contains($"'{name}'[7]", error.Message, StringComparison.Ordinal);
        Assert.Contains($"SQLSTATE {sqlState}", error.Message, StringComparison.Ordinal);
        Assert.Contains(serverMessage, error.Message, StringComparison.Ordinal);
        Assert.Contains(consequence, error.Message, StringComparison.Ordinal);
        Assert.Contains("flow #", error.Message, StringComparison.Ordinal);
        var inner = Assert.IsType<PostgresException>(error.InnerException);
        Assert.Equal(sqlState, inner.SqlState);
        Assert.Equal(0, waiterProvider.ConnectionsInUse);
        Assert.Equal(0, waiterProvider.HeldCount);
    }

    /// <summary>The backend pid of the session waiting (not granted) for <paramref name="key"/>; bounded by iterations.</summary>
    private static async Task<int> WaitingBackendAsync(NpgsqlConnection watcher, AdvisoryKey key)
    {
        for (int i = 0; i < 3000; i++)
        {
            await using var command = new NpgsqlCommand(
                "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid AND objid = $2::oid", watcher);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
            if (await command.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException($"No session started waiting for advisory lock {key}.");
    }
}
