using System;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The refusal of a standby, against a real one: <c>.ci/prerequisites</c> makes a streaming standby of the tests' server
/// (<see cref="PostgresServer.StandbyConnectionString"/>). The other standby tests ask a function of their own in
/// place of <c>pg_is_in_recovery()</c>; these ask the real one, on a server in recovery. A missing standby fails them.
/// </summary>
public sealed class PostgresRealStandbyTests
{
    /// <summary>
    /// Why a standby must be refused, on the real pair: it grants a key a session of the primary holds. The provider asks
    /// the server as its connection opens and refuses it, naming the server and the address it answered from, holding
    /// nothing and keeping no connection; a try-once is refused the same way.
    /// </summary>
    [Fact]
    public async Task ARealStandby_GrantsAKeyThePrimaryHolds_SoTheProviderRefusesIt_AndHoldsNothing()
    {
        await using var primary = await PostgresServer.OpenAsync();
        await using var standby = new NpgsqlConnection(PostgresServer.StandbyConnectionString);
        await standby.OpenAsync();
        Assert.True(await ScalarAsync<bool>(standby, "SELECT pg_catalog.pg_is_in_recovery()"));
        Assert.False(await ScalarAsync<bool>(primary, "SELECT pg_catalog.pg_is_in_recovery()"));

        long key = Random.Shared.NextInt64();
        Assert.True(await ScalarAsync<bool>(primary, $"SELECT pg_catalog.pg_try_advisory_lock({key})"));
        try
        {
            // Held on the primary, granted on the standby: a lock taken there excludes nothing.
            Assert.True(await ScalarAsync<bool>(standby, $"SELECT pg_catalog.pg_try_advisory_lock({key})"));
            Assert.True(await ScalarAsync<bool>(standby, $"SELECT pg_catalog.pg_advisory_unlock({key})"));
        }
        finally
        {
            Assert.True(await ScalarAsync<bool>(primary, $"SELECT pg_catalog.pg_advisory_unlock({key})"));
        }

        string answeredFrom = await ScalarAsync<string>(standby, "SELECT host(pg_catalog.inet_server_addr()) || ':' || pg_catalog.inet_server_port()");
        var settings = new NpgsqlConnectionStringBuilder(PostgresServer.StandbyConnectionString);
        await using var provider = Provider(PostgresServer.StandbyConnectionString);
        var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("real_standby_nightly"));

        for (int attempt = 0; attempt < 2; attempt++)
        {
            var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await nightly.AcquireAsync(TimeSpan.FromSeconds(30)));

            Assert.Contains(
                $"The PostgreSQL server at {settings.Host}:{settings.Port} (database {settings.Database}) is in recovery, a standby " +
                $"(pg_is_in_recovery() is true; it answered from {answeredFrom})",
                error.Message,
                StringComparison.Ordinal);
            Assert.Contains($"could not open a PostgreSQL session to acquire '{nightly.Name}'", error.Message, StringComparison.Ordinal);
            PostgresStandbyRefusalTests.AssertRefusedHoldingNothing(error, provider, nightly);
        }

        var tryOnce = await Assert.ThrowsAsync<NpgsqlException>(async () => await nightly.TryAcquireAsync(TimeSpan.Zero));
        Assert.Contains("is in recovery, a standby", tryOnce.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.HeldCount);
    }

    /// <summary>
    /// A service registered with <c>AddPostgres</c> on the standby: its <c>locksmith-postgres</c> health check reports
    /// Unhealthy, saying the server is not the primary (not that it does not answer).
    /// </summary>
    [Fact]
    public async Task TheHealthCheck_OfAServiceOnARealStandby_SaysItIsNotThePrimary()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(PostgresServer.StandbyConnectionString);
        services.AddHealthChecks().AddLocksmithPostgres();
        await using var container = services.BuildServiceProvider();
        var provider = container.GetRequiredService<PostgresLockProvider>();

        var entry = (await container.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["locksmith-postgres"];

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.StartsWith($"The PostgreSQL server of the distributed locks ({provider.ServerIdentity}) is not the primary: ", entry.Description, StringComparison.Ordinal);
        Assert.Contains("is in recovery, a standby", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("does not answer", entry.Description, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>
    /// PostgreSQL 14 and later report <c>in_hot_standby</c> as each connection starts: a primary's "off" settles the check,
    /// so the provider's new connections there cost no recovery round trip; the standby reports "on" and is still asked
    /// (its refusal names the address it answered from).
    /// </summary>
    [Fact]
    public async Task APrimaryReportingItIsNotInHotStandby_IsNotAsked_AndTheStandbyIs()
    {
        await using var primary = await PostgresServer.OpenAsync();
        Assert.Equal("off", primary.PostgresParameters["in_hot_standby"]);
        await using var standby = new NpgsqlConnection(PostgresServer.StandbyConnectionString);
        await standby.OpenAsync();
        Assert.Equal("on", standby.PostgresParameters["in_hot_standby"]);

        await using var onPrimary = Provider(PostgresServer.ConnectionString);
        await PostgresServer.WarmUpAsync(onPrimary, sessions: 2);
        await using (var held = await onPrimary.CreateExclusiveLock(PostgresServer.Unique("reported_primary")).AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.True(held.IsAcquired);
        }

        Assert.Equal(0, onPrimary.RecoveryQueriesForTests);

        await using var onStandby = Provider(PostgresServer.StandbyConnectionString);
        var refused = await Assert.ThrowsAsync<NpgsqlException>(async () =>
            await onStandby.CreateExclusiveLock(PostgresServer.Unique("reported_standby")).AcquireAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("is in recovery, a standby (pg_is_in_recovery() is true; it answered from", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, onStandby.RecoveryQueriesForTests);
    }

    private static PostgresLockProvider Provider(string connectionString) =>
        new(new PostgresLockProviderOptions
        {
            ConnectionString = connectionString,
            ConnectionBudget = 2,
            LostLockCheckInterval = TimeSpan.FromHours(1),
        });

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
