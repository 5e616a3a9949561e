using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// The watchdog is a <see cref="BackgroundService"/>: an exception out of its loop is, by the generic host's default
/// (<see cref="BackgroundServiceExceptionBehavior.StopHost"/>), a reason to stop the whole app.
/// </summary>
public sealed class WatchdogFailureTests
{
    [Fact]
    public async Task A_log_sink_that_throws_on_a_deadlock_report_neither_stops_the_host_nor_the_watchdog()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new ThrowingSink(LocksmithEventIds.DeadlockDetected);
        using var host = TestHost.Build(
            """{ "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "00:00:00.010" } }""",
            l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20),
            s => s.AddLogging(b => b.AddProvider(sink)));
        var accounts = host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var audit = host.Services.GetRequiredKeyedService<ExclusiveLock>("audit");
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        await host.StartAsync(ct);
        var watchdog = host.Watchdog();

        using var cancel = new CancellationTokenSource();
        using var bothHold = new CountdownEvent(2);
        Worker Start(int index, ExclusiveLock first, ExclusiveLock second) => Concurrently.Start($"deadlock-{index}", () =>
        {
            using var held = first.Acquire();
            bothHold.Signal();
            bothHold.Wait(Guard.HangLimit);
            try
            {
                using var both = second.Acquire(Guard.HangLimit, cancel.Token);
            }
            catch (OperationCanceledException)
            {
            }
        });
        var one = Start(0, accounts, audit);
        var two = Start(1, audit, accounts);

        // The sink threw from the scan that reported the cycle; the loop either goes on scanning or has ended and is
        // stopping the host. Either is seen within a bounded wait: counted scans, or the stopping token.
        Guard.SpinUntil(() => sink.Thrown > 0);
        long thrownAt = watchdog.Scans;
        Guard.SpinUntil(() => lifetime.ApplicationStopping.IsCancellationRequested || watchdog.Scans >= thrownAt + 3);
        bool stopping = lifetime.ApplicationStopping.IsCancellationRequested;
        int running = DeadlockWatchdog.RunningCount;

        cancel.Cancel();
        one.JoinGuarded();
        two.JoinGuarded();
        await host.StopAsync(ct);

        // Before, the exception ended ExecuteAsync and the host stopped the app (StopHost), over a log line.
        Assert.False(stopping, "the host began stopping after the watchdog's log sink threw");
        Assert.Equal(1, running);
        Assert.Equal(1, sink.Thrown);
        var failure = Assert.Single(host.Logs(LocksmithEventIds.WatchdogScanFailed));
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.IsType<AggregateException>(failure.Exception);
    }

    /// <summary>A log sink that fails (a full disk, a broken exporter) on one event id.</summary>
    private sealed class ThrowingSink(int eventId) : ILoggerProvider, ILogger
    {
        private int _thrown;

        public int Thrown => Volatile.Read(ref _thrown);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (id.Id == eventId)
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
