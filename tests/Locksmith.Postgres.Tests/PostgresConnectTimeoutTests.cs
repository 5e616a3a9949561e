using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// An acquisition's timeout bounds the opening of its flow's session too. Before, the opening waited for the connection
/// string's <c>Timeout</c> (15 s by default) whatever the acquisition's timeout: <c>TryAcquireAsync(TimeSpan.FromSeconds(1))</c>
/// behind a proxy that accepts the connection while the server behind it does not answer returned after 15 s. Now it throws
/// once its timeout is spent, an <see cref="NpgsqlException"/> (as an opening that fails for any other reason does, not a
/// <see cref="LockTimeoutException"/> or <c>false</c>: no holder refused the lock) naming the lock, the server and that the
/// session could not be opened within the acquisition's timeout; the opening finishes alone and gives its connection to the pool.
/// An opening has at least 2 s however short the timeout (a try-once's included), so a short poll does not fail on a healthy
/// server's cold pool: the many tests that try a lock with 50 ms on a new provider (PostgresKeyedAndReadWriteTests, say) failed
/// with the opening bounded by the timeout alone.
/// </summary>
public sealed class PostgresConnectTimeoutTests
{
    public enum Form
    {
        Acquire,
        TryAcquire,
        TrySet,
        TryOnce,
    }

    [Theory]
    [InlineData(Form.Acquire)]
    [InlineData(Form.TryAcquire)]
    [InlineData(Form.TrySet)]
    [InlineData(Form.TryOnce)]
    public async Task AnAcquisitionWhoseSessionDoesNotOpenWithinItsTimeout_ThrowsSayingSo_HoldingNothing(Form form)
    {
        await using var relay = new TcpRelay();
        await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            // Without TLS the relay is the only party to the opening: it accepts the connection and relays nothing until told.
            ConnectionString = new NpgsqlConnectionStringBuilder(relay.ConnectionString) { SslMode = SslMode.Disable, Timeout = 1024 }.ConnectionString,
            ConnectionBudget = 2,
        });
        try
        {
            string name = PostgresServer.Unique("connect_timeout");
            var nightly = provider.CreateExclusiveLock(name, level: 1);
            var weekly = provider.CreateExclusiveLock(name + "_weekly", level: 2);
            relay.HoldNewConnections();
            var second = TimeSpan.FromSeconds(1);
            Task acquiring = form switch
            {
                Form.Acquire => nightly.AcquireAsync(second).AsTask(),
                Form.TryAcquire => nightly.TryAcquireAsync(second).AsTask(),
                Form.TryOnce => nightly.TryAcquireAsync(TimeSpan.Zero).AsTask(),
                _ => PostgresLockSet.TryAcquireAsync(second, [nightly.Request(), weekly.Request()]).AsTask(),
            };

            // The relay answers nothing until told, and the opening's Timeout (1024 s, Npgsql's most) is far beyond this bound:
            // before, the acquisition ended with that Timeout only.
            var error = await Assert.ThrowsAsync<NpgsqlException>(() => acquiring.WaitAsync(TimeSpan.FromSeconds(60)));

            OpeningRanOut.AssertReported(error, relay, provider, $"'{name}' (level 1)");

            // The opening finishes alone; the provider takes the lock on a connection of its pool.
            relay.LetThrough();
            await using var scope = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
            Assert.True(scope.IsAcquired);
        }
        finally
        {
            relay.LetThrough();
        }
    }
}
