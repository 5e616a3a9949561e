using System;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// An acquisition that cannot get a session says which lock, which flow and which server, and holds nothing: a server
/// that refuses the connection, credentials it rejects, and a provider already disposed.
/// </summary>
public sealed class PostgresConnectionErrorTests
{
    [Fact]
    public async Task AnUnreachableServer_IsAnNpgsqlExceptionNamingTheLockAndTheServer()
    {
        // Port 1 on the loopback refuses at once: no server and no wait are needed.
        await using var provider = new PostgresLockProvider("Host=127.0.0.1;Port=1;Username=nobody;Password=none;Database=none;Timeout=5");
        var nightly = provider.CreateExclusiveLock("unreachable-nightly");

        var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await nightly.AcquireAsync(TimeSpan.FromSeconds(5)));

        Assert.Contains("'unreachable-nightly'", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1/none", error.Message, StringComparison.Ordinal);
        Assert.Contains("could not open a PostgreSQL session", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.InnerException);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.False(nightly.IsHeldByCurrentFlow);
    }

    [Fact]
    public async Task RejectedCredentials_AreAnNpgsqlExceptionNamingTheLock()
    {
        var wrong = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Password = "not-the-password" };
        await using var provider = new PostgresLockProvider(wrong.ConnectionString);
        var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("rejected"));

        var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await nightly.AcquireAsync(TimeSpan.FromSeconds(5)));

        Assert.Contains($"'{nightly.Name}'", error.Message, StringComparison.Ordinal);
        Assert.IsType<PostgresException>(error.InnerException);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>A token already cancelled takes nothing, before any round trip, and the cancelled task names the lock or the set.</summary>
    [Fact]
    public async Task ACancelledToken_IsACancelledTaskNamingTheLockOrTheSet_BeforeAnyRoundTrip()
    {
        // Port 1 refuses connections: a round trip would fail with another exception than the cancellation.
        await using var provider = new PostgresLockProvider("Host=127.0.0.1;Port=1;Username=nobody;Password=none;Database=none;Timeout=5");
        var nightly = provider.CreateExclusiveLock("precancelled-nightly");
        var accounts = provider.CreateKeyedLock<long>("precancelled-accounts");
        var cancelled = new System.Threading.CancellationToken(canceled: true);

        var single = nightly.AcquireAsync(cancelled).AsTask();
        var one = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => single);
        Assert.True(single.IsCanceled);
        Assert.Contains("'precancelled-nightly'", one.Message, StringComparison.Ordinal);

        var set = PostgresLockSet.AcquireAsync(accounts.Request(1), accounts.Request(2), cancelled).AsTask();
        var both = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => set);
        Assert.True(set.IsCanceled);
        Assert.Contains("precancelled-accounts", both.Message, StringComparison.Ordinal);
        Assert.Contains("already cancelled", both.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>
    /// A cancelled token's refusal names the flow that asked as the in-process async locks do: one holding nothing is "the
    /// current async flow (on thread T)", with its Activity's name when one is current, and one holding a lock is "Flow #N
    /// (on thread T)". Before, a set named only the thread ("Thread 6 asked …") and a single lock a flow id made up for the refusal.
    /// </summary>
    [Theory]
    [InlineData("PostgresExclusiveLock.AcquireAsync")]
    [InlineData("PostgresExclusiveLock.TryAcquireAsync")]
    [InlineData("PostgresReadWriteLock.AcquireReadAsync")]
    [InlineData("PostgresReadWriteLock.AcquireWriteAsync")]
    [InlineData("PostgresKeyedLock.AcquireAsync")]
    [InlineData("PostgresKeyedLock.AcquireManyAsync")]
    [InlineData("PostgresLockSet.AcquireAsync")]
    [InlineData("PostgresLockSet.TryAcquireAsync")]
    public async Task ACancelledToken_NamesTheFlowThatAsked_AsTheInProcessAsyncLocksDo(string call)
    {
        // Port 1 refuses connections: a round trip would fail with another exception than the cancellation.
        await using var provider = new PostgresLockProvider("Host=127.0.0.1;Port=1;Username=nobody;Password=none;Database=none;Timeout=5");
        var nightly = provider.CreateExclusiveLock("precancelled-flow-nightly");
        var prices = provider.CreateReadWriteLock("precancelled-flow-prices");
        var accounts = provider.CreateKeyedLock<long>("precancelled-flow-accounts");
        var inProcess = new AsyncExclusiveLock("precancelled-flow-in-process");
        var cancelled = new System.Threading.CancellationToken(canceled: true);
        Task Acquire() => call switch
        {
            "PostgresExclusiveLock.AcquireAsync" => nightly.AcquireAsync(cancelled).AsTask(),
            "PostgresExclusiveLock.TryAcquireAsync" => nightly.TryAcquireAsync(TimeSpan.FromSeconds(5), cancelled).AsTask(),
            "PostgresReadWriteLock.AcquireReadAsync" => prices.AcquireReadAsync(cancelled).AsTask(),
            "PostgresReadWriteLock.AcquireWriteAsync" => prices.AcquireWriteAsync(cancelled).AsTask(),
            "PostgresKeyedLock.AcquireAsync" => accounts.AcquireAsync(1, TimeSpan.FromSeconds(5), cancelled).AsTask(),
            "PostgresKeyedLock.AcquireManyAsync" => accounts.AcquireManyAsync([1, 2], cancelled).AsTask(),
            "PostgresLockSet.AcquireAsync" => PostgresLockSet.AcquireAsync(nightly.Request(), accounts.Request(1), cancelled).AsTask(),
            "PostgresLockSet.TryAcquireAsync" => PostgresLockSet.TryAcquireAsync(TimeSpan.Zero, [prices.ReadRequest(), accounts.Request(1)], cancelled).AsTask(),
            _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
        };

        var holdingNothing = await Assert.ThrowsAnyAsync<OperationCanceledException>(Acquire);
        Assert.StartsWith("The current async flow (on thread ", holdingNothing.Message, StringComparison.Ordinal);
        Assert.Contains("already cancelled", holdingNothing.Message, StringComparison.Ordinal);

        using (var activity = new System.Diagnostics.Activity("reconcile-accounts").Start())
        {
            var named = await Assert.ThrowsAnyAsync<OperationCanceledException>(Acquire);
            Assert.StartsWith("The current async flow ('reconcile-accounts') (on thread ", named.Message, StringComparison.Ordinal);
        }

        using (await inProcess.AcquireAsync())
        {
            var holding = await Assert.ThrowsAnyAsync<OperationCanceledException>(Acquire);
            Assert.Matches(@"^Flow #\d+ \(on thread ", holding.Message);
        }

        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>
    /// An acquisition made under ExecutionContext.SuppressFlow() is a flow of its own (a record the AsyncLocal does not
    /// carry): a disposed provider's refusal names that flow and its thread, as every other acquisition's refusal does,
    /// not the thread alone.
    /// </summary>
    [Fact]
    public async Task ADisposedProvider_RefusingAnAcquisitionUnderSuppressedFlow_NamesItsFlow()
    {
        var provider = PostgresServer.Provider();
        var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("disposed-suppressed"));
        await provider.DisposeAsync();

        ObjectDisposedException error;
        using (System.Threading.ExecutionContext.SuppressFlow())
        {
            error = Assert.Throws<ObjectDisposedException>(() => { _ = nightly.AcquireAsync(TimeSpan.FromSeconds(5)); });
        }

        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) ", error.Message);
        Assert.Contains($"'{nightly.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task ADisposedProvider_RefusesAcquisitions_NamingTheLock()
    {
        var provider = PostgresServer.Provider();
        var nightly = provider.CreateExclusiveLock(PostgresServer.Unique("disposed"));
        await provider.DisposeAsync();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await nightly.AcquireAsync(TimeSpan.FromSeconds(5)));

        Assert.Contains($"'{nightly.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("was disposed", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>
    /// Opening the session counts against the timeout: the server waits only what is left, one try once it is spent,
    /// and a zero or infinite timeout passes as it is (so a 200 ms acquisition does not take 200 ms plus the connect).
    /// </summary>
    [Theory]
    [InlineData(200, 50, 150)]
    [InlineData(200, 200, 0)]
    [InlineData(200, 430, 0)]
    [InlineData(0, 30, 0)]
    [InlineData(-1, 30, -1)]
    public void TheServersWait_IsWhatIsLeftOfTheTimeoutAfterConnecting(int timeoutMs, int connectMs, int expected) =>
        Assert.Equal(expected, PostgresLock.RemainingAfter(timeoutMs, TimeSpan.FromMilliseconds(connectMs)));
}
