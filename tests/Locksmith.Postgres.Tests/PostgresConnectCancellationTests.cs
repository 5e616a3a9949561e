using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// An acquisition whose flow has no session yet opens one, and the server's answer to the opening may be slow to come (a
/// proxy or load balancer that accepts the connection while the server behind it does not answer, a server out of
/// processes). Npgsql reads that answer without the caller's token, until the connection string's <c>Timeout</c> (15 s by
/// default), so a cancellation, or the provider's disposal, did not end the acquisition: it ended that much later, with an
/// NpgsqlException saying the session could not be opened. Now either ends it at once, holding nothing and using no
/// connection of the budget; the opening, left to finish alone, gives its connection back to the pool.
/// </summary>
public sealed class PostgresConnectCancellationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAcquisitionWhoseSessionIsStillOpening_EndsAtOnce_WhenCancelledOrWhenTheProviderIsDisposed(bool disposeProvider)
    {
        await using var relay = new TcpRelay();
        var provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            // Without TLS the relay is the only party to the opening: it accepts the connection and relays nothing until told.
            ConnectionString = new NpgsqlConnectionStringBuilder(relay.ConnectionString) { SslMode = SslMode.Disable, Timeout = 1024 }.ConnectionString,
            ConnectionBudget = 1,
            DefaultTimeout = TimeSpan.FromSeconds(60),
        });
        try
        {
            string name = PostgresServer.Unique("connect_cancelled");
            var nightly = provider.CreateExclusiveLock(name);
            relay.HoldNewConnections();
            using var cancel = new CancellationTokenSource();
            var acquiring = nightly.AcquireAsync(TimeSpan.FromSeconds(60), cancel.Token).AsTask();
            for (int i = 0; i < 3000 && relay.HeldConnections == 0; i++)
            {
                await Task.Delay(10);
            }

            Assert.Equal(1, relay.HeldConnections);

            // The relay answers nothing until told, and the opening's Timeout (1024 s, Npgsql's most) is beyond the hang
            // guard: before, the acquisition ended with that Timeout only.
            Exception error;
            if (disposeProvider)
            {
                await provider.DisposeAsync();
                error = await Assert.ThrowsAsync<ObjectDisposedException>(() => acquiring.WaitAsync(PostgresServer.HangGuard));
            }
            else
            {
                await cancel.CancelAsync();

                error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => acquiring.WaitAsync(PostgresServer.HangGuard));
                Assert.Equal(cancel.Token, ((OperationCanceledException)error).CancellationToken);
                Assert.EndsWith(": its cancellation token was cancelled; nothing is held.", error.Message, StringComparison.Ordinal);
            }

            Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, provider.ConnectionsInUse);
            Assert.Equal(0, provider.HeldCount);

            // The opening finishes alone; a provider still in use takes the lock on a connection of its pool.
            relay.LetThrough();
            if (!disposeProvider)
            {
                await using var scope = await nightly.AcquireAsync(TimeSpan.FromSeconds(30));
                Assert.True(scope.IsAcquired);
            }
        }
        finally
        {
            relay.LetThrough();
            await provider.DisposeAsync();
        }
    }
}
