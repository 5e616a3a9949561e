using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: a stop held up by a deadlock is logged as the deadlock (14004), which names every wait of the cycle and its
/// holder, not once more per wait as a stuck shutdown wait (14007); a wait behind the cycle is a stuck wait; with the
/// watchdog off, the shutdown lines are all there is.
/// </summary>
public sealed class ShutdownDeadlockTests
{
    private const string Watched = """
        { "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "00:00:00.010", "ShutdownWaitThreshold": "00:00:00.001" } }
        """;

    private const string Unwatched = """
        { "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "-00:00:00.001", "ShutdownWaitThreshold": "00:00:00.001" } }
        """;

    /// <summary>
    /// Two threads that take 'accounts' and 'audit' in opposite orders and wait for each other, formed before the host
    /// stops (so no pass of the shutdown watch sees half of it); the host's stop then waits for 'accounts' behind them.
    /// </summary>
    private sealed class DeadlockOnStop(
        [FromKeyedServices("accounts")] ExclusiveLock accounts, [FromKeyedServices("audit")] ExclusiveLock audit) : IHostedService, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private readonly CountdownEvent _bothHold = new(2);
        private Worker? _one;
        private Worker? _two;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _one = Concurrently.Start("deadlock-0", () => HoldThenWait(accounts, audit));
            _two = Concurrently.Start("deadlock-1", () => HoldThenWait(audit, accounts));
            Guard.SpinUntil(static () => DeadlockDetector.FindCycles().Count > 0);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            try
            {
                using var flush = accounts.Acquire(Guard.HangLimit, _cancel.Token);
            }
            catch (OperationCanceledException)
            {
                // The test ended the deadlock.
            }

            return Task.CompletedTask;
        }

        /// <summary>Ends the deadlock: every wait is cancelled.</summary>
        public void End()
        {
            _cancel.Cancel();
            _one?.JoinGuarded();
            _two?.JoinGuarded();
        }

        public void Dispose()
        {
            _cancel.Dispose();
            _bothHold.Dispose();
        }

        private void HoldThenWait(ExclusiveLock first, ExclusiveLock second)
        {
            using var held = first.Acquire();
            _bothHold.Signal();
            _bothHold.Wait(Guard.HangLimit);
            try
            {
                using var both = second.Acquire(Guard.HangLimit, _cancel.Token);
            }
            catch (OperationCanceledException)
            {
                // The test ended the deadlock.
            }
        }
    }

    /// <summary>
    /// The same deadlock, formed when the test says (after the watchdog's first pass, before the stop, so no pass of the
    /// shutdown watch sees half of it), then the stop's wait behind it.
    /// </summary>
    private sealed class DeadlockFormedLater(
        [FromKeyedServices("accounts")] ExclusiveLock accounts, [FromKeyedServices("audit")] ExclusiveLock audit) : IHostedService, IDisposable
    {
        private readonly DeadlockOnStop _deadlock = new(accounts, audit);

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        /// <summary>Forms the cycle; returns once the detector sees it.</summary>
        public void Form() => _deadlock.StartAsync(CancellationToken.None);

        public Task StopAsync(CancellationToken cancellationToken) => _deadlock.StopAsync(cancellationToken);

        public void End() => _deadlock.End();

        public void Dispose() => _deadlock.Dispose();
    }

    private static IHost Build(string settings) =>
        TestHost.Build(
            settings,
            static l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20),
            static s => s.AddSingleton<DeadlockOnStop>().AddHostedService(static p => p.GetRequiredService<DeadlockOnStop>()));

    private static ShutdownWaitReporter Reporter(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<ShutdownWaitReporter>().Single();

    // The reporter makes several passes after the one that logged the stop's own wait, when the cycle's waits had held
    // the stop up as long: counted, not timed.
    private static void LetReporterPass(IHost host)
    {
        long seenAt = Reporter(host).Scans;
        Guard.SpinUntil(() => Reporter(host).Scans >= seenAt + 5);
    }

    [Fact]
    public async Task A_deadlock_holding_up_the_stop_is_logged_as_the_deadlock_and_only_the_wait_behind_it_as_stuck()
    {
        // Before, each wait of the cycle was logged twice: in the DeadlockDetected line and in a ShutdownWaitStuck line of its own.
        var ct = TestContext.Current.CancellationToken;
        using var host = Build(Watched);
        var service = host.Services.GetRequiredService<DeadlockOnStop>();
        await host.StartAsync(ct);

        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.DeadlockDetected).Length > 0 && host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        LetReporterPass(host);
        var deadlocks = host.Logs(LocksmithEventIds.DeadlockDetected);
        var stuck = host.Logs(LocksmithEventIds.ShutdownWaitStuck);

        service.End();
        stopper.JoinGuarded();

        var deadlock = Assert.Single(deadlocks);
        Assert.Contains("'deadlock-0'", deadlock.Message, StringComparison.Ordinal);
        Assert.Contains("'deadlock-1'", deadlock.Message, StringComparison.Ordinal);
        var line = Assert.Single(stuck);
        Assert.StartsWith("thread ", line.GetStructuredStateValue("Waiter"), StringComparison.Ordinal);
        Assert.Contains("('stopper')", line.GetStructuredStateValue("Waiter"), StringComparison.Ordinal);
        Assert.Equal("accounts", line.GetStructuredStateValue("LockName"));
    }

    [Fact]
    public async Task A_deadlock_formed_after_the_watchdogs_last_pass_and_holding_up_the_stop_is_logged_though_its_next_pass_is_after_the_shutdown_timeout()
    {
        // Before, a running watchdog kept the cycle's waits out of the shutdown lines, but with an interval longer than the
        // stop lasts (here an hour; HostOptions.ShutdownTimeout is 30 s by default) its next pass never came: the stop
        // logged only the wait behind the deadlock, and the deadlock itself not at all.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "01:00:00", "ShutdownWaitThreshold": "00:00:00.001" } }""",
            static l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20),
            static s => s.AddSingleton<DeadlockFormedLater>().AddHostedService(static p => p.GetRequiredService<DeadlockFormedLater>()));
        var service = host.Services.GetRequiredService<DeadlockFormedLater>();
        await host.StartAsync(ct);
        var watchdog = host.Watchdog();
        Guard.SpinUntil(() => watchdog.Scans >= 1);
        service.Form();
        var beforeStop = host.Logs(LocksmithEventIds.DeadlockDetected);

        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        LetReporterPass(host);
        var deadlocks = host.Logs(LocksmithEventIds.DeadlockDetected);
        var stuck = host.Logs(LocksmithEventIds.ShutdownWaitStuck);
        long scans = watchdog.Scans;

        service.End();
        stopper.JoinGuarded();

        // The watchdog's timer passed once, at start, before the cycle formed: the stop's watch made it pass again.
        Assert.Empty(beforeStop);
        var deadlock = Assert.Single(deadlocks);
        Assert.Contains("'deadlock-0'", deadlock.Message, StringComparison.Ordinal);
        Assert.Contains("'deadlock-1'", deadlock.Message, StringComparison.Ordinal);
        var line = Assert.Single(stuck);
        Assert.Contains("('stopper')", line.GetStructuredStateValue("Waiter"), StringComparison.Ordinal);
        Assert.True(scans >= 2, $"{scans} watchdog pass(es)");
    }

    [Fact]
    public async Task With_the_watchdog_off_each_wait_of_a_deadlock_holding_up_the_stop_is_logged_as_stuck()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build(Unwatched);
        var service = host.Services.GetRequiredService<DeadlockOnStop>();
        await host.StartAsync(ct);

        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length >= 3);
        LetReporterPass(host);
        var stuck = host.Logs(LocksmithEventIds.ShutdownWaitStuck);

        service.End();
        stopper.JoinGuarded();

        Assert.Equal(
            ["('deadlock-0')", "('deadlock-1')", "('stopper')"],
            stuck.Select(static l => l.GetStructuredStateValue("Waiter")![(l.GetStructuredStateValue("Waiter")!.IndexOf('(', StringComparison.Ordinal))..]).Order(StringComparer.Ordinal));
        Assert.Empty(host.Logs(LocksmithEventIds.DeadlockDetected));
    }
}
