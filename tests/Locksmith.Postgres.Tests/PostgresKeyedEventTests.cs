using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Postgres.Tests;

/// <summary>What the host's log and health data say of a keyed lock's timeouts and long waits.</summary>
[Collection(nameof(ProcessPolicyCollection))]
public sealed class PostgresKeyedEventTests
{
    /// <summary>
    /// Before, a keyed lock's timeout (14001) and long wait (14003), and the health check's long waits, named the lock
    /// only ('accounts'), so a log line could not tell which account timed out; now they name the key as the deadlock
    /// detector does ('accounts[42]'), at the lock's level.
    /// </summary>
    [Fact]
    public async Task AKeyedLocksTimeoutAndLongWait_NameTheKey_InTheLogAndTheHealthData()
    {
        var ct = TestContext.Current.CancellationToken;
        string name = PostgresServer.Unique("accounts");
        var logs = new LinesProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(logs);
        builder.Services.AddLocksmith(static o => o.LongWaitThreshold = TimeSpan.Zero)
            .AddPostgres(PostgresServer.ConnectionString)
            .AddPostgresKeyedLock<long>(name, level: 7);
        builder.Services.AddHealthChecks().AddLocksmith();
        using var host = builder.Build();
        var accounts = host.Services.GetRequiredKeyedService<PostgresKeyedLock<long>>(name);
        await host.StartAsync(ct);

        await using var other = PostgresServer.Provider();
        var theirs = other.CreateKeyedLock<long>(name);

        // The 100 ms below go to the wait, not to opening the host's provider's first session (its lock's name is not this one).
        await PostgresServer.WarmUpAsync(host.Services.GetRequiredService<PostgresLockProvider>());
        HealthReport health;
        try
        {
            // A timeout on key 42, held by another provider.
            await using (await KeyHeldElsewhere.HoldAsync(theirs, 42L))
            {
                var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await accounts.AcquireAsync(42L, TimeSpan.FromMilliseconds(100)));
                Assert.Contains($"'{name}'[42]", error.Message, StringComparison.Ordinal);
            }

            // A long wait on key 43: granted once the other provider lets go.
            var held = await theirs.AcquireAsync(43L);
            Task<PostgresLockScope> waiting;
            using (ExecutionContext.SuppressFlow())
            {
                waiting = Task.Run(async () => await accounts.AcquireAsync(43L, TimeSpan.FromMinutes(1)));
            }

            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, accounts.KeyOf(43L));
            }

            await held.DisposeAsync();
            await using (await waiting)
            {
            }

            health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
        }
        finally
        {
            await host.StopAsync(ct);
        }

        var timeout = Assert.Single(logs.Lines, l => l.Id == LocksmithEventIds.LockTimeout && l.Text.Contains(name, StringComparison.Ordinal));
        Assert.StartsWith($"Lock '{name}[42]' (level 7, Exclusive) timed out", timeout.Text, StringComparison.Ordinal);
        var longWait = Assert.Single(logs.Lines, l => l.Id == LocksmithEventIds.LongWait && l.Text.Contains(name, StringComparison.Ordinal));
        Assert.StartsWith($"Lock '{name}[43]' (level 7, Exclusive) was acquired", longWait.Text, StringComparison.Ordinal);

        var longWaits = (string[])health.Entries["locksmith"].Data["longWaits"];
        Assert.Contains(longWaits, w => w.StartsWith($"'{name}[42]' (Exclusive) timed out", StringComparison.Ordinal));
        Assert.Contains(longWaits, w => w.StartsWith($"'{name}[43]' (Exclusive) waited", StringComparison.Ordinal));
        Assert.DoesNotContain(longWaits, w => w.StartsWith($"'{name}' ", StringComparison.Ordinal));
    }

    /// <summary>
    /// A timed try that gives up on a lock no session of this process holds (another process's, here a plain session)
    /// logs 14001 as held by "a session outside this process". Before, the line said "held by no single owner in this
    /// process", which reads as readers or permits of this process, for an exclusive lock that another instance keeps.
    /// </summary>
    [Fact]
    public async Task ATimeoutOnALockHeldByAnotherProcess_IsLoggedAsHeldOutsideThisProcess()
    {
        var ct = TestContext.Current.CancellationToken;
        string name = PostgresServer.Unique("leader");
        var logs = new LinesProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(logs);
        builder.Services.AddLocksmith()
            .AddPostgres(PostgresServer.ConnectionString)
            .AddPostgresExclusiveLock(name, level: 3);
        using var host = builder.Build();
        var leader = host.Services.GetRequiredKeyedService<PostgresExclusiveLock>(name);
        await host.StartAsync(ct);
        LockTimeoutEvent? seen = null;
        var previous = LocksmithPolicy.TimeoutOccurred;
        try
        {
            // The 100 ms go to the wait, not to opening the provider's first session.
            await PostgresServer.WarmUpAsync(host.Services.GetRequiredService<PostgresLockProvider>());
            await using var elsewhere = await PostgresServer.HoldOnPlainSessionAsync(name);
            LocksmithPolicy.TimeoutOccurred = e =>
            {
                previous?.Invoke(e);
                if (e.LockName == name)
                {
                    seen = e;
                }
            };
            await using (var attempt = await leader.TryAcquireAsync(TimeSpan.FromMilliseconds(100), ct))
            {
                Assert.False(attempt.IsAcquired);
            }

            LocksmithPolicy.TimeoutOccurred = previous;
            await PostgresServer.UnlockAllAsync(elsewhere);
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = previous;
            await host.StopAsync(ct);
        }

        Assert.NotNull(seen);
        Assert.Equal(0, seen.OwnerThreadId);
        Assert.Equal("a session outside this process", seen.OwnerThreadName);
        var timeout = Assert.Single(logs.Lines, l => l.Id == LocksmithEventIds.LockTimeout && l.Text.Contains(name, StringComparison.Ordinal));
        Assert.Contains("; held by a session outside this process (ids ", timeout.Text, StringComparison.Ordinal);
    }

    /// <summary>
    /// Before, a keyed lock's wait still under way was listed by <see cref="DeadlockDetector.CurrentWaits"/>, and so by the
    /// health check's "still waiting" lines, as the lock ('accounts'), though its events already named the key; now as
    /// the key ('accounts[44]'), at the lock's level.
    /// </summary>
    [Fact]
    public async Task AKeyedLocksWaitInProgress_NamesTheKey_InCurrentWaitsAndTheHealthData()
    {
        var ct = TestContext.Current.CancellationToken;
        string name = PostgresServer.Unique("accounts");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLocksmith(static o => o.LongWaitThreshold = TimeSpan.Zero)
            .AddPostgres(PostgresServer.ConnectionString)
            .AddPostgresKeyedLock<long>(name, level: 7);
        builder.Services.AddHealthChecks().AddLocksmith();
        using var host = builder.Build();
        var accounts = host.Services.GetRequiredKeyedService<PostgresKeyedLock<long>>(name);
        await host.StartAsync(ct);

        await using var other = PostgresServer.Provider();
        var theirs = other.CreateKeyedLock<long>(name);
        LockWaitInProgress wait;
        HealthReport health;
        try
        {
            var held = await theirs.AcquireAsync(44L);
            Task<PostgresLockScope> waiting;
            using (ExecutionContext.SuppressFlow())
            {
                waiting = Task.Run(async () => await accounts.AcquireAsync(44L, TimeSpan.FromMinutes(1)));
            }

            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, accounts.KeyOf(44L));
            }

            wait = Assert.Single(DeadlockDetector.CurrentWaits(), w => w.LockName.StartsWith(name, StringComparison.Ordinal));
            health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);

            await held.DisposeAsync();
            await using (await waiting)
            {
            }
        }
        finally
        {
            await host.StopAsync(ct);
        }

        Assert.Equal($"{name}[44]", wait.LockName);
        Assert.Equal(7, wait.LockLevel);
        Assert.Equal(LockKind.DistributedKeyed, wait.LockKind);
        Assert.True(wait.IsFlow);
        var longWaits = (string[])health.Entries["locksmith"].Data["longWaits"];
        var still = Assert.Single(longWaits, w => w.Contains(name, StringComparison.Ordinal));
        Assert.Contains($"for '{name}[44]' (Exclusive), still waiting", still, StringComparison.Ordinal);
    }

    /// <summary>The host's log lines, as rendered, with their event ids.</summary>
    private sealed class LinesProvider : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<(int Id, string Text)> _lines = new();

        public IReadOnlyList<(int Id, string Text)> Lines => _lines.ToArray();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue((eventId.Id, formatter(state, exception)));

        public void Dispose()
        {
        }
    }
}
