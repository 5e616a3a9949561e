using System;
using System.Diagnostics.Metrics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: a configuration reload while the host runs applies the new values (policy, watchdog interval, shutdown
/// threshold, health window and count); an invalid one is logged and not applied, and never throws out of
/// <c>IConfigurationRoot.Reload()</c>; a setting fixed for the host's life is logged; a stopped host applies nothing.
/// </summary>
/// <remarks>
/// The tests write the JSON file, then call <c>Reload()</c> (no file watcher, whose reloads would race the test): the
/// reload runs its listeners before it returns, so what it applied is in place, and its log line written, when it does.
/// </remarks>
public sealed class OptionsReloadTests
{
    private const string Started = """
        { "DefaultTimeout": "00:00:03", "OrderViolationAction": "Throw", "LongWaitThreshold": "00:00:30",
          "WatchdogInterval": "01:00:00", "HealthWindow": "01:00:00", "DegradedTimeoutCount": 4 }
        """;

    [Fact]
    public async Task A_reload_applies_the_policy_the_health_count_and_the_watchdog_interval_and_logs_what_changed()
    {
        var ct = TestContext.Current.CancellationToken;
        var found = PolicySnapshot.Take();
        using var app = new ReloadableHost(Started, l => l.AddExclusiveLock("accounts", 10));
        var accounts = app.Host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var health = app.Host.Services.GetRequiredService<HealthCheckService>();
        await app.Host.StartAsync(ct);
        var watchdog = app.Host.Watchdog();

        // Two timeouts: below the 4 the host started with.
        TimeOut(accounts, times: 2);
        var before = await health.CheckHealthAsync(ct);
        Guard.SpinUntil(() => watchdog.Scans >= 1);

        app.Reload("""
            { "DefaultTimeout": "00:00:07", "OrderViolationAction": "Report", "LongWaitThreshold": "00:00:20",
              "WatchdogInterval": "00:00:00.010", "ShutdownWaitThreshold": "00:00:02", "HealthWindow": "01:00:00", "DegradedTimeoutCount": 2 }
            """);
        var policy = PolicySnapshot.Take();
        var after = await health.CheckHealthAsync(ct);

        // The hour-long interval would scan once; the new one scans on.
        Guard.SpinUntil(() => watchdog.Scans >= 3);
        await app.Host.StopAsync(ct);

        Assert.Equal(HealthStatus.Healthy, before.Entries["locksmith"].Status);
        Assert.Equal(TimeSpan.FromSeconds(7), policy.DefaultTimeout);
        Assert.Equal(OrderViolationAction.Report, policy.OrderViolationAction);
        Assert.Equal(TimeSpan.FromSeconds(20), policy.LongWaitThreshold);
        Assert.Equal(HealthStatus.Degraded, after.Entries["locksmith"].Status);
        Assert.Equal(2, after.Entries["locksmith"].Data["timeouts"]);

        var line = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal(
            "Locksmith:DefaultTimeout 00:00:03 → 00:00:07, Locksmith:OrderViolationAction Throw → Report, " +
            "Locksmith:LongWaitThreshold 00:00:30 → 00:00:20, Locksmith:WatchdogInterval 01:00:00 → 00:00:00.0100000, " +
            "Locksmith:ShutdownWaitThreshold 00:00:05 → 00:00:02, Locksmith:DegradedTimeoutCount 4 → 2",
            line.GetStructuredStateValue("Changes"));

        // The stop puts back what the host found, not what it started with.
        Assert.Equal(found, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_reload_after_the_container_read_the_options_and_before_the_start_is_applied_at_the_start()
    {
        var ct = TestContext.Current.CancellationToken;
        var found = PolicySnapshot.Take();
        using var app = new ReloadableHost(Started, l => l.AddExclusiveLock("accounts"));

        // Creating a lock reads the options (whether it records metrics), as a service that takes one does before the
        // host starts; the reload after it reaches no listener yet.
        _ = app.Host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        app.Reload("""
            { "DefaultTimeout": "00:00:07", "OrderViolationAction": "Throw", "LongWaitThreshold": "00:00:30",
              "WatchdogInterval": "01:00:00", "HealthWindow": "01:00:00", "DegradedTimeoutCount": 2, "MetricsEnabled": false }
            """);
        await app.Host.StartAsync(ct);
        var policy = PolicySnapshot.Take();
        var running = app.Host.Services.GetRequiredService<RunningOptions>().Current;
        await app.Host.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(7), policy.DefaultTimeout);
        Assert.Equal(2, running.DegradedTimeoutCount);
        var applied = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Equal("Locksmith:DefaultTimeout 00:00:03 → 00:00:07, Locksmith:DegradedTimeoutCount 4 → 2", applied.GetStructuredStateValue("Changes"));

        // The lock was bound to its meter before the reload: that one needs a restart, and says so.
        Assert.True(running.MetricsEnabled);
        var restart = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsRestartRequired));
        Assert.Equal("Locksmith:MetricsEnabled True → False", restart.GetStructuredStateValue("Settings"));
        Assert.Equal(found, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_change_callback_that_arrives_late_with_older_values_does_not_put_them_back()
    {
        // Two reloads whose callbacks overlap (a file watcher's and a Reload() call) may apply in either order: the
        // callback of the older one, run last, must not undo the newer. Simulated by handing the callback the values
        // the host started with after a reload applied newer ones.
        var ct = TestContext.Current.CancellationToken;
        using var app = new ReloadableHost(Started, l => l.AddExclusiveLock("accounts"));
        await app.Host.StartAsync(ct);
        var monitor = app.Host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>();
        var older = monitor.CurrentValue;
        app.Reload("""
            { "DefaultTimeout": "00:00:07", "OrderViolationAction": "Throw", "LongWaitThreshold": "00:00:30",
              "WatchdogInterval": "01:00:00", "HealthWindow": "01:00:00", "DegradedTimeoutCount": 2 }
            """);
        var reloader = app.Host.Services.GetServices<IHostedService>().OfType<LocksmithOptionsReloader>().Single();

        reloader.OnChange(older, Options.DefaultName);
        var policy = PolicySnapshot.Take();
        var running = app.Host.Services.GetRequiredService<RunningOptions>().Current;
        await app.Host.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(7), policy.DefaultTimeout);
        Assert.Equal(2, running.DegradedTimeoutCount);
        Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
    }

    [Fact]
    public async Task A_reload_turns_the_watchdog_off_and_on_again()
    {
        var ct = TestContext.Current.CancellationToken;
        using var app = new ReloadableHost("""{ "WatchdogInterval": "-00:00:00.001" }""");
        await app.Host.StartAsync(ct);
        var watchdog = app.Host.Watchdog();
        int runningOff = DeadlockWatchdog.RunningCount;
        long scansAtStart = watchdog.Scans;

        app.Reload("""{ "WatchdogInterval": "00:00:00.010" }""");
        Guard.SpinUntil(() => watchdog.Scans >= 2);
        int runningOn = DeadlockWatchdog.RunningCount;

        app.Reload("""{ "WatchdogInterval": "-00:00:00.001" }""");
        Guard.SpinUntil(() => DeadlockWatchdog.RunningCount == runningOff);
        long scansOff = watchdog.Scans;

        app.Reload("""{ "WatchdogInterval": "00:00:00.010" }""");
        Guard.SpinUntil(() => watchdog.Scans >= scansOff + 2);
        await app.Host.StopAsync(ct);

        Assert.Equal(0, scansAtStart);

        // Off, the watchdog is not among the running ones (which decide who logs a cycle); on, it is.
        Assert.Equal(runningOff + 1, runningOn);
        Assert.Equal(runningOff, DeadlockWatchdog.RunningCount);
        Assert.Equal(3, app.Host.Logs(LocksmithEventIds.OptionsReloaded).Length);
    }

    [Fact]
    public async Task An_invalid_reload_is_not_applied_and_is_logged_and_Reload_does_not_throw()
    {
        var ct = TestContext.Current.CancellationToken;
        using var app = new ReloadableHost(Started);
        await app.Host.StartAsync(ct);
        var monitor = app.Host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>();

        // One value the validator refuses, beside one that would be valid: the whole reload is refused.
        var refused = Record.Exception(() => app.Reload("""{ "DefaultTimeout": "00:00:09", "WatchdogInterval": "00:00:00" }"""));
        var policy = PolicySnapshot.Take();
        var monitored = monitor.CurrentValue;

        // One the binder cannot convert: refused the same way, with the start's message.
        var unconverted = Record.Exception(() => app.Reload("""{ "DefaultTimeout": "5s" }"""));
        var policyAfterBoth = PolicySnapshot.Take();
        await app.Host.StopAsync(ct);

        Assert.Null(refused);
        Assert.Null(unconverted);
        Assert.Equal(TimeSpan.FromSeconds(3), policy.DefaultTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), policyAfterBoth.DefaultTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), monitored.DefaultTimeout);
        Assert.Equal(TimeSpan.FromHours(1), monitored.WatchdogInterval);
        Assert.Empty(app.Host.Logs(LocksmithEventIds.OptionsReloaded));

        var lines = app.Host.Logs(LocksmithEventIds.OptionsReloadRejected);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, static l => Assert.Equal(LogLevel.Error, l.Level));
        Assert.Equal(
            "Locksmith:WatchdogInterval = '00:00:00' is invalid: it must be at least 00:00:00.001 (at most 24.20:31:23.647), or -00:00:00.001 to turn the watchdog off.",
            lines[0].GetStructuredStateValue("Reason"));
        Assert.StartsWith("Locksmith:DefaultTimeout = '5s' is invalid: it must be a time span written", lines[1].GetStructuredStateValue("Reason"), StringComparison.Ordinal);
        Assert.Contains("not applied", lines[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_reload_after_an_invalid_one_applies()
    {
        var ct = TestContext.Current.CancellationToken;
        using var app = new ReloadableHost(Started);
        await app.Host.StartAsync(ct);

        app.Reload("""{ "DefaultTimeout": "00:00:09", "DegradedTimeoutCount": -1 }""");
        var refused = LocksmithPolicy.DefaultTimeout;
        app.Reload("""{ "DefaultTimeout": "00:00:09", "DegradedTimeoutCount": 1 }""");
        var applied = LocksmithPolicy.DefaultTimeout;
        await app.Host.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(3), refused);
        Assert.Equal(TimeSpan.FromSeconds(9), applied);
        Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloadRejected));

        // Against the values in force, which the refused reload left as they were.
        var line = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Contains("Locksmith:DefaultTimeout 00:00:03 → 00:00:09", line.Message, StringComparison.Ordinal);
        Assert.Contains("Locksmith:DegradedTimeoutCount 4 → 1", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reload_that_changes_a_setting_fixed_for_the_hosts_life_is_logged_once_and_not_applied()
    {
        var ct = TestContext.Current.CancellationToken;
        using var app = new ReloadableHost("""{ "DefaultTimeout": "00:00:03" }""", l => l.AddExclusiveLock("ledger"));
        var ledger = app.Host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        using var acquisitions = new MetricCollector<long>(
            app.Host.Services.GetRequiredService<IMeterFactory>(), LocksmithMetrics.MeterName, "locksmith.lock.acquisitions");
        await app.Host.StartAsync(ct);

        app.Reload("""{ "DefaultTimeout": "00:00:03", "MetricsEnabled": false, "InstallProcessPolicy": false }""");
        using (ledger.Acquire())
        {
        }

        var policy = PolicySnapshot.Take();

        // A later reload that changes something else names the fixed ones no more.
        app.Reload("""{ "DefaultTimeout": "00:00:04", "MetricsEnabled": false, "InstallProcessPolicy": false }""");
        await app.Host.StopAsync(ct);

        var warning = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsRestartRequired));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("Locksmith:InstallProcessPolicy True → False, Locksmith:MetricsEnabled True → False", warning.GetStructuredStateValue("Settings"));
        Assert.Contains("restart", warning.Message, StringComparison.OrdinalIgnoreCase);

        // Not applied: the lock still records, and the host still owns the policy and applies the later reload to it.
        Assert.Equal(1, acquisitions.GetMeasurementSnapshot().Sum(static m => m.Value));
        Assert.Equal(TimeSpan.FromSeconds(3), policy.DefaultTimeout);
        var applied = Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Equal("Locksmith:DefaultTimeout 00:00:03 → 00:00:04", applied.GetStructuredStateValue("Changes"));
    }

    [Fact]
    public async Task After_the_host_stops_a_reload_applies_nothing_and_the_host_no_longer_listens()
    {
        var ct = TestContext.Current.CancellationToken;
        int listening = LocksmithOptionsReloader.ListeningCount;
        using var app = new ReloadableHost(Started);
        var monitor = app.Host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>();
        await app.Host.StartAsync(ct);
        int listeningWhileRunning = LocksmithOptionsReloader.ListeningCount;

        // While it runs, a reload applies: the count the health check uses is 1.
        app.Reload("""{ "DegradedTimeoutCount": 1, "HealthWindow": "01:00:00" }""");
        await app.Host.StopAsync(ct);
        int listeningAfterStop = LocksmithOptionsReloader.ListeningCount;
        var found = PolicySnapshot.Take();

        // The monitor still sees the reloads (the test's own listener), the host no longer: neither a valid nor an
        // invalid one changes or logs anything, and neither throws.
        int seen = 0;
        using (monitor.OnChange(_ => Interlocked.Increment(ref seen)))
        {
            app.Reload("""{ "DefaultTimeout": "00:00:08", "DegradedTimeoutCount": 7 }""");
            app.Reload("""{ "DefaultTimeout": "00:00:09", "DegradedTimeoutCount": 8 }""");
            var invalid = Record.Exception(() => app.Reload("""{ "DegradedTimeoutCount": -1 }"""));
            Assert.Null(invalid);
        }

        // The JSON provider signals each Reload() twice (its own token and the root's): at least once each.
        Assert.True(seen >= 3, $"The monitor saw {seen} changes for 3 reloads.");
        Assert.Equal(listening + 1, listeningWhileRunning);
        Assert.Equal(listening, listeningAfterStop);
        Assert.Equal(found, PolicySnapshot.Take());
        Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Contains("Locksmith:DegradedTimeoutCount 4 → 1", app.Host.Logs(LocksmithEventIds.OptionsReloaded)[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_disposed_without_a_stop_no_longer_listens()
    {
        var ct = TestContext.Current.CancellationToken;
        int listening = LocksmithOptionsReloader.ListeningCount;
        var app = new ReloadableHost(Started);
        await app.Host.StartAsync(ct);
        int listeningWhileRunning = LocksmithOptionsReloader.ListeningCount;
        app.Dispose();

        Assert.Equal(listening + 1, listeningWhileRunning);
        Assert.Equal(listening, LocksmithOptionsReloader.ListeningCount);
    }

    [Fact]
    public async Task A_host_that_does_not_install_the_policy_leaves_it_alone_on_reload_and_says_so()
    {
        var ct = TestContext.Current.CancellationToken;
        using var main = new ReloadableHost("""{ "DefaultTimeout": "00:00:03", "OrderViolationAction": "Report" }""", name: "main");
        using var side = new ReloadableHost("""{ "InstallProcessPolicy": false, "DegradedTimeoutCount": 4 }""", name: "side");
        await main.Host.StartAsync(ct);
        await side.Host.StartAsync(ct);
        var installed = PolicySnapshot.Take();

        side.Reload("""
            { "InstallProcessPolicy": false, "DefaultTimeout": "00:00:09", "OrderViolationAction": "Ignore", "DegradedTimeoutCount": 1 }
            """);
        var afterSideReload = PolicySnapshot.Take();
        await side.Host.StopAsync(ct);
        await main.Host.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(3), installed.DefaultTimeout);
        Assert.Equal(installed, afterSideReload);

        // The side host applied what is its own (the health count) and named the policy settings it does not apply.
        var applied = Assert.Single(side.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Equal("Locksmith:DegradedTimeoutCount 4 → 1", applied.GetStructuredStateValue("Changes"));
        var notInForce = Assert.Single(side.Host.Logs(LocksmithEventIds.PolicySettingsNotInForce));
        Assert.Contains("Locksmith:DefaultTimeout = 00:00:09 (in force: 00:00:03)", notInForce.Message, StringComparison.Ordinal);
        Assert.Contains("Locksmith:OrderViolationAction = Ignore (in force: Report)", notInForce.Message, StringComparison.Ordinal);
        Assert.Empty(main.Host.Logs(LocksmithEventIds.OptionsReloaded));
    }

    private static void TimeOut(ExclusiveLock target, int times)
    {
        using var held = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = target.Acquire();
            release.Wait();
        });
        for (int i = 0; i < times; i++)
        {
            Assert.False(target.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
        }
    }
}
