using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Npgsql's legacy process-wide logger (<see cref="NpgsqlLoggingConfiguration.InitializeLogging"/>) reaches only pools made
/// from a connection string (Npgsql 10.0.3 NpgsqlConnection.cs: the pool's builder is given the global factory); a data
/// source built without a logger factory logs nowhere (NpgsqlSlimDataSourceBuilder.cs: NullConfiguration). The provider
/// builds its own data sources so, so an application's throwing logger cannot make an acquisition, a release or a failed
/// acquisition's give-back throw.
/// </summary>
public sealed class PostgresGlobalLoggerCleanupTests
{
    // Throws only in the flows of this test: the factory is process-wide, and stays installed after it.
    private static readonly AsyncLocal<bool> s_throwHere = new();

    private sealed class ThrowingLoggerFactory : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => s_throwHere.Value;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (s_throwHere.Value)
            {
                throw new InvalidOperationException("the application's logger refused: " + formatter(state, exception));
            }
        }
    }

    [Fact]
    public async Task AThrowingProcessWideNpgsqlLogger_DoesNotReachTheProvider()
    {
        NpgsqlLoggingConfiguration.InitializeLogging(new ThrowingLoggerFactory());
        await Task.Run(async () =>
        {
            s_throwHere.Value = true;

            // The logger does throw where Npgsql uses it: a pool made now from a connection string of its own.
            // Unpooled: no pool timer keeps this flow's context, and the flag with it, past the test.
            var own = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { ApplicationName = PostgresServer.Unique("global_logger"), Pooling = false };
            await using (var plain = new NpgsqlConnection(own.ConnectionString))
            {
                var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => plain.OpenAsync());
                Assert.StartsWith("the application's logger refused", refused.Message, StringComparison.Ordinal);
            }

            // The provider's own pools, made after it was installed: acquisition, release, and a timed-out try's give-back.
            await using var provider = PostgresServer.Provider();
            string name = PostgresServer.Unique("global_logger");
            var ledger = provider.CreateExclusiveLock(name);
            await using (var scope = await ledger.AcquireAsync())
            {
                Assert.True(scope.IsAcquired);
            }

            var elsewhere = await HoldWithoutTheLoggerAsync(name);
            try
            {
                await Assert.ThrowsAsync<LockTimeoutException>(async () => await ledger.AcquireAsync(TimeSpan.FromMilliseconds(50)));
            }
            finally
            {
                // The shared pool may have been made after the logger was installed: closed outside the flag.
                s_throwHere.Value = false;
                await elsewhere.DisposeAsync();
                s_throwHere.Value = true;
            }

            Assert.Equal(0, provider.ConnectionsInUse);
        }).WaitAsync(PostgresServer.HangGuard, TestContext.Current.CancellationToken);
    }

    // Held by a plain session through the tests' shared pool, outside the flag (the pool may be made now, with the global logger).
    private static Task<NpgsqlConnection> HoldWithoutTheLoggerAsync(string name)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() => PostgresServer.HoldOnPlainSessionAsync(name));
        }
    }
}
