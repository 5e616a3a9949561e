using System;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A lock lost with its session is logged (a warning naming the lock, the backend pid and the cause) and counted
/// (<c>locksmith.lock.losses</c>), once per hold lost; a release, and the provider's disposal, log and count nothing.
/// </summary>
public sealed class PostgresLostLockReportTests
{
    private const string Category = "Locksmith";
    private const string Instrument = "locksmith.lock.losses";

    // Bounded only so a hang fails the test instead of the run; nothing here measures time.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Before, a session the server ended while it held two locks of a flow cancelled their LostToken and nothing else:
    /// no line, no measurement. Now one warning per lock (the registered one and a keyed one), each naming it, its key and
    /// the backend pid, and one count each on the lock's own meter (the container's for the registered lock); another
    /// flow's lock on another session is neither lost nor reported, and its release, like the lost scopes', adds nothing.
    /// </summary>
    [Fact]
    public async Task ABackendTerminatedUnderTwoHolds_LogsAWarningForEachLock_AndCountsTwo()
    {
        string name = PostgresServer.Unique("lostreport");
        var capture = new CapturingLoggerProvider();
        using var measured = new LostLockMeasurements(Instrument);
        await using var container = Container(capture, name + "_a", TimeSpan.FromMilliseconds(100));
        var provider = container.GetRequiredService<PostgresLockProvider>();
        var registered = container.GetRequiredKeyedService<PostgresExclusiveLock>(name + "_a");
        var keyed = provider.CreateKeyedLock<long>(name + "_k", level: 10);
        var other = provider.CreateExclusiveLock(name + "_c");

        var a = await registered.AcquireAsync();
        var k = await keyed.AcquireAsync(7);
        var c = await PostgresServer.InAFlowOfItsOwn(async () => await other.AcquireAsync());
        int pid = a.SessionProcessId;
        Assert.Equal(pid, k.SessionProcessId);
        Assert.NotEqual(pid, c.SessionProcessId);

        await TerminateAsync(pid);
        await LostAsync(a);
        await LostAsync(k);

        var lines = capture.Lines(Category, LocksmithEventIds.DistributedLockLost);
        string all = string.Join("\n", lines.Select(static l => l.Message));
        Assert.True(lines.Length == 2, all);
        Assert.All(lines, line =>
        {
            Assert.Equal(LogLevel.Warning, line.Level);
            Assert.Equal("DistributedLockLost", line.EventName);
            Assert.Equal(pid, line.Fields["ProcessId"]);
            Assert.Contains($"backend pid {pid}", line.Message, StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(line.Fields["Cause"] as string), all);
        });
        var ofA = Assert.Single(lines, l => Equals(l.Fields["LockName"], name + "_a"));
        Assert.Contains(a.LockDescription, ofA.Message, StringComparison.Ordinal);
        Assert.Contains(registered.Key.ToString(), ofA.Message, StringComparison.Ordinal);
        var ofK = Assert.Single(lines, l => Equals(l.Fields["LockName"], name + "_k"));
        Assert.Contains($"'{name}_k'[7] (level 10)", ofK.Message, StringComparison.Ordinal);
        Assert.Equal(k.LockDescription, ofK.Fields["LockDescription"]);

        var counted = measured.Of(name + "_a", name + "_k", name + "_c");
        Assert.Equal(2, counted.Sum(static m => m.Value));
        var countedA = Assert.Single(counted, m => Equals(m.Tags["lock.name"], name + "_a"));
        Assert.Equal("distributed_exclusive", countedA.Tags["lock.kind"]);
        Assert.Equal("exclusive", countedA.Tags["lock.mode"]);
        Assert.NotNull(countedA.Meter.Scope);
        var countedK = Assert.Single(counted, m => Equals(m.Tags["lock.name"], name + "_k"));
        Assert.Null(countedK.Meter.Scope);

        Assert.False(c.IsLost);
        await c.DisposeAsync();
        await a.DisposeAsync();
        await k.DisposeAsync();
        Assert.Equal(2, capture.Lines(Category, LocksmithEventIds.DistributedLockLost).Length);
        Assert.Equal(2, measured.Of(name + "_a", name + "_k", name + "_c").Sum(static m => m.Value));
    }

    /// <summary>
    /// The connection broke under the flow's wait for another lock (the lost-lock check kept out of the way): the lock it
    /// held is reported once, with the cause; the lock it waited for, never held, is not.
    /// </summary>
    [Fact]
    public async Task ASessionEndedUnderAWait_ReportsTheLockItHeld_NotTheOneItWaitedFor()
    {
        string name = PostgresServer.Unique("lostreport_wait");
        var capture = new CapturingLoggerProvider();
        using var measured = new LostLockMeasurements(Instrument);
        await using var container = Container(capture, name + "_held", TimeSpan.FromHours(1));
        var provider = container.GetRequiredService<PostgresLockProvider>();
        var held = container.GetRequiredKeyedService<PostgresExclusiveLock>(name + "_held");
        var wanted = provider.CreateExclusiveLock(name + "_wanted");
        await using var theirs = PostgresServer.Provider();
        await using var blocker = await PostgresServer.InAFlowOfItsOwn(async () => await theirs.CreateExclusiveLock(name + "_wanted").AcquireAsync());

        var scope = await held.AcquireAsync();
        await LoseUnderAWaitAsync(scope, wanted);

        var line = Assert.Single(capture.Lines(Category, LocksmithEventIds.DistributedLockLost));
        Assert.Equal(name + "_held", line.Fields["LockName"]);
        Assert.Equal(scope.SessionProcessId, line.Fields["ProcessId"]);
        Assert.Contains("broke", line.Fields["Cause"] as string, StringComparison.Ordinal);
        Assert.Equal(1, measured.Of(name + "_held", name + "_wanted").Sum(static m => m.Value));
        await scope.DisposeAsync();
        Assert.Single(capture.Lines(Category, LocksmithEventIds.DistributedLockLost));
    }

    /// <summary>
    /// Releases (plain, keyed, shared), a try that found the lock taken, and the provider's disposal under a held lock
    /// (its LostToken is cancelled, by the application's choice) log and count nothing; a loss after them, reported,
    /// shows the report was on.
    /// </summary>
    [Fact]
    public async Task ReleasesATryAndTheProvidersDisposal_LogAndCountNothing()
    {
        string name = PostgresServer.Unique("lostreport_none");
        var capture = new CapturingLoggerProvider();
        using var measured = new LostLockMeasurements(Instrument);
        string[] names = [name + "_x", name + "_rw", name + "_k", name + "_taken", name + "_kept", name + "_lost"];
        var container = Container(capture, name + "_x", TimeSpan.FromMilliseconds(100));
        var provider = container.GetRequiredService<PostgresLockProvider>();
        var exclusive = container.GetRequiredKeyedService<PostgresExclusiveLock>(name + "_x");
        var readWrite = provider.CreateReadWriteLock(name + "_rw");
        var keyed = provider.CreateKeyedLock<int>(name + "_k");
        await using var theirs = PostgresServer.Provider();
        await using var blocker = await PostgresServer.InAFlowOfItsOwn(async () => await theirs.CreateExclusiveLock(name + "_taken").AcquireAsync());

        for (int i = 0; i < 3; i++)
        {
            await using (await exclusive.AcquireAsync())
            await using (await readWrite.AcquireReadAsync())
            await using (await keyed.AcquireAsync(i))
            await using (var taken = await provider.CreateExclusiveLock(name + "_taken").TryAcquireAsync(TimeSpan.Zero))
            {
                Assert.False(taken.IsAcquired);
            }

            using (await exclusive.AcquireAsync())
            {
            }
        }

        // A loss after the releases, in a flow of its own: reported, so the report was on while they ran.
        var lost = await PostgresServer.InAFlowOfItsOwn(async () => await provider.CreateExclusiveLock(name + "_lost").AcquireAsync());
        await TerminateAsync(lost.SessionProcessId);
        await LostAsync(lost);
        var line = Assert.Single(capture.Lines(Category, LocksmithEventIds.DistributedLockLost));
        Assert.Equal(name + "_lost", line.Fields["LockName"]);
        await lost.DisposeAsync();

        var kept = await provider.CreateExclusiveLock(name + "_kept").AcquireAsync();
        await container.DisposeAsync();
        Assert.True(kept.IsLost);
        await kept.DisposeAsync();

        Assert.Single(capture.Lines(Category, LocksmithEventIds.DistributedLockLost));
        var counted = measured.Of(names);
        Assert.Equal(name + "_lost", Assert.Single(counted).Tags["lock.name"]);
        Assert.Equal(1, counted[0].Value);
    }

    /// <summary>
    /// A log sink and a meter listener that throw on the report lose their line and count, nothing else: the report runs
    /// inside the failing command's connection-state change, whose own error (57P01) is still the wait's, the hold is still
    /// lost, and its release and the provider's books end clean.
    /// </summary>
    [Fact]
    public async Task ASinkAndAListenerThatThrowOnTheReport_LoseOnlyTheirLineAndCount()
    {
        string name = PostgresServer.Unique("lostreport_throwing");
        var capture = new CapturingLoggerProvider(throwOn: LocksmithEventIds.DistributedLockLost);
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == Instrument)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => throw new InvalidOperationException("The listener failed."));
        listener.Start();
        await using var container = Container(capture, name + "_held", TimeSpan.FromHours(1));
        var provider = container.GetRequiredService<PostgresLockProvider>();
        var held = container.GetRequiredKeyedService<PostgresExclusiveLock>(name + "_held");
        var wanted = provider.CreateExclusiveLock(name + "_wanted");
        await using var theirs = PostgresServer.Provider();
        await using var blocker = await PostgresServer.InAFlowOfItsOwn(async () => await theirs.CreateExclusiveLock(name + "_wanted").AcquireAsync());

        var scope = await held.AcquireAsync();
        await LoseUnderAWaitAsync(scope, wanted);
        Assert.Equal(1, capture.Thrown);
        await scope.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    private static ServiceProvider Container(CapturingLoggerProvider capture, string registered, TimeSpan checkInterval)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        services.AddMetrics();
        services.AddLocksmith()
            .AddPostgres(PostgresServer.ConnectionString, o => o.LostLockCheckInterval = checkInterval)
            .AddPostgresExclusiveLock(registered);
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// Waits for <paramref name="wanted"/> (held by another process) on the session of <paramref name="scope"/>, ends
    /// that session's backend, and checks the wait failed with it (57P01) and the hold is lost. Called by the flow that
    /// holds <paramref name="scope"/>, whose flow the wait joins, so it is on the same session.
    /// </summary>
    private static async Task LoseUnderAWaitAsync(PostgresLockScope scope, PostgresExclusiveLock wanted)
    {
        var wait = WaitInThisFlowAsync(wanted);
        await using (var admin = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, wanted.Key);
        }

        await TerminateAsync(scope.SessionProcessId);
        var error = await Assert.ThrowsAsync<NpgsqlException>(() => wait.WaitAsync(s_guard));
        Assert.Contains("57P01", error.Message, StringComparison.Ordinal);
        await LostAsync(scope);
    }

    private static async Task<PostgresLockScope> WaitInThisFlowAsync(PostgresExclusiveLock wanted)
    {
        await using var scope = await wanted.AcquireAsync(TimeSpan.FromSeconds(60));
        return scope;
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
