using System;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The edges of the primary-only checks that <see cref="PostgresPrimaryOnlyTests"/> and <see cref="PostgresStandbyRefusalTests"/>
/// leave out: connection-string shapes written loosely, options changed by AddPostgres' configure, a server that refuses to
/// say whether it is in recovery, a set whose second member's server is a standby, which server a name led to, and a refused connection on the server.
/// </summary>
public sealed class PostgresStandbyCheckEdgeTests
{
    /// <summary>Hosts written loosely (spaces, a trailing comma, Server=) are still more than one host.</summary>
    [Theory]
    [InlineData("Host=db1, db2;Database=app")]
    [InlineData("Host= db1 ,db2 ;Database=app")]
    [InlineData("Host=db1,;Database=app")]
    [InlineData("SERVER=db1,db2;Database=app")]
    [InlineData("Host=db1;Host=db2,db3;Database=app")]
    public void LooselyWrittenHosts_AreStillRefused(string connectionString)
    {
        var error = Assert.Throws<ArgumentException>(() => new PostgresLockProvider(connectionString));
        Assert.StartsWith("PostgresLockProviderOptions.ConnectionString has Host = ", error.Message, StringComparison.Ordinal);
        Assert.Contains("more than one host", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A repeated Host is one host, the last, as Npgsql reads it: taken, and its identity names that host.</summary>
    [Fact]
    public async Task ARepeatedHost_IsTheLastOne_AsNpgsqlReadsIt()
    {
        var server = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);
        await using var provider = new PostgresLockProvider($"Host=elsewhere.invalid;{PostgresServer.ConnectionString}", connectionBudget: 1);
        Assert.Equal($"{server.Host}:{server.Port}/{server.Database}", provider.ServerIdentity);
    }

    /// <summary>AddPostgres checks the options after its configure ran, so a connection string set there is refused too.</summary>
    [Fact]
    public void AddPostgres_RefusesAMultiHostConnectionString_SetByConfigure()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddLocksmith().AddPostgres(
            PostgresServer.ConnectionString, options => options.ConnectionString = "Host=db1,db2;Database=app"));

        Assert.StartsWith("PostgresLockProviderOptions.ConnectionString has Host = 'db1,db2', more than one host", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(services, static d => d.ServiceType == typeof(PostgresLockProvider));
    }

    /// <summary>
    /// A server that refuses to say whether it is in recovery (EXECUTE revoked) is not refused: the provider cannot tell, as
    /// before the check, takes its locks, and stops asking, so later new connections pay no failed round trip; it says so
    /// once, as a warning (<see cref="LocksmithEventIds.StandbyCheckRefused"/>; before, nothing was logged). The function
    /// counts its calls in a sequence, which a failed statement does not roll back.
    /// </summary>
    [Fact]
    public async Task AServerThatRefusesToAnswer_IsNotRefused_AndIsAskedOnce()
    {
        await using var admin = await PostgresServer.OpenAsync();
        string calls = PostgresServer.Unique("in_recovery_calls");
        string function = $"public.{PostgresServer.Unique("in_recovery")}()";
        await PostgresSameServerTests.ExecuteAsync(admin,
            $"CREATE SEQUENCE public.{calls}; " +
            $"CREATE FUNCTION {function} RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('public.{calls}'); " +
            "RAISE EXCEPTION 'permission denied for function pg_is_in_recovery' USING ERRCODE = 'insufficient_privilege'; END $$");
        try
        {
            var capture = new CapturingLoggerProvider();
            using var factory = LoggerFactory.Create(logging => logging.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
            await using var provider = PostgresStandbyRefusalTests.StandbyTestProvider(function, budget: 2, loggerFactory: factory);
            var first = provider.CreateExclusiveLock(PostgresServer.Unique("unknown_first"));
            var second = provider.CreateExclusiveLock(PostgresServer.Unique("unknown_second"));

            // Two sessions at once: two new physical connections.
            await using (var one = await first.AcquireAsync(TimeSpan.FromSeconds(30)))
            {
                await using var two = await PostgresServer.InAFlowOfItsOwn(async () => await second.AcquireAsync(TimeSpan.FromSeconds(30)));
                Assert.True(one.IsAcquired);
                Assert.True(two.IsAcquired);
            }

            await using var counter = new NpgsqlCommand($"SELECT last_value FROM public.{calls}", admin);
            Assert.Equal(1L, (long)(await counter.ExecuteScalarAsync())!);

            var settings = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);
            var line = Assert.Single(capture.Lines("Locksmith", LocksmithEventIds.StandbyCheckRefused));
            Assert.Equal(LogLevel.Warning, line.Level);
            Assert.Equal("StandbyCheckRefused", line.EventName);
            Assert.StartsWith(
                $"The PostgreSQL server of the distributed locks ({settings.Host}:{settings.Port}/{settings.Database}) refused to say whether it is in recovery ({function}: 42501 permission denied for function pg_is_in_recovery)",
                line.Message, StringComparison.Ordinal);
            Assert.Contains($"Grant EXECUTE on {function} to the provider's role", line.Message, StringComparison.Ordinal);
            Assert.Equal("42501", line.Fields["SqlState"]);
            Assert.IsType<PostgresException>(line.Exception);
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}; DROP SEQUENCE public.{calls}");
        }
    }

    /// <summary>
    /// A set whose first member's provider is on the primary and whose second's is on a standby: the set fails with the
    /// standby's refusal and gives back the first member, so nothing is held and no session is left open.
    /// </summary>
    [Fact]
    public async Task ASetWhoseSecondMemberIsOnAStandby_FailsWithTheRefusal_AndGivesBackTheFirst()
    {
        await using var admin = await PostgresServer.OpenAsync();
        string function = await PostgresStandbyRefusalTests.CreateInRecoveryStandInAsync(admin);
        try
        {
            await using var primary = PostgresServer.Provider();
            await using var standby = PostgresStandbyRefusalTests.StandbyTestProvider(function, budget: 2);
            string a = PostgresServer.Unique("set_primary"), b = PostgresServer.Unique("set_standby");
            PostgresLockRequest[] requests =
                [primary.CreateExclusiveLock(a, level: 1).Request(), standby.CreateExclusiveLock(b, level: 2).Request()];

            var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), requests));

            Assert.Contains($"'{b}'", error.Message, StringComparison.Ordinal);
            Assert.Contains("is in recovery, a standby", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("check that the server is up", error.Message, StringComparison.Ordinal);
            foreach (var provider in new[] { primary, standby })
            {
                Assert.Equal(0, provider.HeldCount);
                Assert.Equal(0, provider.ConnectionsInUse);
            }

            await using var elsewhere = await PostgresServer.WarmedProviderAsync();
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(a).TryAcquireAsync(TimeSpan.Zero)));
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>
    /// The refusal names the address the server answered from, not only the host as written: a name that leads to several
    /// servers (or a proxy) is why the server is asked at all, and the name alone does not say which of them is the standby.
    /// </summary>
    [Fact]
    public async Task TheRefusal_NamesTheAddressTheServerAnsweredFrom()
    {
        await using var admin = await PostgresServer.OpenAsync();
        string function = await PostgresStandbyRefusalTests.CreateInRecoveryStandInAsync(admin);
        try
        {
            await using var where = new NpgsqlCommand("SELECT host(pg_catalog.inet_server_addr()) || ':' || pg_catalog.inet_server_port()", admin);
            string answeredFrom = (string)(await where.ExecuteScalarAsync())!;
            await using var provider = PostgresStandbyRefusalTests.StandbyTestProvider(function, budget: 1);

            var error = await Assert.ThrowsAsync<NpgsqlException>(async () =>
                await provider.CreateExclusiveLock(PostgresServer.Unique("where_standby")).AcquireAsync(TimeSpan.FromSeconds(30)));

            Assert.Contains($"is in recovery, a standby (pg_is_in_recovery() is true; it answered from {answeredFrom})", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>
    /// A refused connection is closed on the server, not only left out of the provider's count: the server's sessions of
    /// the provider (by a unique application name) come back to the one that holds a lock, once each refused backend ended.
    /// </summary>
    [Fact]
    public async Task ARefusedConnection_IsClosedOnTheServer()
    {
        await using var admin = await PostgresServer.OpenAsync();
        string flag = PostgresServer.Unique("standby_flag");
        string function = $"public.{PostgresServer.Unique("in_recovery")}()";
        string application = PostgresServer.Unique("standby_leak");
        await PostgresSameServerTests.ExecuteAsync(admin,
            $"CREATE TABLE public.{flag} (in_recovery boolean NOT NULL); INSERT INTO public.{flag} VALUES (false); " +
            $"CREATE FUNCTION {function} RETURNS boolean LANGUAGE sql AS 'SELECT in_recovery FROM public.{flag}'");
        try
        {
            var settings = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { ApplicationName = application };
            await using var provider = PostgresStandbyRefusalTests.StandbyTestProvider(function, budget: 4, settings.ConnectionString);
            await using var held = await provider.CreateExclusiveLock(PostgresServer.Unique("leak_held")).AcquireAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1L, await SessionsAsync(admin, application));
            await PostgresSameServerTests.ExecuteAsync(admin, $"UPDATE public.{flag} SET in_recovery = true");

            for (int attempt = 0; attempt < 3; attempt++)
            {
                var refused = provider.CreateExclusiveLock(PostgresServer.Unique("leak_refused"));
                var error = await PostgresServer.InAFlowOfItsOwn(async () =>
                    await Assert.ThrowsAsync<NpgsqlException>(async () => await refused.AcquireAsync(TimeSpan.FromSeconds(30))));
                Assert.Contains("is in recovery, a standby", error.Message, StringComparison.Ordinal);
            }

            // A closed backend leaves pg_stat_activity a moment after its client went: polled, at most 600 times.
            long sessions = await SessionsAsync(admin, application);
            for (int poll = 0; poll < 600 && sessions != 1; poll++)
            {
                await Task.Delay(50);
                sessions = await SessionsAsync(admin, application);
            }

            Assert.Equal(1L, sessions);
            Assert.True(held.IsAcquired);
            Assert.Equal(1, provider.ConnectionsInUse);
        }
        finally
        {
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}; DROP TABLE public.{flag}");
        }
    }

    private static async Task<long> SessionsAsync(NpgsqlConnection admin, string application)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", admin);
        command.Parameters.AddWithValue(application);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
