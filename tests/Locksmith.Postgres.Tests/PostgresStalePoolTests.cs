using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>Connections the server ended while they were idle in the provider's pool do not fail the acquisitions that get them.</summary>
public sealed class PostgresStalePoolTests
{
    /// <summary>
    /// Before, after the server ended the pool's idle connections (a restart, or pg_terminate_backend), each acquisition
    /// that got one failed with "… when the server ended its wait with SQLSTATE 57P01 …", though it had not waited, the
    /// lock was free and the server was up again (a trial saw all four acquisitions made at once after a restart fail, and
    /// the next four succeed). Such a connection is found ended before the lock's statement ran, and is replaced.
    /// </summary>
    [Fact]
    public async Task ConnectionsTheServerEndedWhileIdleInThePool_AreReplaced_AndEachAcquisitionSucceeds()
    {
        string application = PostgresServer.Unique("stale");
        await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = $"{PostgresServer.ConnectionString};Application Name={application}",
            ConnectionBudget = 4,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromHours(1),
        });
        string name = PostgresServer.Unique("stale_pool");
        var locks = Enumerable.Range(0, 3).Select(i => provider.CreateExclusiveLock($"{name}_{i}")).ToArray();

        // Three flows hold at once, so three connections go back to the pool, where they stay idle.
        var scopes = new PostgresLockScope[locks.Length];
        for (int i = 0; i < locks.Length; i++)
        {
            var gate = locks[i];
            scopes[i] = await InFlowOfItsOwn(async () => await gate.AcquireAsync());
        }

        foreach (var scope in scopes)
        {
            await scope.DisposeAsync();
        }

        await using (var admin = await PostgresServer.OpenAsync())
        {
            Assert.Equal(3L, await CountAsync(admin, "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application));
            for (int i = 0; i < 3000 && await CountAsync(admin, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application) > 0; i++)
            {
                await Task.Delay(10);
            }
        }

        // Three flows at once: each gets one of the ended connections from the pool.
        var again = await Task.WhenAll(locks.Select(gate => InFlowOfItsOwn(async () => await gate.AcquireAsync(TimeSpan.FromSeconds(30)))));

        Assert.All(again, scope => Assert.True(scope.IsAcquired && !scope.IsLost));
        Assert.Equal(3, provider.HeldCount);
        foreach (var scope in again)
        {
            await scope.DisposeAsync();
        }

        Assert.Equal(0, provider.ConnectionsInUse);
    }

    private static Task<PostgresLockScope> InFlowOfItsOwn(Func<Task<PostgresLockScope>> acquire)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(acquire);
        }
    }

    private static async Task<long> CountAsync(NpgsqlConnection admin, string sql, string application)
    {
        await using var command = new NpgsqlCommand(sql, admin);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = application });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
