using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The opening that replaces a pooled connection the server had ended (PostgresSession.ReconnectAsync) keeps to the
/// acquisition's timeout as a flow's first opening does (PostgresConnectTimeoutTests). Before, behind a relay that accepted
/// the new connection and answered nothing, it waited for the connection string's <c>Timeout</c> whatever the acquisition's.
/// </summary>
public sealed class PostgresReconnectTimeoutTests
{
    [Fact]
    public async Task AReplacementOfAStaleConnectionThatDoesNotOpenWithinTheTimeout_ThrowsSayingSo_HoldingNothing()
    {
        string application = PostgresServer.Unique("reconnect_timeout");
        await using var relay = new TcpRelay();
        await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            // Without TLS the relay is the only party to the opening; Timeout 1024 s (Npgsql's most) is far beyond the bound.
            ConnectionString = new NpgsqlConnectionStringBuilder(relay.ConnectionString)
            {
                SslMode = SslMode.Disable,
                Timeout = 1024,
                ApplicationName = application,
            }.ConnectionString,
            ConnectionBudget = 2,
            LostLockCheckInterval = TimeSpan.FromHours(1),
        });
        try
        {
            string name = PostgresServer.Unique("reconnect_timeout");
            var nightly = provider.CreateExclusiveLock(name);

            // One connection goes back to the pool, idle; the server then ends it there.
            await (await nightly.AcquireAsync(TimeSpan.FromSeconds(30))).DisposeAsync();
            await using (var admin = await PostgresServer.OpenAsync())
            {
                Assert.Equal(1L, await CountAsync(admin, "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application));
                for (int i = 0; i < 3000 && await CountAsync(admin, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application) > 0; i++)
                {
                    await Task.Delay(10);
                }
            }

            // The acquisition gets the ended connection from the pool, finds it ended, and opens a new one: held by the relay.
            relay.HoldNewConnections();
            var acquiring = nightly.AcquireAsync(TimeSpan.FromSeconds(1)).AsTask();
            var error = await Assert.ThrowsAsync<NpgsqlException>(() => acquiring.WaitAsync(TimeSpan.FromSeconds(60)));

            OpeningRanOut.AssertReported(error, relay, provider, $"'{name}'");

            // The opening finishes alone; the provider takes the lock again.
            relay.LetThrough();
            await using var scope = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
            Assert.True(scope.IsAcquired);
        }
        finally
        {
            relay.LetThrough();
        }
    }

    private static async Task<long> CountAsync(NpgsqlConnection admin, string sql, string application)
    {
        await using var command = new NpgsqlCommand(sql, admin);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = application });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
