using System;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// <see cref="PostgresLockProviderOptions.LoggerFactory"/>: a provider made with <c>new</c> logs its lost locks there (it
/// logged nothing before, with no way to give it a logger), and <c>AddPostgres</c> prefers it to the container's.
/// </summary>
public sealed class PostgresLoggerFactoryOptionTests
{
    private const string Category = "Locksmith";

    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task AProviderMadeWithNew_LogsALostLock_ToTheFactoryOfItsOptions()
    {
        string name = PostgresServer.Unique("lostfactory_new");
        var capture = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(logging => logging.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = PostgresServer.ConnectionString,
            LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
            LoggerFactory = factory,
        });

        var scope = await provider.CreateExclusiveLock(name).AcquireAsync();
        await TerminateAsync(scope.SessionProcessId);
        await LostAsync(scope);

        var line = Assert.Single(capture.Lines(Category, LocksmithEventIds.DistributedLockLost));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal(name, line.Fields["LockName"]);
        Assert.Equal(scope.SessionProcessId, line.Fields["ProcessId"]);
        await scope.DisposeAsync();
        Assert.Single(capture.Lines(Category, LocksmithEventIds.DistributedLockLost));
    }

    [Fact]
    public async Task AddPostgres_WithAFactoryInItsOptions_LogsThere_NotToTheContainersLogger()
    {
        string name = PostgresServer.Unique("lostfactory_di");
        var containers = new CapturingLoggerProvider();
        var options = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(logging => logging.AddProvider(options).SetMinimumLevel(LogLevel.Trace));
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(containers).SetMinimumLevel(LogLevel.Trace));
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString, o =>
        {
            o.LostLockCheckInterval = TimeSpan.FromMilliseconds(100);
            o.LoggerFactory = factory;
        });
        await using var container = services.BuildServiceProvider();
        var provider = container.GetRequiredService<PostgresLockProvider>();

        var scope = await provider.CreateExclusiveLock(name).AcquireAsync();
        await TerminateAsync(scope.SessionProcessId);
        await LostAsync(scope);

        Assert.Equal(name, Assert.Single(options.Lines(Category, LocksmithEventIds.DistributedLockLost)).Fields["LockName"]);
        Assert.Empty(containers.Lines(Category, LocksmithEventIds.DistributedLockLost));
        await scope.DisposeAsync();
    }

    private static async Task TerminateAsync(int pid)
    {
        await using var admin = await PostgresServer.OpenAsync();
        await using var terminate = new NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", admin);
        terminate.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
    }

    private static Task LostAsync(PostgresLockScope scope)
    {
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        scope.LostToken.Register(() => lost.TrySetResult());
        return lost.Task.WaitAsync(s_guard);
    }
}
