using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// What a new user writes from README's Hosting, Async locks and Source generator sections: a real
/// <c>Host.CreateApplicationBuilder</c> host, options from in-memory configuration, a <see cref="BackgroundService"/> and a
/// handler sharing an injected async lock, and a <c>[Guarded]</c> class with async cores.
/// </summary>
public sealed class NewUserHostedServiceTests
{
    private const int Messages = 200;

    // As an app's Program.cs does, with its settings in memory instead of appsettings.json.
    private static IHost BuildApp(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLocksmith(builder.Configuration.GetSection("Locksmith"))
            .AddExclusiveLock("ledger", level: 10)
            .AddReadWriteLock("rates", level: 5, ReadWritePolicy.WriterPreferred)
            .AddAsyncExclusiveLock("outbox", level: 40)
            .AddAsyncStripedLock<string>("orders", stripeCount: 8, level: 30);
        builder.Services.AddHealthChecks().AddLocksmith(tags: ["ready"]);
        builder.Services.AddSingleton<Outbox>();
        builder.Services.AddSingleton<OrderHandler>();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Locksmith:DefaultTimeout"] = "00:00:30",
            ["Locksmith:LongWaitThreshold"] = "00:00:00.010",
            ["Locksmith:HealthWindow"] = "01:00:00",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task Options_from_configuration_are_in_force_while_the_host_runs_and_the_named_locks_resolve_as_registered()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var host = BuildApp(Settings(("Locksmith:OrderViolationAction", "Report")));
        await host.StartAsync(ct);
        var running = (LocksmithPolicy.DefaultTimeout, LocksmithPolicy.OrderViolationAction, LocksmithPolicy.LongWaitThreshold);
        var options = host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>().CurrentValue;
        var entries = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks();
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var orders = host.Services.GetRequiredKeyedService<AsyncStripedLock<string>>("orders");
        await host.StopAsync(ct);

        Assert.Equal((TimeSpan.FromSeconds(30), OrderViolationAction.Report, TimeSpan.FromMilliseconds(10)), running);
        Assert.Equal(TimeSpan.FromHours(1), options.HealthWindow);
        Assert.Equal(("outbox", 40, LockKind.AsyncExclusive), (outbox.Name, outbox.Level, outbox.Kind));
        Assert.Equal(("orders", 30, 8), (orders.Name, orders.Level, orders.StripeCount));
        // The catalog lists the global order: level, then name.
        Assert.Equal(
            [("rates", LockKind.ReadWrite), ("ledger", LockKind.Exclusive), ("orders", LockKind.AsyncStriped), ("outbox", LockKind.AsyncExclusive)],
            entries.Select(e => (e.Name, e.Kind)));
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Theory]
    [InlineData("Locksmith:WatchdogInterval", "00:00:00", typeof(OptionsValidationException), "Locksmith:WatchdogInterval = '00:00:00' is invalid: it must be at least 00:00:00.001")]
    [InlineData("Locksmith:DefaultTimeout", "5s", typeof(InvalidOperationException), "Locksmith:DefaultTimeout = '5s' is invalid: it must be a time span written [d.]hh:mm:ss[.fffffff]")]
    [InlineData("Locksmith:DefaultTimeout", "5", typeof(InvalidOperationException), "Locksmith:DefaultTimeout = '5' is invalid: a bare number is read as days")]
    [InlineData("Locksmith:DefaultTimeOutt", "00:00:05", typeof(InvalidOperationException), "'Locksmith:DefaultTimeOutt' is not a Locksmith setting")]
    [InlineData("Locksmith:OrderViolationAction", "Warn", typeof(InvalidOperationException), "one of Throw, Report, Ignore")]
    [InlineData("Locksmith:DegradedTimeoutCount", "-1", typeof(OptionsValidationException), "Locksmith:DegradedTimeoutCount = '-1' is invalid")]
    public async Task A_bad_setting_fails_the_start_with_a_message_naming_its_key_and_no_service_runs(string key, string value, Type expectedType, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var host = BuildApp(Settings((key, value)), s => s.AddHostedService<OutboxDrainer>());

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(ct));

        Assert.IsType(expectedType, error); // binding errors as the binder's, range checks as ValidateOnStart's
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_background_service_and_a_handler_share_the_injected_async_lock_through_generated_wrappers_and_lose_no_update()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildApp(Settings(), s => s.AddHostedService<OutboxDrainer>());
        var handler = host.Services.GetRequiredService<OrderHandler>();
        var outbox = host.Services.GetRequiredService<Outbox>();
        await host.StartAsync(ct);

        // Four handler flows at once, as concurrent requests would be, each posting through the generated EnqueueAsync.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(f => Task.Run(async () =>
        {
            for (int i = 0; i < Messages / 4; i++)
            {
                await handler.HandleAsync($"order-{f}-{i}", ct);
            }
        }, ct))).WaitAsync(Guard.HangLimit, ct);
        await outbox.AllDrained(Messages).WaitAsync(Guard.HangLimit, ct);
        int pending = await outbox.PendingAsync(ct);
        await host.StopAsync(ct);

        Assert.Equal(Messages, handler.Handled);
        Assert.Equal(Messages, outbox.Drained);
        Assert.Equal(0, pending);
        Assert.False(host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox").IsHeld);
    }

    [Fact]
    public async Task The_timed_generated_wrapper_returns_not_acquired_while_another_flow_holds_the_lock_and_runs_the_core_once_free()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildApp(Settings());
        await host.StartAsync(ct);
        var outbox = host.Services.GetRequiredService<Outbox>();
        var outboxLock = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");

        (bool Acquired, int Result) refused;
        using (await outboxLock.AcquireAsync(ct))
        {
            refused = await OtherFlow(async () => await outbox.TryEnqueueAsync(TimeSpan.FromMilliseconds(20), "late", ct));
        }

        var granted = await outbox.TryEnqueueAsync(TimeSpan.FromMilliseconds(20), "on time", ct);
        await host.StopAsync(ct);

        Assert.Equal((false, 0), refused);
        Assert.Equal((true, 1), granted);
    }

    [Fact]
    public async Task A_contended_async_acquisition_shows_in_the_containers_meter_and_a_timed_out_wait_turns_health_degraded()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildApp(Settings());
        await host.StartAsync(ct);
        var outboxLock = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        var contentions = new List<(long Value, string? Name, string? Kind)>();
        int waits = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // The container's meter only: a listener on every "Locksmith" meter would hear other hosts' locks too.
            if (instrument.Meter.Name == "Locksmith" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "locksmith.lock.contentions")
            {
                lock (contentions)
                {
                    contentions.Add((value, Tag(tags, "lock.name"), Tag(tags, "lock.kind")));
                }
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            if (instrument.Name == "locksmith.lock.wait.duration" && Tag(tags, "lock.name") == "outbox")
            {
                Interlocked.Increment(ref waits);
            }
        });
        listener.Start();
        var healthyBefore = (await health.CheckHealthAsync(ct)).Entries["locksmith"].Status;

        Task<AsyncLockScope> granted;
        AsyncLockScope timedOut;
        using (await outboxLock.AcquireAsync(ct))
        {
            // A second flow queues behind the holder; the holder releases only once it is seen queued.
            granted = OtherFlow(async () => await outboxLock.AcquireAsync(ct));
            await SpinUntilAsync(() => outboxLock.WaitingCount == 1, ct);
            timedOut = await OtherFlow(async () => await outboxLock.TryAcquireAsync(TimeSpan.FromMilliseconds(50), ct));
        }

        (await granted.WaitAsync(Guard.HangLimit, ct)).Dispose();
        var report = await health.CheckHealthAsync(ct);
        listener.Dispose();
        await host.StopAsync(ct);

        Assert.Equal(HealthStatus.Healthy, healthyBefore);
        Assert.False(timedOut.IsAcquired);
        Assert.Equal([(1L, "outbox", "async_exclusive"), (1L, "outbox", "async_exclusive")], contentions);
        Assert.Equal(2, waits);
        var entry = report.Entries["locksmith"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(1, entry.Data["timeouts"]);
        // Both waits were long: the granted one was queued for the whole of the other's 50 ms timeout. They name the mode.
        var longWaits = (string[])entry.Data["longWaits"];
        Assert.Equal(2, longWaits.Length);
        Assert.Single(longWaits, w => w.Contains("'outbox' (Exclusive) timed out after waiting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_flow_still_queued_behind_a_stuck_holder_turns_health_degraded_and_names_the_lock()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildApp(Settings());
        await host.StartAsync(ct);
        var outbox = host.Services.GetRequiredService<Outbox>();
        var outboxLock = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var health = host.Services.GetRequiredService<HealthCheckService>();

        HealthReportEntry entry;
        Task<int> queued;
        using (await outboxLock.AcquireAsync(ct))
        {
            // Started without this flow's holds and not awaited in the hold: LSM0026 wants the suppression in sight here.
            using (ExecutionContext.SuppressFlow())
            {
                queued = Task.Run(() => outbox.PendingAsync(ct), ct);
            }

            await SpinUntilAsync(() => outboxLock.WaitingCount == 1, ct);

            // No cycle and no timeout: only the live wait past LongWaitThreshold can degrade it.
            var start = TimeProvider.System.GetTimestamp();
            while ((entry = (await health.CheckHealthAsync(ct)).Entries["locksmith"]).Status == HealthStatus.Healthy)
            {
                if (TimeProvider.System.GetElapsedTime(start) > Guard.HangLimit)
                {
                    throw new TimeoutException("Hang guard: health never left Healthy while a flow waited.");
                }

                await Task.Delay(5, ct);
            }
        }

        int pending = await queued.WaitAsync(Guard.HangLimit, ct);
        await host.StopAsync(ct);

        Assert.Equal(0, pending);
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(0, entry.Data["timeouts"]);
        Assert.Contains("1 wait(s) past the long-wait threshold still waiting", entry.Description, StringComparison.Ordinal);
        Assert.Contains((string[])entry.Data["longWaits"], w => w.Contains("'outbox'", StringComparison.Ordinal) && w.Contains("still waiting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stopping_the_host_while_a_background_service_holds_the_async_lock_releases_it_and_cancels_a_stopping_waiter()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildApp(Settings(), s => s.AddHostedService<LongHolder>());
        var holder = host.Services.GetServices<IHostedService>().OfType<LongHolder>().Single();
        var outboxLock = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        await host.StartAsync(ct);
        await holder.Holding.Task.WaitAsync(Guard.HangLimit, ct);

        // A handler-like waiter that gives up when the app stops, as README's advice for a stopping token says.
        var waiter = Task.Run(async () =>
        {
            using var scope = await outboxLock.AcquireAsync(lifetime.ApplicationStopping);
        }, ct);
        await SpinUntilAsync(() => outboxLock.WaitingCount == 1, ct);

        // The stop's first step, ApplicationStopping, alone: the holder keeps the lock until the waiter has given up
        // (a queued waiter arms its token just after it is counted, so a release right after Cancel could still reach it).
        lifetime.StopApplication();
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(Guard.HangLimit, ct));
        bool heldThroughTheCancel = outboxLock.IsHeld;
        await host.StopAsync(ct).WaitAsync(Guard.HangLimit, ct);

        Assert.True(heldThroughTheCancel);
        Assert.Contains("stopped waiting for exclusive access to 'outbox'", cancelled.Message, StringComparison.Ordinal);
        Assert.True(holder.Released);
        Assert.False(outboxLock.IsHeld);
        Assert.Equal(0, outboxLock.WaitingCount);
        Assert.Null(holder.Faulted);
    }

    // A task started inside a hold shares the hold (README, Async locks): another request's flow is started without it.
    private static Task<T> OtherFlow<T>(Func<Task<T>> work)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    // A condition set by another flow: yield until it holds, failing the test past the hang limit.
    private static async Task SpinUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > Guard.HangLimit)
            {
                throw new TimeoutException("Hang guard: the condition never held.");
            }

            await Task.Delay(1, ct);
        }
    }
}

/// <summary>A domain class the container builds: its async cores are wrapped by the generator under the container's lock.</summary>
public sealed partial class Outbox([FromKeyedServices("outbox")] AsyncExclusiveLock outboxLock)
{
    [LockOrder(40)]
    private readonly AsyncExclusiveLock _lock = outboxLock;

    [Guarded(Lock = nameof(_lock))]
    private readonly Queue<string> _pending = new();

    private readonly SemaphoreSlim _signal = new(0);
    private readonly TaskCompletionSource _allDrained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _drained;
    private int _target = int.MaxValue;

    public int Drained => Volatile.Read(ref _drained);

    public SemaphoreSlim Signal => _signal;

    public Task AllDrained(int count)
    {
        Volatile.Write(ref _target, count);
        if (Drained >= count)
        {
            _allDrained.TrySetResult();
        }

        return _allDrained.Task;
    }

    [Guarded(Lock = nameof(_lock))]
    private async Task<int> EnqueueCoreAsync(string message, CancellationToken ct)
    {
        // Read, await, write: lost updates would show if two flows were in here at once.
        int before = _pending.Count;
        await Task.Yield();
        _pending.Enqueue(message);
        _signal.Release();
        return before + 1;
    }

    [Guarded(Lock = nameof(_lock))]
    private async Task<int> DrainCoreAsync(CancellationToken ct)
    {
        int n = 0;
        while (_pending.TryDequeue(out _))
        {
            await Task.Yield();
            n++;
        }

        if (Interlocked.Add(ref _drained, n) >= Volatile.Read(ref _target))
        {
            _allDrained.TrySetResult();
        }

        return n;
    }

    [Guarded(Lock = nameof(_lock))]
    private Task<int> PendingCoreAsync() => Task.FromResult(_pending.Count);
}

/// <summary>A request handler: takes the injected async lock by hand for its own state, posts through the generated wrapper.</summary>
public sealed class OrderHandler([FromKeyedServices("orders")] AsyncStripedLock<string> orders, Outbox outbox)
{
    private int _handled;

    public int Handled => Volatile.Read(ref _handled);

    public async Task HandleAsync(string orderId, CancellationToken ct)
    {
        using var scope = await orders.AcquireAsync(orderId, ct);
        await outbox.EnqueueAsync(orderId, ct);
        Interlocked.Increment(ref _handled);
    }
}

/// <summary>The worker template's loop: wait for work, drain under the lock through the generated wrapper.</summary>
public sealed class OutboxDrainer(Outbox outbox) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await outbox.Signal.WaitAsync(stoppingToken);
                await outbox.DrainAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}

/// <summary>A service that holds the lock until the host stops, then lets it go with its scope.</summary>
public sealed class LongHolder([FromKeyedServices("outbox")] AsyncExclusiveLock outboxLock) : BackgroundService
{
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Released { get; private set; }

    public Exception? Faulted { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using (await outboxLock.AcquireAsync(stoppingToken))
            {
                Holding.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    // The host is stopping: leave the hold with the scope.
                }
            }

            Released = !outboxLock.IsHeld;
        }
        catch (Exception e)
        {
            Faulted = e;
            throw;
        }
    }
}
