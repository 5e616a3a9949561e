using System;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A server in recovery is refused as each new physical connection of the provider opens. A standby grants advisory locks
/// of its own (PostgreSQL's hot standby chapter: "Advisory locks work normally in recovery"), which exclude nothing on the
/// primary; before, a provider whose host led to one took its locks there. No setting of the connection string shows it
/// (a name or proxy leading to several servers, a demoted primary), so the server is asked.
/// </summary>
public sealed class PostgresStandbyRefusalTests
{
    /// <summary>
    /// A server in recovery (a standby, which grants advisory locks of its own) is refused as the session's connection opens:
    /// the acquisition throws an NpgsqlException naming the lock, the host and the fix, holds nothing, and keeps no
    /// connection, so the next one is asked and refused too. The tests have no standby: the provider asks a function of the
    /// test's own that answers true, as <c>pg_is_in_recovery()</c> does on one; the rest is the real server.
    /// </summary>
    [Fact]
    public async Task AServerInRecovery_IsRefusedAsTheSessionOpens_NamingTheHost_AndNothingIsHeld()
    {
        await using var admin = await PostgresServer.OpenAsync();
        string function = await CreateInRecoveryStandInAsync(admin);
        try
        {
            await using var provider = StandbyTestProvider(function);
            var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("standby_nightly"));
            var settings = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);

            for (int attempt = 0; attempt < 2; attempt++)
            {
                var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await nightly.AcquireAsync(TimeSpan.FromSeconds(30)));

                Assert.Matches(
                    $@"^Flow #\d+.* could not open a PostgreSQL session to acquire '{nightly.Name}' on .*: " +
                    $@"The PostgreSQL server at {Regex(settings.Host!)}:{settings.Port} \(database {Regex(settings.Database!)}\) is in recovery, a standby",
                    error.Message);
                Assert.Contains("exclude nothing on the primary", error.Message, StringComparison.Ordinal);
                Assert.Contains("the primary's single host", error.Message, StringComparison.Ordinal);
                Assert.DoesNotContain("check that the server is up", error.Message, StringComparison.Ordinal);
                AssertRefusedHoldingNothing(error, provider, nightly);
            }

            var tryOnce = await Assert.ThrowsAsync<NpgsqlException>(async () => await nightly.TryAcquireAsync(TimeSpan.Zero));
            Assert.Contains("is in recovery, a standby", tryOnce.Message, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>
    /// Every new connection is asked, not only the provider's first: a host name or a proxy may lead a later connection to
    /// a standby. Here the server "turns standby" after a session opened: that session keeps its lock, and the next flow,
    /// which needs a new connection, is refused.
    /// </summary>
    [Fact]
    public async Task EveryNewConnectionIsAsked_ALaterOneOnAStandbyIsRefused_WhileTheEarlierSessionKeepsItsLock()
    {
        await using var admin = await PostgresServer.OpenAsync();
        string flag = PostgresServer.Unique("standby_flag");
        string function = $"public.{PostgresServer.Unique("in_recovery")}()";
        await PostgresSameServerTests.ExecuteAsync(admin,
            $"CREATE TABLE public.{flag} (in_recovery boolean NOT NULL); INSERT INTO public.{flag} VALUES (false); " +
            $"CREATE FUNCTION {function} RETURNS boolean LANGUAGE sql AS 'SELECT in_recovery FROM public.{flag}'");
        try
        {
            await using var provider = StandbyTestProvider(function);
            var first = provider.CreateExclusiveLock(PostgresServer.Unique("before_failover"));
            var second = provider.CreateExclusiveLock(PostgresServer.Unique("after_failover"));

            await using var held = await first.AcquireAsync(TimeSpan.FromSeconds(30));
            await PostgresSameServerTests.ExecuteAsync(admin, $"UPDATE public.{flag} SET in_recovery = true");

            var error = await PostgresServer.InAFlowOfItsOwn(async () =>
                await Assert.ThrowsAsync<NpgsqlException>(async () => await second.AcquireAsync(TimeSpan.FromSeconds(30))));

            Assert.Contains($"'{second.Name}'", error.Message, StringComparison.Ordinal);
            Assert.Contains("is in recovery, a standby", error.Message, StringComparison.Ordinal);
            Assert.True(held.IsAcquired);
            Assert.False(held.IsLost);
            Assert.Equal(1, provider.ConnectionsInUse);
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}; DROP TABLE public.{flag}");
        }
    }

    /// <summary>The health check says the server is not the primary, not that it does not answer.</summary>
    [Fact]
    public async Task TheHealthCheck_OnAServerInRecovery_SaysItIsNotThePrimary()
    {
        await using var admin = await PostgresServer.OpenAsync();
        string function = await CreateInRecoveryStandInAsync(admin);
        try
        {
            await using var provider = StandbyTestProvider(function);
            var check = new PostgresLockProviderHealthCheck(provider);
            var context = new HealthCheckContext { Registration = new HealthCheckRegistration("locksmith-postgres", check, HealthStatus.Unhealthy, null) };

            var result = await check.CheckHealthAsync(context);

            Assert.Equal(HealthStatus.Unhealthy, result.Status);
            Assert.StartsWith($"The PostgreSQL server of the distributed locks ({provider.ServerIdentity}) is not the primary: ", result.Description, StringComparison.Ordinal);
            Assert.Contains("is in recovery, a standby", result.Description, StringComparison.Ordinal);
            Assert.DoesNotContain("does not answer", result.Description, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>
    /// A provider of the tests' server that asks <paramref name="inRecoveryFunction"/> instead of <c>pg_is_in_recovery()</c>;
    /// its lost-lock check stays out of the test (its own connection would be a new one, asked too).
    /// </summary>
    internal static PostgresLockProvider StandbyTestProvider(
        string inRecoveryFunction, int budget = 2, string? connectionString = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null) =>
        new(new PostgresLockProviderOptions
            {
                ConnectionString = connectionString ?? PostgresServer.ConnectionString,
                ConnectionBudget = budget,
                LostLockCheckInterval = TimeSpan.FromHours(1),
                LoggerFactory = loggerFactory,
            },
            "idle_session_timeout",
            "pg_catalog.pg_control_system()",
            inRecoveryFunction);

    /// <summary>A standby's refusal: not transient, and the provider holds nothing and keeps no connection.</summary>
    internal static void AssertRefusedHoldingNothing(NpgsqlException error, PostgresLockProvider provider, PostgresExclusiveLock refused)
    {
        Assert.False(error.IsTransient);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, provider.HeldCount);
        Assert.False(refused.IsHeldByCurrentFlow);
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);

    /// <summary>Creates a function of the test's own that answers true, as <c>pg_is_in_recovery()</c> does on a standby; the caller drops it.</summary>
    internal static async Task<string> CreateInRecoveryStandInAsync(NpgsqlConnection admin)
    {
        string function = $"public.{PostgresServer.Unique("in_recovery")}()";
        await PostgresSameServerTests.ExecuteAsync(admin, $"CREATE FUNCTION {function} RETURNS boolean LANGUAGE sql AS 'SELECT true'");
        return function;
    }
}
