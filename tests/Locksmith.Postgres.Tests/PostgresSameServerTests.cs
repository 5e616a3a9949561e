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
public sealed class PostgresSameServerTests
{
    /// <summary>The same server under the other host name: 127.0.0.1 and localhost for a local one, else its name in capitals.</summary>
    private static PostgresLockProvider OtherNameForTheServer()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);
        builder.Host = builder.Host switch
        {
            "127.0.0.1" => "localhost",
            "localhost" => "127.0.0.1",
            var host => host!.ToUpperInvariant(),
        };
        return new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = builder.ConnectionString,
            ConnectionBudget = 4,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
        });
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

    /// <summary>A 40P01 between a flow of each provider names both sessions by their flows, not as sessions of another process.</summary>
    [Fact]
    public async Task ADeadlock_NamesTheSessionsOfBothProviders_AsFlowsOfThisProcess()
    {
        await using var first = PostgresServer.Provider();
        await using var second = OtherNameForTheServer();
        string a = PostgresServer.Unique("same_server_a"), b = PostgresServer.Unique("same_server_b");
        var bothHold = new CountdownEvent(2);

        async Task<DeadlockException?> HoldThenAsk(PostgresLockProvider provider, string mine, string theirs)
        {
            await using var held = await provider.CreateExclusiveLock(mine).AcquireAsync();
            bothHold.Signal();
            if (!bothHold.Wait(TimeSpan.FromMinutes(2)))
            {
                throw new TimeoutException("The other flow never took its first lock (a hang guard, not a measurement).");
            }

            try
            {
                await using var then = await provider.CreateExclusiveLock(theirs).AcquireAsync(TimeSpan.FromSeconds(60));
                return null;
            }
            catch (DeadlockException e)
            {
                return e;
            }
        }

        Task<DeadlockException?> one, other;
        using (ExecutionContext.SuppressFlow())
        {
            one = Task.Run(() => HoldThenAsk(first, a, b));
            other = Task.Run(() => HoldThenAsk(second, b, a));
        }

        var victim = Assert.Single(new[] { await one, await other }, static e => e is not null)!;
        Assert.Equal(2, Regex.Matches(victim.Message, @"held by flow #\d+[^;]* of this process \(backend pid \d+\)").Count);
        Assert.DoesNotContain("not a session of this process", victim.Message, StringComparison.Ordinal);
    }
}
