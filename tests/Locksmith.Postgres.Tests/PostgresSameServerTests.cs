using System;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Two providers of one process whose connection strings name the same server differently (127.0.0.1 and localhost):
/// before, providers were matched only by their <c>host:port/database</c> text, so these two were taken for two servers.
/// A provider now reads what the server says it is with its first connection, and the checks that span providers (the
/// recursion check, a timeout's holder, a deadlock's sessions) see that both are one server.
/// </summary>
[Collection(nameof(PostgresTestHookCollection))]
public sealed class PostgresSameServerTests
{
    /// <summary>The same server under the other host name: 127.0.0.1 and localhost for a local one, else its name in capitals.</summary>
    private static PostgresLockProvider OtherNameForTheServer() =>
        new(new PostgresLockProviderOptions
        {
            ConnectionString = ConnectionStringUnderOtherName(),
            ConnectionBudget = 4,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
        });

    /// <summary>The tests' connection string with the server's other host name (see <see cref="OtherNameForTheServer"/>).</summary>
    internal static string ConnectionStringUnderOtherName()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);
        builder.Host = builder.Host switch
        {
            "127.0.0.1" => "localhost",
            "localhost" => "127.0.0.1",
            var host => host!.ToUpperInvariant(),
        };
        return builder.ConnectionString;
    }

    /// <summary>A provider of <paramref name="connectionString"/> that reads its server's identity from <paramref name="controlSystemFunction"/>.</summary>
    internal static PostgresLockProvider Provider(string connectionString, string controlSystemFunction) =>
        new(new PostgresLockProviderOptions
            {
                ConnectionString = connectionString,
                ConnectionBudget = 4,
                DefaultTimeout = TimeSpan.FromSeconds(60),
                LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
            },
            "idle_session_timeout",
            controlSystemFunction);

    /// <summary>
    /// A server that will not say what it is (an administrator revoked <c>pg_control_system()</c>): the provider's identity
    /// stays unknown, it still takes and releases locks, a recursion through a provider with the same text is refused, and
    /// so is one through a provider naming the server differently, once the server, asked, shows that the two are one. A
    /// set listing the key through both asks the server whether the two are one, and takes it once.
    /// PostgreSQL 15 lets every role call <c>pg_control_system()</c>, and the tests' role may neither revoke it nor create
    /// roles, so the refusal comes from a function of the test's own, with the same column, that the role may not run: the
    /// server answers the provider's query with 42501, as it would for the real function revoked.
    /// </summary>
    [Fact]
    public async Task AServerRefusingItsIdentity_LocksStillWork_AndProvidersMatchByTheirTextOnly()
    {
        string function = $"public.{PostgresServer.Unique("refused_control_system")}()";
        await using var admin = await PostgresServer.OpenAsync();
        await ExecuteAsync(admin,
            $"CREATE FUNCTION {function} RETURNS TABLE (system_identifier bigint) LANGUAGE sql AS 'SELECT 1::bigint'; " +
            $"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, CURRENT_USER;");
        try
        {
            await using var refused = Provider(PostgresServer.ConnectionString, function);
            await using var refusedUnderOtherName = Provider(ConnectionStringUnderOtherName(), function);
            await using var sameText = await PostgresServer.WarmedProviderAsync();
            string name = PostgresServer.Unique("refused_identity");
            var nightly = refused.CreateExclusiveLock(name);

            await using (var held = await nightly.AcquireAsync())
            {
                Assert.Null(refused.ServerInstance);
                Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => sameText.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)));
                await Assert.ThrowsAsync<LockRecursionException>(async () => await nightly.AcquireAsync());
                using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                var sameTextError = await Assert.ThrowsAsync<LockRecursionException>(async () =>
                    await sameText.CreateExclusiveLock(name).AcquireAsync(Timeout.InfiniteTimeSpan, guard.Token));
                Assert.Contains(
                    $"which it already holds through another PostgresLockProvider of this process (its session there, backend pid {held.SessionProcessId})",
                    sameTextError.Message,
                    StringComparison.Ordinal);

                // Under the other name the providers cannot tell by the server's identity: the flow's session there asks
                // the server, as a set does, and is refused at once. Before, it waited on the server for the flow's session
                // here until its timeout.
                var otherNameError = await Assert.ThrowsAsync<LockRecursionException>(async () =>
                    await refusedUnderOtherName.CreateExclusiveLock(name).AcquireAsync(Timeout.InfiniteTimeSpan, guard.Token));
                Assert.Null(refusedUnderOtherName.ServerInstance);
                Assert.False(refused.IsSameServerAs(refusedUnderOtherName));
                Assert.Matches(
                    $@"^Flow #\d+.* tried to acquire exclusive access to '{name}', which it already holds through another PostgresLockProvider of this process " +
                    $@"\(its session there, backend pid {held.SessionProcessId}\)",
                    otherNameError.Message);
                Assert.Equal(0, refusedUnderOtherName.ConnectionsInUse);
                Assert.Equal(1, refused.HeldCount);

                // The probe's random key is given back: the flow's session here holds its lock only.
                Assert.Equal(1, await AdvisoryLocksOfAsync(admin, held.SessionProcessId));
            }

            Assert.Equal(0, refused.HeldCount);
            Assert.Equal(0, refused.ConnectionsInUse);
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => sameText.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)));

            // A set finds out by itself, before it takes anything, that the two names are one server: it takes the key once.
            // Before, it took it through both, and the second member waited for the first until the timeout.
            string twice = PostgresServer.Unique("refused_identity_set");
            await using (var scope = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30),
                [refused.CreateExclusiveLock(twice).Request(), refusedUnderOtherName.CreateExclusiveLock(twice).Request()]))
            {
                Assert.Equal(1, scope.Count);
                Assert.Equal(1, refused.HeldCount + refusedUnderOtherName.HeldCount);
                Assert.Equal(1, refused.ConnectionsInUse + refusedUnderOtherName.ConnectionsInUse);
                Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => sameText.CreateExclusiveLock(twice).TryAcquireAsync(TimeSpan.Zero)));
            }

            Assert.Equal(0, refused.HeldCount + refusedUnderOtherName.HeldCount);
            Assert.Equal(0, refused.ConnectionsInUse + refusedUnderOtherName.ConnectionsInUse);
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => sameText.CreateExclusiveLock(twice).TryAcquireAsync(TimeSpan.Zero)));

            // A read and a write of one key, the read ordered first: the write is taken, once.
            var (reader, writer) = string.CompareOrdinal(refused.ServerIdentity, refusedUnderOtherName.ServerIdentity) < 0
                ? (refused, refusedUnderOtherName)
                : (refusedUnderOtherName, refused);
            string readWrite = PostgresServer.Unique("refused_identity_set_read_write");
            await using (var scope = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30),
                [reader.CreateReadWriteLock(readWrite).ReadRequest(), writer.CreateReadWriteLock(readWrite).WriteRequest()]))
            {
                Assert.Equal(1, scope.Count);
                Assert.Equal(0, reader.HeldCount);
                Assert.Equal(1, writer.HeldCount);
                Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => sameText.CreateReadWriteLock(readWrite).TryAcquireReadAsync(TimeSpan.Zero)));
            }

            Assert.Equal(0, reader.ConnectionsInUse + writer.ConnectionsInUse);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>
    /// A set asking the server whether two names are one server is cancelled just after the server granted its random probe
    /// key (Npgsql then throws OperationCanceledException: the statement ran, its answer was lost). Before, the key stayed
    /// held on the flow's session for as long as the session lived (here, while the flow holds another lock through it);
    /// now the probe asks whether it holds the key and gives it back. No timing makes that cancellation land there reliably,
    /// so a test hook cancels the set's token and throws as Npgsql would, once the server granted the key.
    /// </summary>
    [Fact]
    public async Task ASetCancelledJustAfterItsProbeKeyWasGranted_LeavesTheKeyOnNoSession()
    {
        string function = $"public.{PostgresServer.Unique("refused_control_system")}()";
        await using var admin = await PostgresServer.OpenAsync();
        await ExecuteAsync(admin,
            $"CREATE FUNCTION {function} RETURNS TABLE (system_identifier bigint) LANGUAGE sql AS 'SELECT 1::bigint'; " +
            $"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, CURRENT_USER;");
        string twice = PostgresServer.Unique("probe_cancelled");
        using var cancel = new CancellationTokenSource();
        int granted = 0;
        PostgresLockSet.ProbeGrantedForTest = (request, token) =>
        {
            if (request.Description.Contains(twice, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref granted);
                cancel.Cancel();
                throw new OperationCanceledException(token);
            }

            return default;
        };
        try
        {
            await using var refused = Provider(PostgresServer.ConnectionString, function);
            await using var refusedUnderOtherName = Provider(ConnectionStringUnderOtherName(), function);

            // The flow's two sessions outlive the set: each holds a lock of the flow's through its provider.
            await using var here = await refused.CreateExclusiveLock(PostgresServer.Unique("probe_keep")).AcquireAsync();
            await using var there = await refusedUnderOtherName.CreateExclusiveLock(PostgresServer.Unique("probe_keep")).AcquireAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30),
                [refused.CreateExclusiveLock(twice).Request(), refusedUnderOtherName.CreateExclusiveLock(twice).Request()], cancel.Token));

            Assert.Equal(1, granted);
            Assert.Equal(1, refused.HeldCount);
            Assert.Equal(1, refusedUnderOtherName.HeldCount);
            Assert.Equal(1, await AdvisoryLocksOfAsync(admin, here.SessionProcessId));
            Assert.Equal(1, await AdvisoryLocksOfAsync(admin, there.SessionProcessId));
        }
        finally
        {
            PostgresLockSet.ProbeGrantedForTest = null;
            await ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>How many advisory locks the backend <paramref name="pid"/> holds now.</summary>
    internal static async Task<long> AdvisoryLocksOfAsync(NpgsqlConnection admin, int pid)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1", admin);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The flow holds the lock through one provider and asks through a provider that has not connected yet: its first
    /// connection tells it the server, and the recursion is refused before the lock's statement. Before, the second session
    /// waited on the server for the first, forever (the guard turned that into an OperationCanceledException).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALockHeldThroughOneProvider_AskedThroughAnotherNamingTheServerDifferently_ThrowsLockRecursion(bool secondConnectedBefore)
    {
        await using var first = PostgresServer.Provider();
        await using var second = OtherNameForTheServer();
        Assert.NotEqual(first.ServerIdentity, second.ServerIdentity);
        string name = PostgresServer.Unique("same_server");
        if (secondConnectedBefore)
        {
            // A hold and its release through the second provider: it knows the server before the flow asks.
            await using (await second.CreateExclusiveLock(PostgresServer.Unique("same_server_warm")).AcquireAsync())
            {
            }
        }

        await using var held = await first.CreateExclusiveLock(name).AcquireAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<LockRecursionException>(async () =>
            await second.CreateExclusiveLock(name).AcquireAsync(Timeout.InfiniteTimeSpan, guard.Token));

        Assert.Contains(
            $"tried to acquire exclusive access to '{name}', which it already holds through another PostgresLockProvider of this process " +
            $"(its session there, backend pid {held.SessionProcessId})",
            error.Message,
            StringComparison.Ordinal);
        Assert.Equal(0, second.ConnectionsInUse);
        Assert.Equal(0, second.HeldCount);
    }

    /// <summary>
    /// One lock listed twice in a set, through two providers naming the server differently: the set takes it once, as it
    /// takes a duplicate through one connection string, and a write wins over a read. Before, the set merged duplicates by the
    /// server's text only, so it took the lock through the first provider and then refused the second member with
    /// LockRecursionException (the flow "already held" it, through the first). A provider that has not connected yet learns
    /// the server with its member's session, and the member merges then (an exclusive duplicate of an exclusive member).
    /// </summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task ASet_ListingOneLockThroughProvidersNamingTheServerDifferently_TakesItOnce(bool connectedBefore, bool readAndWrite)
    {
        await using var first = PostgresServer.Provider();
        await using var second = OtherNameForTheServer();
        if (connectedBefore)
        {
            await using (await first.CreateExclusiveLock(PostgresServer.Unique("same_server_warm")).AcquireAsync())
            await using (await second.CreateExclusiveLock(PostgresServer.Unique("same_server_warm")).AcquireAsync())
            {
            }

            Assert.True(first.IsSameServerAs(second));
        }

        string name = PostgresServer.Unique("same_server_set_twice");
        PostgresLockRequest[] requests = readAndWrite
            ? [first.CreateReadWriteLock(name).ReadRequest(), second.CreateReadWriteLock(name).WriteRequest()]
            : [first.CreateExclusiveLock(name).Request(), second.CreateExclusiveLock(name).Request()];

        // The timeout only guards against a hang (the flow waiting for itself).
        await using (var scope = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), requests))
        {
            Assert.Equal(1, scope.Count);
            Assert.Equal(1, first.HeldCount + second.HeldCount);
            Assert.Equal(readAndWrite ? 1 : 0, second.HeldCount);
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => first.CreateReadWriteLock(name).TryAcquireReadAsync(TimeSpan.Zero)));
        }

        Assert.Equal(0, first.HeldCount + second.HeldCount);
        Assert.Equal(0, first.ConnectionsInUse + second.ConnectionsInUse);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => second.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)));
    }

    /// <summary>
    /// A read through a provider that has not connected yet and a write through another name of the server, the read ordered
    /// first (by the texts): the set connects both members' sessions before it takes anything, so both providers know the
    /// server, and it takes the write once. Before, it took the read, learned only with the write's connection that both are
    /// one server, and refused the set with LockRecursionException (a read does not become a write).
    /// </summary>
    [Fact]
    public async Task ASet_ReadingAndWritingOneLockThroughTwoNamesOfTheServer_NotConnectedBefore_TakesTheWriteOnce()
    {
        await using var first = PostgresServer.Provider();
        await using var second = OtherNameForTheServer();
        var (reader, writer) = string.CompareOrdinal(first.ServerIdentity, second.ServerIdentity) < 0 ? (first, second) : (second, first);
        string name = PostgresServer.Unique("same_server_set_read_write");

        await using (var scope = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30),
            [reader.CreateReadWriteLock(name).ReadRequest(), writer.CreateReadWriteLock(name).WriteRequest()]))
        {
            Assert.Equal(1, scope.Count);
            Assert.Equal(0, reader.HeldCount);
            Assert.Equal(1, writer.HeldCount);

            // The member merged away gave its connection back.
            Assert.Equal(0, reader.ConnectionsInUse);
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => reader.CreateReadWriteLock(name).TryAcquireReadAsync(TimeSpan.Zero)));
        }

        Assert.Equal(0, first.HeldCount + second.HeldCount);
        Assert.Equal(0, first.ConnectionsInUse + second.ConnectionsInUse);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => writer.CreateReadWriteLock(name).TryAcquireWriteAsync(TimeSpan.Zero)));
    }

    /// <summary>
    /// One key through two databases of the server, whose providers do not learn its identity: two advisory locks (they are
    /// per database), so the set takes both. The check that merges two names of one server (see
    /// <see cref="AServerRefusingItsIdentity_LocksStillWork_AndProvidersMatchByTheirTextOnly"/>) must not merge these.
    /// </summary>
    [Fact]
    public async Task ASet_ListingOneKeyOnTwoDatabases_WhoseServerRefusesItsIdentity_TakesBoth()
    {
        string function = $"public.{PostgresServer.Unique("refused_control_system")}()";
        string database = PostgresServer.Unique("second_database");
        await using var admin = await PostgresServer.OpenAsync();
        await ExecuteAsync(admin,
            $"CREATE FUNCTION {function} RETURNS TABLE (system_identifier bigint) LANGUAGE sql AS 'SELECT 1::bigint'; " +
            $"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, CURRENT_USER;");
        await ExecuteAsync(admin, $"CREATE DATABASE \"{database}\" TEMPLATE template0");
        try
        {
            var otherDatabase = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Database = database };

            // The function lives in the first database only: the second refuses it as a function it does not have (42883).
            await using (var here = Provider(PostgresServer.ConnectionString, function))
            await using (var there = Provider(otherDatabase.ConnectionString, function))
            {
                string name = PostgresServer.Unique("two_databases");
                await using (var scope = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30),
                    [here.CreateExclusiveLock(name).Request(), there.CreateExclusiveLock(name).Request()]))
                {
                    Assert.Null(here.ServerInstance);
                    Assert.Null(there.ServerInstance);
                    Assert.Equal(2, scope.Count);
                    Assert.Equal(1, here.HeldCount);
                    Assert.Equal(1, there.HeldCount);
                }

                Assert.Equal(0, here.ConnectionsInUse + there.ConnectionsInUse);

                // One lock asked for through each on its own: the server, asked whether the two are one, shows two (the key
                // the flow's session here took is free there), so the second is taken too, and neither keeps the probe's key.
                string single = PostgresServer.Unique("two_databases_single");
                await using (var first = await here.CreateExclusiveLock(single).AcquireAsync())
                await using (var second = await there.CreateExclusiveLock(single).AcquireAsync(TimeSpan.FromSeconds(30)))
                {
                    Assert.True(second.IsAcquired);
                    Assert.Equal(1, here.HeldCount);
                    Assert.Equal(1, there.HeldCount);
                    Assert.Equal(1, await AdvisoryLocksOfAsync(admin, first.SessionProcessId));
                    Assert.Equal(1, await AdvisoryLocksOfAsync(admin, second.SessionProcessId));
                }

                Assert.Equal(0, here.ConnectionsInUse + there.ConnectionsInUse);
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await PostgresServer.DropDatabaseAsync(database);
            await ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }

    /// <summary>A timeout through one provider names the flow holding through the other, as for two providers with one connection string.</summary>
    [Fact]
    public async Task ATimeout_NamesTheHoldingFlow_ThroughAProviderNamingTheServerDifferently()
    {
        await using var first = PostgresServer.Provider();
        await using var second = OtherNameForTheServer();
        string name = PostgresServer.Unique("same_server_timeout");
        await using var held = await KeyHeldElsewhere.HoldAsync(() => first.CreateExclusiveLock(name).AcquireAsync());

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await second.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromMilliseconds(100)));

        Assert.Matches(
            $@"held by flow #\d+[^,]* of this process, through another PostgresLockProvider \(its PostgreSQL session there, backend pid {held.SessionProcessId}\)",
            error.Message);
    }

    /// <summary>
    /// Two processes' stand-ins, each with a provider per name of the server, take locks a and b together; one takes a through
    /// 127.0.0.1 and b through localhost, the other the reverse, each listing them in its own order. Before, a set ordered
    /// same-level members by the server's text, so one took a first and the other b first, and once both held their first
    /// they waited for each other until the timeout: each flow's two locks are on two sessions, so the server sees no cycle
    /// (no 40P01). The order is now the advisory key's, whatever the server is called.
    /// </summary>
    [Fact]
    public async Task Sets_ThroughProvidersNamingTheServerDifferently_TakenInOppositeOrders_NeverDeadlock()
    {
        const int Iterations = 40;
        await using var oneByText = PostgresServer.Provider();
        await using var oneByOtherText = OtherNameForTheServer();
        await using var otherByText = PostgresServer.Provider();
        await using var otherByOtherText = OtherNameForTheServer();
        string a = PostgresServer.Unique("same_server_set_a"), b = PostgresServer.Unique("same_server_set_b");
        PostgresLockRequest[] one = [oneByText.CreateExclusiveLock(a, level: 10).Request(), oneByOtherText.CreateExclusiveLock(b, level: 10).Request()];
        PostgresLockRequest[] other = [otherByText.CreateExclusiveLock(b, level: 10).Request(), otherByOtherText.CreateExclusiveLock(a, level: 10).Request()];
        int inside = 0, completed = 0;

        async Task<int> Run(PostgresLockRequest[] requests)
        {
            for (int i = 0; i < Iterations; i++)
            {
                // The timeout only guards against a hang: before, the two waited for each other until it elapsed.
                await using var both = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(20), requests);
                Assert.Equal(1, Interlocked.Increment(ref inside));
                await Task.Yield();
                Interlocked.Decrement(ref inside);
                Interlocked.Increment(ref completed);
            }

            return Iterations;
        }

        var runs = new[]
        {
            PostgresServer.InAFlowOfItsOwn(() => Run(one)),
            PostgresServer.InAFlowOfItsOwn(() => Run([.. other.Reverse()])),
            PostgresServer.InAFlowOfItsOwn(() => Run([.. one.Reverse()])),
            PostgresServer.InAFlowOfItsOwn(() => Run(other)),
        };

        Assert.Equal(4 * Iterations, (await Task.WhenAll(runs)).Sum());
        Assert.Equal(4 * Iterations, completed);
        Assert.All(new[] { oneByText, oneByOtherText, otherByText, otherByOtherText }, static provider => Assert.Equal(0, provider.ConnectionsInUse));
    }

    /// <summary>
    /// A cycle through a lock held through one provider and waited for through another for the same server (the same text,
    /// or the other name once both read the server's identity) is in the deadlock detector's graph. Before, a wait's holder
    /// was looked up in the waiting provider's holds only, so the wait had no holder and the cycle was not found: two flows
    /// of a process using two such providers waited for each other until their timeouts, unreported.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ACycleThroughALockHeldThroughAnotherProviderOfTheServer_IsInTheDetectorsGraph(bool otherName, bool keyed)
    {
        await using var holding = PostgresServer.Provider();
        await using var waiting = otherName ? OtherNameForTheServer() : PostgresServer.Provider();
        string name = PostgresServer.Unique("same_server_cycle");
        var local = new AsyncExclusiveLock(PostgresServer.Unique("cache"));

        var found = await DetectorCycle.FindAsync(
            () => keyed ? holding.CreateKeyedLock<int>(name).AcquireAsync(7) : holding.CreateExclusiveLock(name).AcquireAsync(),
            local,
            async breakTheCycle =>
            {
                await using var then = keyed
                    ? await waiting.CreateKeyedLock<int>(name).AcquireAsync(7, Timeout.InfiniteTimeSpan, breakTheCycle)
                    : await waiting.CreateExclusiveLock(name).AcquireAsync(Timeout.InfiniteTimeSpan, breakTheCycle);
            },
            keyed ? $"{name}[7]" : name,
            polls: 1500);

        Assert.NotNull(found);
        Assert.Equal(2, found.Edges.Count);
        Assert.Contains(found.Edges, e => e.LockName == local.Name);
        Assert.Equal(0, holding.ConnectionsInUse);
        Assert.Equal(0, waiting.ConnectionsInUse);
    }

    /// <summary>A 40P01 between a flow of each provider names both sessions by their flows, not as sessions of another process.</summary>
    [Fact]
    public async Task ADeadlock_NamesTheSessionsOfBothProviders_AsFlowsOfThisProcess()
    {
        await using var first = PostgresServer.Provider();
        await using var second = OtherNameForTheServer();
        string a = PostgresServer.Unique("same_server_a"), b = PostgresServer.Unique("same_server_b");
        var bothHold = new CountdownEvent(2);

        Task<DeadlockException?> one, other;
        using (ExecutionContext.SuppressFlow())
        {
            one = Task.Run(() => PostgresServer.HoldThenAskAsync(first, a, b, bothHold));
            other = Task.Run(() => PostgresServer.HoldThenAskAsync(second, b, a, bothHold));
        }

        var victim = Assert.Single(new[] { await one, await other }, static e => e is not null)!;
        Assert.Equal(2, Regex.Matches(victim.Message, @"held by flow #\d+[^;]* of this process \(backend pid \d+\)").Count);
        Assert.DoesNotContain("not a session of this process", victim.Message, StringComparison.Ordinal);
    }
}
