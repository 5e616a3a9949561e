using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: reloads around the host's start. A bad reload after the start's check is refused and logged as while the
/// host runs; a reload before the start is applied to the installed policy, also when services start concurrently.
/// </summary>
public sealed class OptionsReloadStartTests
{
    private const string Started = """{ "DefaultTimeout": "00:00:03", "DegradedTimeoutCount": 4 }""";

    [Fact]
    public async Task A_bad_reload_after_the_start_check_and_before_Locksmith_starts_is_refused_and_logged_and_the_host_starts()
    {
        var ct = TestContext.Current.CancellationToken;
        var found = PolicySnapshot.Take();

        // A service registered before AddLocksmith starts first: its StartingAsync runs after the start's check
        // (ValidateOnStart) and before Locksmith's, where a file watcher's reload can also land.
        var early = new ReloadWhileStarting();
        using var app = new ReloadableHost(Started, before: s => s.AddHostedService(_ => early));
        early.Reload = () => app.Reload("""{ "DefaultTimeout": "00:00:09", "DegradedTimeoutCount": -1 }""");

        // Before, Reload() threw the validator's OptionsValidationException, and the start failed with it.
        var failed = await Record.ExceptionAsync(() => app.Host.StartAsync(ct));
        Assert.True(early.Ran);
        Assert.Null(early.Thrown);
        Assert.Null(failed);
        var policy = PolicySnapshot.Take();
        var running = app.Host.Services.GetRequiredService<RunningOptions>().Current;
        var monitored = app.Host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>().CurrentValue;

        // The next valid reload applies.
        app.Reload("""{ "DefaultTimeout": "00:00:05", "DegradedTimeoutCount": 4 }""");
        var later = PolicySnapshot.Take();
        await app.Host.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(3), policy.DefaultTimeout);
        Assert.Equal(4, running.DegradedTimeoutCount);
        Assert.Equal(TimeSpan.FromSeconds(3), monitored.DefaultTimeout);
        var refused = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloadRejected));
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.StartsWith("Locksmith:DegradedTimeoutCount = '-1' is invalid", refused.GetStructuredStateValue("Reason"), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(5), later.DefaultTimeout);
        var applied = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Equal("Locksmith:DefaultTimeout 00:00:03 → 00:00:05", applied.GetStructuredStateValue("Changes"));
        Assert.Equal(found, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_bad_value_before_the_start_check_still_fails_the_start()
    {
        var ct = TestContext.Current.CancellationToken;
        int listening = LocksmithOptionsReloader.ListeningCount;
        using var app = new ReloadableHost(Started, l => l.AddExclusiveLock("accounts"));

        // The container read valid options (creating the lock); the bad reload after it comes before the start.
        _ = app.Host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        app.Reload("""{ "DefaultTimeout": "00:00:09", "DegradedTimeoutCount": -1 }""");
        var failed = await Record.ExceptionAsync(() => app.Host.StartAsync(ct));

        var invalid = Assert.IsType<OptionsValidationException>(failed);
        Assert.Contains("Locksmith:DegradedTimeoutCount = '-1' is invalid", invalid.Message, StringComparison.Ordinal);
        Assert.Empty(app.Host.Logs(LocksmithEventIds.OptionsReloadRejected));
        Assert.Equal(listening, LocksmithOptionsReloader.ListeningCount);
    }

    [Fact]
    public async Task With_services_starting_concurrently_a_reload_before_the_start_is_applied_to_the_installed_policy()
    {
        var ct = TestContext.Current.CancellationToken;
        var found = PolicySnapshot.Take();
        using var app = new ReloadableHost(
            Started,
            l => l.AddExclusiveLock("accounts"),
            after: s => s.Configure<HostOptions>(o => o.ServicesStartConcurrently = true));

        // The policy service installs what the container read first (00:00:03); the reloader then applies the reload.
        _ = app.Host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        app.Reload("""{ "DefaultTimeout": "00:00:07", "DegradedTimeoutCount": 2 }""");
        await app.Host.StartAsync(ct);
        var policy = PolicySnapshot.Take();
        var running = app.Host.Services.GetRequiredService<RunningOptions>().Current;
        await app.Host.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(7), policy.DefaultTimeout);
        Assert.Equal(2, running.DegradedTimeoutCount);
        var applied = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Equal("Locksmith:DefaultTimeout 00:00:03 → 00:00:07, Locksmith:DegradedTimeoutCount 4 → 2", applied.GetStructuredStateValue("Changes"));
        Assert.Equal(found, PolicySnapshot.Take());
    }

    /// <summary>Reloads the configuration in its <c>StartingAsync</c>, as a file watcher's callback may, and keeps what it threw.</summary>
    private sealed class ReloadWhileStarting : IHostedLifecycleService
    {
        public Action? Reload { get; set; }

        public bool Ran { get; private set; }

        public Exception? Thrown { get; private set; }

        public Task StartingAsync(CancellationToken cancellationToken)
        {
            Ran = true;
            Thrown = Record.Exception(() => Reload!());
            return Task.CompletedTask;
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
