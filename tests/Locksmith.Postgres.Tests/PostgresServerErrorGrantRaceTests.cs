using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The server grants a waiting session its advisory lock and, before that backend has woken up to return it, cancels its
/// statement (a <c>pg_cancel_backend</c>, or a <c>statement_timeout</c>, landing as the holder lets go). PostgreSQL then
/// fails the statement with 57014 but keeps the grant (a session lock outlives its aborted statement), as it does for a
/// <c>lock_timeout</c> racing a grant. The acquisition fails, so the session must not keep the key: it is given back, as
/// after a cancellation or a lock timeout. Before, the key stayed held by the session, which went back to the provider's
/// pool still holding it (an idle pooled connection is reset only when it is reused), and no other process could take it.
/// </summary>
public sealed class PostgresServerErrorGrantRaceTests
{
    private const int Rounds = 10;

    [Fact]
    public async Task AServerCancelLandingAsTheWaitIsGranted_LeavesTheKeyFree_AndNoConnectionOut()
    {
        await using var provider = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        int failed = 0;
        for (int round = 0; round < Rounds; round++)
        {
            string name = PostgresServer.Unique("grant_cancel");
            var wanted = provider.CreateExclusiveLock(name);
            var holder = await PostgresServer.HoldOnPlainSessionAsync(name);
            var waiting = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                try
                {
                    await using var scope = await wanted.AcquireAsync(TimeSpan.FromSeconds(60));
                    return (NpgsqlException?)null;
                }
                catch (NpgsqlException e)
                {
                    return e;
                }
            });

            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wanted.Key);
            int waiterPid = await WaitingPidAsync(watcher, wanted.Key);

            // In one statement of the holder's: the unlock grants the waiter, and the cancel reaches it before it woke up.
            await using (var letGoAndCancel = new NpgsqlCommand(
                "SELECT pg_catalog.pg_advisory_unlock($1), pg_catalog.pg_cancel_backend($2)", holder))
            {
                letGoAndCancel.Parameters.Add(new NpgsqlParameter<long> { TypedValue = wanted.Key.BigintValue });
                letGoAndCancel.Parameters.Add(new NpgsqlParameter<int> { TypedValue = waiterPid });
                await letGoAndCancel.ExecuteNonQueryAsync();
            }

            await holder.DisposeAsync();
            var error = await waiting.WaitAsync(PostgresServer.HangGuard);
            if (error is not null)
            {
                failed++;
                Assert.Equal(PostgresErrorCodes.QueryCanceled, Assert.IsType<PostgresException>(error.InnerException).SqlState);
            }

            // Nothing held in the books, no connection out, and no session of the server granted the key.
            Assert.Equal((0, 0, 0L, error is not null),
                (provider.HeldCount, provider.ConnectionsInUse, await PostgresListenerCleanupTests.GrantedOnServerAsync(name), error is not null));
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => wanted.TryAcquireAsync(TimeSpan.Zero)), name);
        }

        // The race was run: at least one cancel landed (each either beat the grant or followed it).
        Assert.True(failed > 0, "No cancel landed on a wait in any round.");
    }

    private static async Task<int> WaitingPidAsync(NpgsqlConnection watcher, AdvisoryKey key)
    {
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid AND objid = $2::oid AND objsubid = $3",
            watcher);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = key.SubId });
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
