using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: applying a reload does not depend on its log lines: a log sink that throws loses the line, never the
/// reload's settings, neither while the host runs nor at the start.
/// </summary>
public sealed class OptionsReloadLogFailureTests
{
    [Fact]
    public async Task A_side_host_applies_the_health_count_and_the_watchdog_interval_when_the_not_in_force_line_throws()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new ThrowingSink(LocksmithEventIds.PolicySettingsNotInForce);
        using var side = new ReloadableHost(
            """{ "InstallProcessPolicy": false, "WatchdogInterval": "01:00:00", "DegradedTimeoutCount": 4 }""",
            name: "side",
            after: s => s.AddLogging(b => b.AddProvider(sink)));
        await side.Host.StartAsync(ct);
        var running = side.Host.Services.GetRequiredService<RunningOptions>();

        // A DefaultTimeout the side host does not apply (so it says so, and that line throws) beside two it applies.
        var thrown = Record.Exception(() => side.Reload("""
            { "InstallProcessPolicy": false, "DefaultTimeout": "00:00:09", "WatchdogInterval": "00:30:00", "DegradedTimeoutCount": 1 }
            """));
        var applied = running.Current;
        await side.Host.StopAsync(ct);

        // Before, the line's exception ended the apply: the count and the interval stayed as they were.
        Assert.Null(thrown);
        Assert.Equal(1, sink.Thrown);
        Assert.Equal(1, applied.DegradedTimeoutCount);
        Assert.Equal(TimeSpan.FromMinutes(30), applied.WatchdogInterval);
        var line = Assert.Single(side.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Equal("Locksmith:WatchdogInterval 01:00:00 → 00:30:00, Locksmith:DegradedTimeoutCount 4 → 1", line.GetStructuredStateValue("Changes"));
    }

    [Fact]
    public async Task A_reload_before_the_start_is_applied_and_the_host_starts_when_its_lines_throw()
    {
        var ct = TestContext.Current.CancellationToken;
        var found = PolicySnapshot.Take();
        var sink = new ThrowingSink(LocksmithEventIds.OptionsReloaded, LocksmithEventIds.OptionsRestartRequired);
        using var app = new ReloadableHost(
            """{ "DefaultTimeout": "00:00:03", "DegradedTimeoutCount": 4 }""",
            l => l.AddExclusiveLock("accounts"),
            after: s => s.AddLogging(b => b.AddProvider(sink)));

        // The container reads the options as it creates the lock; the reload after it is applied at the start.
        _ = app.Host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        app.Reload("""{ "DefaultTimeout": "00:00:07", "DegradedTimeoutCount": 2, "MetricsEnabled": false }""");

        // Before, the sink's exception came out of the reloader's StartingAsync and failed the start.
        var failed = await Record.ExceptionAsync(() => app.Host.StartAsync(ct));
        var policy = PolicySnapshot.Take();
        var running = app.Host.Services.GetRequiredService<RunningOptions>().Current;
        await app.Host.StopAsync(ct);

        Assert.Null(failed);
        Assert.Equal(2, sink.Thrown);
        Assert.Equal(TimeSpan.FromSeconds(7), policy.DefaultTimeout);
        Assert.Equal(2, running.DegradedTimeoutCount);
        Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloaded));
        Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsRestartRequired));
        Assert.Equal(found, PolicySnapshot.Take());
    }

    /// <summary>A log sink that fails (a full disk, a broken exporter) on the given events.</summary>
    private sealed class ThrowingSink(params int[] events) : ILoggerProvider, ILogger
    {
        private int _thrown;

        public int Thrown => Volatile.Read(ref _thrown);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (events.Contains(id.Id))
            {
                Interlocked.Increment(ref _thrown);
                throw new System.IO.IOException("No space left on device");
            }
        }

        public void Dispose()
        {
        }
    }
}
