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
        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) ", error.Message);
        var inner = Assert.IsType<PostgresException>(error.InnerException);
        Assert.Equal(sqlState, inner.SqlState);
        Assert.Equal(0, waiterProvider.ConnectionsInUse);
        Assert.Equal(0, waiterProvider.HeldCount);
    }

    /// <summary>
    /// The session's own cancel of an earlier wait (here the caller's token, cancelled as the wait was granted) reached
    /// the server only after that wait ended, while the session was idle, and so cancelled nothing. Before, the session
    /// kept counting it as a cancel that might still land, and took the next 57014, a pg_cancel_backend on a later wait,
    /// for it: that wait was issued again until its timeout (a LockTimeoutException blaming the holder). Now the session
    /// knows its own cancel is spent, and the later cancel is the server's error.
    /// </summary>
    [Fact]
    public async Task AServerCancel_AfterTheSessionsOwnCancelCameTooLate_IsTheServersError()
    {
        await using var relay = new TcpRelay();
        await using var holderProvider = PostgresServer.Provider();
        await using var waiterProvider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = relay.ConnectionString,
            ConnectionBudget = 4,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            // No check while the relay holds new connections: it would find none and count the holds lost.
            LostLockCheckInterval = TimeSpan.FromMinutes(10),
        });
        string name = PostgresServer.Unique("late");
        var theirs = holderProvider.CreateKeyedLock<long>(name);
        var mine = waiterProvider.CreateKeyedLock<long>(name);
        var anchor = waiterProvider.CreateExclusiveLock(PostgresServer.Unique("anchor"));
        await using var watcher = await PostgresServer.OpenAsync();

        Task<PostgresLockScope> firstHeld, secondHeld;
        using (ExecutionContext.SuppressFlow())
        {
            firstHeld = Task.Run(async () => await theirs.AcquireAsync(1L));
            secondHeld = Task.Run(async () => await theirs.AcquireAsync(2L));
        }

        var first = await firstHeld;
        var second = await secondHeld;

        // This flow's session is open (through the relay) and stays open: the flow holds the anchor throughout.
        await using var anchored = await anchor.AcquireAsync();

        // The wait for key 1 is cancelled, but the cancel request is held on its way while the wait is granted.
        relay.HoldNewConnections();
        using var cts = new CancellationTokenSource();
        var granted = mine.AcquireAsync(1L, cts.Token).AsTask();
        int pid = await WaitingBackendAsync(watcher, mine.KeyOf(1L));
        _ = Task.Run(cts.Cancel);
        for (int i = 0; i < 3000 && relay.HeldConnections == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, relay.HeldConnections);
        await first.DisposeAsync();
        await WaitUntilHeldByAsync(watcher, pid, mine.KeyOf(1L));
        relay.LetThrough();
        await using (await granted)
        {
        }

        // A pg_cancel_backend on a later wait of the same session is the server's, not the late arrival of the session's own.
        // The cancel ends the wait: its timeout only has to outlast the test's way to the cancel on a loaded machine (past
        // 10 s, the wait timed out instead: a LockTimeoutException).
        var waiting = mine.AcquireAsync(2L, TimeSpan.FromSeconds(60)).AsTask();
        Assert.Equal(pid, await WaitingBackendAsync(watcher, mine.KeyOf(2L)));
        await using (var cancel = new NpgsqlCommand("SELECT pg_catalog.pg_cancel_backend($1)", watcher))
        {
            cancel.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
            Assert.True((bool)(await cancel.ExecuteScalarAsync())!);
        }

        var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await waiting);
        Assert.Contains($"'{name}'[2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("SQLSTATE 57014", error.Message, StringComparison.Ordinal);
        Assert.Equal(PostgresErrorCodes.QueryCanceled, Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.True(anchor.IsHeldByCurrentFlow);
        Assert.Equal(1, waiterProvider.HeldCount);
        await second.DisposeAsync();
    }

    /// <summary>Waits (bounded by iterations) until backend <paramref name="pid"/> holds <paramref name="key"/>.</summary>
    private static async Task WaitUntilHeldByAsync(NpgsqlConnection watcher, int pid, AdvisoryKey key)
    {
        for (int i = 0; i < 3000; i++)
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1 AND classid = $2::oid AND objid = $3::oid", watcher);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException($"Backend {pid} was not granted advisory lock {key}.");
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
