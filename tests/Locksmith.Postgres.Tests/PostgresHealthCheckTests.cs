using System;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The <c>locksmith-postgres</c> health check against a real server: Healthy while it answers and the budget has room,
/// Degraded while the locks hold every connection of it, Unhealthy when the server does not answer.
/// </summary>
public sealed class PostgresHealthCheckTests
{
    [Fact]
    public async Task TheCheck_IsHealthy_DegradedWhileTheBudgetIsFull_AndHealthyAgainAfter()
    {
        string name = PostgresServer.Unique("health-nightly");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString, o => o.ConnectionBudget = 1).AddPostgresExclusiveLock(name);
        services.AddHealthChecks().AddLocksmithPostgres(tags: ["ready"]);
        await using var container = services.BuildServiceProvider();
        var health = container.GetRequiredService<HealthCheckService>();
        var nightly = container.GetRequiredKeyedService<PostgresExclusiveLock>(name);

        // The check's 5 s go to its SELECT 1, not to opening the pool's first connection on a cold or loaded machine.
        await PostgresServer.WarmUpAsync(container.GetRequiredService<PostgresLockProvider>());
        var idle = (await health.CheckHealthAsync()).Entries["locksmith-postgres"];
        Assert.Equal(HealthStatus.Healthy, idle.Status);
        Assert.Equal(1, idle.Data["connectionBudget"]);
        Assert.Contains("ready", idle.Tags);

        await using (var held = await nightly.AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            var full = (await health.CheckHealthAsync()).Entries["locksmith-postgres"];
            Assert.Equal(HealthStatus.Degraded, full.Status);
            Assert.Equal(1, full.Data["connectionsInUse"]);
            Assert.Contains("PostgresConnectionBudgetException", full.Description, StringComparison.Ordinal);
        }

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries["locksmith-postgres"].Status);
    }

    [Fact]
    public async Task TheCheck_IsUnhealthy_WhenTheServerDoesNotAnswer_NamingIt()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres("Host=127.0.0.1;Port=1;Username=nobody;Password=none;Database=none;Timeout=5");
        services.AddHealthChecks().AddLocksmithPostgres();
        await using var container = services.BuildServiceProvider();

        var report = await container.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var entry = report.Entries["locksmith-postgres"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("127.0.0.1:1/none", entry.Description, StringComparison.Ordinal);
        Assert.NotNull(entry.Exception);
    }

    public enum Silence
    {
        /// <summary>The server takes the connection but never answers its startup (Npgsql waits for it without the token).</summary>
        Opening,

        /// <summary>The connection is open, and the check's SELECT 1 gets no answer.</summary>
        Select,
    }

    /// <summary>
    /// A server that goes silent makes the check Unhealthy within the check's timeout, naming the server. Before, a silent
    /// opening held the check until the connection string's Timeout (15 s by default, 1024 s here; the hang guard failed
    /// it), and a silent SELECT 1 ended with the health check service's own "A timeout occurred while running check.".
    /// </summary>
    [Theory]
    [InlineData(Silence.Opening)]
    [InlineData(Silence.Select)]
    public async Task TheCheck_WhenTheServerGoesSilent_IsUnhealthyWithinItsTimeout_NamingTheServer(Silence silence)
    {
        await using var relay = new TcpRelay();
        var services = new ServiceCollection();
        services.AddLogging();

        // Without TLS the relay sees the statements; the opening's own Timeout (Npgsql's most) never ends the check.
        services.AddLocksmith().AddPostgres(new Npgsql.NpgsqlConnectionStringBuilder(relay.ConnectionString) { SslMode = Npgsql.SslMode.Disable, Timeout = 1024 }.ConnectionString);
        services.AddHealthChecks().AddLocksmithPostgres(timeout: TimeSpan.FromSeconds(3));
        await using var container = services.BuildServiceProvider();
        var provider = container.GetRequiredService<PostgresLockProvider>();
        try
        {
            if (silence == Silence.Opening)
            {
                relay.HoldNewConnections();
            }
            else
            {
                // An acquisition's first statement carries a SELECT 1 too: freeze only once the pool has a connection.
                await PostgresServer.WarmUpAsync(provider);
                relay.FreezeWhenClientSends("SELECT 1");
            }

            var report = await container.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(TimeSpan.FromSeconds(60));

            var entry = report.Entries["locksmith-postgres"];
            Assert.Equal(HealthStatus.Unhealthy, entry.Status);
            Assert.Contains($"({provider.ServerIdentity}) does not answer", entry.Description, StringComparison.Ordinal);
            Assert.Contains("within its timeout (00:00:03)", entry.Description, StringComparison.Ordinal);
            Assert.IsAssignableFrom<OperationCanceledException>(entry.Exception);
        }
        finally
        {
            relay.LetThrough();
        }
    }

    /// <summary>
    /// A server that refuses the provider's credentials did answer: the check says it refused the session, with the
    /// server's SQLSTATE, rather than that it does not answer (which sent readers to the network, not the password).
    /// </summary>
    [Fact]
    public async Task TheCheck_WhenTheServerRefusesTheCredentials_SaysItRefusedTheSession_NotThatItDoesNotAnswer()
    {
        var wrong = new Npgsql.NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Password = "not-" + Guid.NewGuid().ToString("N") };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(wrong.ConnectionString);

        // The refusal comes after the authentication exchange: on a loaded machine that can outlast the default 5 s, which
        // would read as "does not answer".
        services.AddHealthChecks().AddLocksmithPostgres(timeout: TimeSpan.FromSeconds(60));
        await using var container = services.BuildServiceProvider();

        var entry = (await container.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["locksmith-postgres"];

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        var refusal = Assert.IsType<Npgsql.PostgresException>(entry.Exception);
        Assert.Equal("28P01", refusal.SqlState);
        Assert.Contains("refused the provider's session: 28P01", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("does not answer", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCheck_OnADisposedProvider_SaysItWasDisposed_NotThatTheServerDoesNotAnswer()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString);
        services.AddHealthChecks().AddLocksmithPostgres();
        await using var container = services.BuildServiceProvider();
        var health = container.GetRequiredService<HealthCheckService>();

        // The check's 5 s go to its SELECT 1, not to opening the pool's first connection on a cold or loaded machine.
        await PostgresServer.WarmUpAsync(container.GetRequiredService<PostgresLockProvider>());
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries["locksmith-postgres"].Status);

        await container.GetRequiredService<PostgresLockProvider>().DisposeAsync();

        var entry = (await health.CheckHealthAsync()).Entries["locksmith-postgres"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("was disposed", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("does not answer", entry.Description, StringComparison.Ordinal);
    }
}
