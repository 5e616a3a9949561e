using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Postgres.Tests;

[Collection(nameof(ProcessPolicyCollection))]
public sealed class PostgresMetricsAndHostingTests
{
    [Fact]
    public async Task DistributedLocks_RecordTheInProcessInstruments_WithADistributedKind()
    {
        string name = PostgresServer.Unique("metered");
        var seen = new ConcurrentQueue<(string Instrument, string Kind, string Mode)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
        listener.Start();

        void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? lockName = null, kind = null, mode = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "lock.name": lockName = tag.Value as string; break;
                    case "lock.kind": kind = tag.Value as string; break;
                    case "lock.mode": mode = tag.Value as string; break;
                }
            }

            if (lockName == name)
            {
                seen.Enqueue((instrument.Name, kind!, mode!));
            }
        }

        var timeoutEvents = new ConcurrentQueue<LockTimeoutEvent>();
        var previous = LocksmithPolicy.TimeoutOccurred;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            previous?.Invoke(e);
            if (e.LockName == name)
            {
                timeoutEvents.Enqueue(e);
            }
        };
        try
        {
            await Exercise(name);
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = previous;
        }

        var all = seen.ToArray();
        int Count(string instrument) => all.Count(m => m.Instrument == instrument);

        // Every count in one message, so a failure says what was recorded.
        string recorded = string.Join(", ", all.GroupBy(m => (m.Instrument, m.Kind, m.Mode)).Select(g => $"{g.Key}: {g.Count()}")) +
            $"; timeout events: {timeoutEvents.Count}";
        Assert.True(all.All(m => m.Kind == "distributed_exclusive" && m.Mode == "exclusive"), recorded);
        Assert.True(Count("locksmith.lock.acquisitions") == 3, recorded);
        Assert.True(Count("locksmith.lock.contentions") >= 2, recorded);
        Assert.True(Count("locksmith.lock.wait.duration") >= 2, recorded);
        Assert.True(Count("locksmith.lock.hold.duration") == 3, recorded);
        Assert.True(Count("locksmith.lock.timeouts") == 1, recorded);
        var timeoutEvent = Assert.Single(timeoutEvents);
        Assert.Equal(LockMode.Exclusive, timeoutEvent.Mode);
    }

    private static async Task Exercise(string name)
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        var mine = first.CreateExclusiveLock(name);
        var theirs = second.CreateExclusiveLock(name);

        // The second provider's first use is a try-once, whose opening has 2 s at most: its pool is opened first.
        await PostgresServer.WarmUpAsync(second);
        var held = await mine.AcquireAsync();

        // A try-once that finds the lock taken is an answer, not a timeout: no timeout metric or event (as in process).
        // theirs from flows of their own, as another process's: this flow holds the lock through the first provider.
        await using (var polled = await PostgresServer.InAFlowOfItsOwn(async () => await theirs.TryAcquireAsync(TimeSpan.Zero)))
        {
            Assert.False(polled.IsAcquired);
        }

        var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.AcquireAsync(TimeSpan.FromSeconds(60));
            return scope.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, mine.Key);
        var timedOut = await mine.Provider.CreateExclusiveLock(name + "_other").TryAcquireAsync(TimeSpan.Zero);
        await held.DisposeAsync();
        await waiter;
        await Assert.ThrowsAsync<LockTimeoutException>(async () =>
        {
            await using var holding = await mine.AcquireAsync();
            await PostgresServer.InAFlowOfItsOwn(async () => await theirs.AcquireAsync(TimeSpan.FromMilliseconds(50)));
        });
        await timedOut.DisposeAsync();
    }

    [Fact]
    public async Task AddPostgres_RegistersTheProvider_AndTheLocksAppearInTheCatalog()
    {
        string exclusive = PostgresServer.Unique("nightly");
        string readWrite = PostgresServer.Unique("prices");
        string keyed = PostgresServer.Unique("accounts");
        var services = new ServiceCollection();
        services.AddLocksmith()
            .AddPostgres(PostgresServer.ConnectionString, o => o.ConnectionBudget = 3)
            .AddPostgresExclusiveLock(exclusive, level: 5)
            .AddPostgresReadWriteLock(readWrite, level: 6)
            .AddPostgresKeyedLock<long>(keyed, level: 7);
        await using var container = services.BuildServiceProvider();

        var provider = container.GetRequiredService<PostgresLockProvider>();
        var job = container.GetRequiredKeyedService<PostgresExclusiveLock>(exclusive);
        var accounts = container.GetRequiredKeyedService<PostgresKeyedLock<long>>(keyed);
        var catalog = container.GetRequiredService<ILockCatalog>();
        Assert.Equal(3, provider.ConnectionBudget);
        Assert.Same(provider, job.Provider);
        Assert.Equal(5, job.Level);

        await using (var held = await job.AcquireAsync())
        await using (var key = await accounts.AcquireAsync(9L))
        {
            var rows = catalog.Snapshot().Where(e => e.Name == exclusive || e.Name == keyed || e.Name == readWrite).ToList();
            Assert.Equal(3, rows.Count);
            var jobRow = rows.Single(r => r.Name == exclusive);
            Assert.Equal(LockKind.DistributedExclusive, jobRow.Kind);
            Assert.True(jobRow.State.IsHeld);
            Assert.Equal(LockKind.DistributedKeyed, rows.Single(r => r.Name == keyed).Kind);
            Assert.False(rows.Single(r => r.Name == readWrite).State.IsHeld);
        }

        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>
    /// A connection string that is null, empty or blank (a GetConnectionString that found nothing, an unset variable) fails
    /// at AddPostgres, saying which call, what it needs and where such a value usually comes from; before, the bare BCL
    /// "The value cannot be an empty string or composed entirely of whitespace."
    /// </summary>
    [Theory]
    [InlineData(null, "it was null")]
    [InlineData("", "it was empty")]
    [InlineData("  ", "it was blank")]
    public void AddPostgres_GivenNoConnectionString_SaysWhichCallAndWhatItNeeds(string? connectionString, string what)
    {
        var services = new ServiceCollection();
        var builder = services.AddLocksmith();
        var error = Assert.ThrowsAny<ArgumentException>(() => builder.AddPostgres(connectionString!));
        Assert.Equal("connectionString", error.ParamName);
        Assert.StartsWith("AddPostgres needs the connection string of the locks' PostgreSQL database; " + what, error.Message, StringComparison.Ordinal);
        Assert.Contains("GetConnectionString(", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(services, static d => d.ServiceType == typeof(PostgresLockProvider));
    }

    /// <summary>
    /// Registration mistakes fail where they are written, naming what to change: a bad option at AddPostgres, a second
    /// AddPostgres, and a PostgreSQL lock without a provider when it is resolved. None of these needs the server.
    /// </summary>
    [Fact]
    public async Task AddPostgres_RefusesBadOptions_ASecondCall_AndALockWithoutAProvider_NamingTheFix()
    {
        var budget = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ServiceCollection().AddLocksmith().AddPostgres("Host=127.0.0.1;Database=locks", o => o.ConnectionBudget = 0));
        Assert.Contains("ConnectionBudget = 0", budget.Message, StringComparison.Ordinal);
        var interval = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ServiceCollection().AddLocksmith().AddPostgres("Host=127.0.0.1;Database=locks", o => o.LostLockCheckInterval = TimeSpan.Zero));
        Assert.Contains("LostLockCheckInterval", interval.Message, StringComparison.Ordinal);
        var checkTimeout = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ServiceCollection().AddLocksmith().AddPostgres("Host=127.0.0.1;Database=locks", o => o.LostLockCheckTimeout = TimeSpan.Zero));
        Assert.Contains("LostLockCheckTimeout = 00:00:00", checkTimeout.Message, StringComparison.Ordinal);
        var timeout = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ServiceCollection().AddLocksmith().AddPostgres("Host=127.0.0.1;Database=locks", o => o.DefaultTimeout = TimeSpan.FromDays(30)));
        Assert.Contains("DefaultTimeout", timeout.Message, StringComparison.Ordinal);
        var malformed = Assert.Throws<ArgumentException>(() =>
            new ServiceCollection().AddLocksmith().AddPostgres("Host=127.0.0.1;Colour=blue"));
        Assert.Contains("ConnectionString is not a valid Npgsql connection string", malformed.Message, StringComparison.Ordinal);

        var twice = new ServiceCollection();
        var builder = twice.AddLocksmith().AddPostgres("Host=127.0.0.1;Database=locks");
        var second = Assert.Throws<InvalidOperationException>(() => builder.AddPostgres("Host=other;Database=x"));
        Assert.Contains("A PostgresLockProvider is already registered", second.Message, StringComparison.Ordinal);
        Assert.Single(twice, static d => d.ServiceType == typeof(PostgresLockProvider));

        string name = PostgresServer.Unique("orphan");
        var orphan = new ServiceCollection();
        orphan.AddLocksmith().AddPostgresExclusiveLock(name);
        await using var container = orphan.BuildServiceProvider();
        var missing = Assert.Throws<InvalidOperationException>(() => container.GetRequiredKeyedService<PostgresExclusiveLock>(name));
        Assert.Contains($"'{name}' is a PostgreSQL lock", missing.Message, StringComparison.Ordinal);
        Assert.Contains("AddPostgres(connectionString)", missing.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A host whose PostgreSQL locks have no provider fails its start naming them and the fix, before any hosted
    /// service starts; before, it started, and the first resolution (or any catalog snapshot) failed later. Declared
    /// before AddPostgres, the locks start fine. Neither host reaches the server.
    /// </summary>
    [Fact]
    public async Task AHostWithPostgresLocksButNoProvider_FailsItsStart_NamingThemAndTheFix()
    {
        var ct = TestContext.Current.CancellationToken;
        string counter = PostgresServer.Unique("orphan-counter"), accounts = PostgresServer.Unique("orphan-accounts");
        var orphan = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        orphan.Services.AddLocksmith(static o => o.InstallProcessPolicy = false)
            .AddPostgresExclusiveLock(counter)
            .AddPostgresKeyedLock<long>(accounts, level: 10);
        using var failing = orphan.Build();

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => failing.StartAsync(ct));

        Assert.Contains($"'{counter}', '{accounts}' are PostgreSQL locks, but no PostgresLockProvider is registered", error.Message, StringComparison.Ordinal);
        Assert.Contains("call AddPostgres(connectionString) on the Locksmith builder", error.Message, StringComparison.Ordinal);

        var later = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        later.Services.AddLocksmith(static o => o.InstallProcessPolicy = false)
            .AddPostgresExclusiveLock(counter)
            .AddPostgres(PostgresServer.ConnectionString);
        using var host = later.Build();
        await host.StartAsync(ct);
        await host.StopAsync(ct);
    }
}
