using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A distributed lock's wait records the thread it began on, as the in-process async waits do: a flow's wait is named with
/// its thread in <see cref="DeadlockDetector.CurrentWaits"/> (so the health check's long waits and the shutdown's 14007
/// lines) and in a cycle's edges (the 14004/14005 lines). Before, the thread was left out (<c>FlowThread</c> null).
/// </summary>
public sealed class PostgresWaitStatisticsThreadTests
{
    private static string ThreadText(int id, string? name) => string.IsNullOrEmpty(name) ? id.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{id} ('{name}')";

    [Fact]
    public async Task AWaitInProgress_NamesTheThreadItBeganOn_InCurrentWaitsAndTheHealthData()
    {
        var ct = TestContext.Current.CancellationToken;
        string name = PostgresServer.Unique("thread_wait");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLocksmith(static o => o.LongWaitThreshold = TimeSpan.Zero)
            .AddPostgres(PostgresServer.ConnectionString)
            .AddPostgresExclusiveLock(name, level: 7);
        builder.Services.AddHealthChecks().AddLocksmith();
        using var host = builder.Build();
        var mine = host.Services.GetRequiredKeyedService<PostgresExclusiveLock>(name);
        await host.StartAsync(ct);

        await using var other = PostgresServer.Provider();
        LockWaitInProgress wait;
        HealthReport health;
        int threadId = 0;
        try
        {
            var held = await other.CreateExclusiveLock(name).AcquireAsync();
            Task<PostgresLockScope>? waiting = null;

            // The wait begins on a named thread of its own, a flow of its own (the test's context does not flow to it).
            var starter = new Thread(() =>
            {
                threadId = Environment.CurrentManagedThreadId;
                waiting = mine.AcquireAsync(TimeSpan.FromMinutes(1)).AsTask();
            })
            { Name = "pg-wait-starter" };
            using (ExecutionContext.SuppressFlow())
            {
                starter.Start();
            }

            Assert.True(starter.Join(PostgresServer.HangGuard));
            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, mine.Key);
            }

            wait = Assert.Single(DeadlockDetector.CurrentWaits(), w => w.LockName == name);
            health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);

            await held.DisposeAsync();
            await using (await waiting!.WaitAsync(PostgresServer.HangGuard, ct))
            {
            }
        }
        finally
        {
            await host.StopAsync(ct);
        }

        Assert.True(wait.IsFlow);
        Assert.Equal(ThreadText(threadId, "pg-wait-starter"), wait.FlowThread);
        Assert.EndsWith($"(on thread {threadId} ('pg-wait-starter'))", wait.Waiter, StringComparison.Ordinal);
        var longWaits = (string[])health.Entries["locksmith"].Data["longWaits"];
        var still = Assert.Single(longWaits, w => w.Contains(name, StringComparison.Ordinal));
        Assert.Contains($"(on thread {threadId} ('pg-wait-starter'))", still, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACyclesDistributedEdge_NamesTheThreadTheWaitBeganOn()
    {
        await using var provider = PostgresServer.Provider();
        var distributed = provider.CreateExclusiveLock(PostgresServer.Unique("ledger"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("cache"));
        string? began = null;

        var found = await DetectorCycle.FindAsync(
            () => distributed.AcquireAsync(),
            local,
            async breakTheCycle =>
            {
                // The acquisition's synchronous start (and so its wait's) runs on this thread.
                began = ThreadText(Environment.CurrentManagedThreadId, Thread.CurrentThread.Name);
                await using var then = await distributed.AcquireAsync(Timeout.InfiniteTimeSpan, breakTheCycle);
            },
            distributed.Name,
            polls: 3000);

        Assert.NotNull(found);
        var edge = Assert.Single(found.Edges, e => e.LockName == distributed.Name);
        Assert.NotNull(began);
        Assert.Equal(began, edge.FlowThread);
    }
}
