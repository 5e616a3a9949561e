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
