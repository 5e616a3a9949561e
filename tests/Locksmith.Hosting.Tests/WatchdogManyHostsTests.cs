using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: every running host's watchdog sees every cycle in the process, and each cycle is logged once: by the host whose
/// lock instance is in it, or, for locks no host declared, by the host whose watchdog started first.
/// </summary>
public sealed class WatchdogManyHostsTests
{
    private const string Main = """
        { "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "00:00:00.010" } }
        """;

    private const string Side = """
        { "Locksmith": { "InstallProcessPolicy": false, "WatchdogInterval": "00:00:00.010" } }
        """;

    // Two hosts of one app, as two WebApplicationFactory servers in one test process: the same lock names in each.
    private static IHost Build(string settings) =>
        TestHost.Build(settings, static l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20));

    /// <summary>Two threads take <paramref name="first"/> and <paramref name="second"/> in opposite orders and wait for each other.</summary>
    private sealed class Deadlock : IDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private readonly Worker _one;
        private readonly Worker _two;

        public Deadlock(LockPrimitive first, LockPrimitive second)
        {
            var bothHold = new CountdownEvent(2);
            _one = Start("deadlock-0", (ExclusiveLock)first, (ExclusiveLock)second);
            _two = Start("deadlock-1", (ExclusiveLock)second, (ExclusiveLock)first);

            Worker Start(string name, ExclusiveLock a, ExclusiveLock b) => Concurrently.Start(name, () =>
            {
                using var held = a.Acquire();
                bothHold.Signal();
                bothHold.Wait(Guard.HangLimit);
                try
                {
                    using var both = b.Acquire(Guard.HangLimit, _cancel.Token);
                }
                catch (OperationCanceledException)
                {
                    // The test ended the deadlock.
                }
            });
        }

        public void Dispose()
        {
            _cancel.Cancel();
            _one.JoinGuarded();
            _two.JoinGuarded();
            _cancel.Dispose();
        }
    }

    // Both watchdogs make several passes over the cycle after it was first logged: counted, not timed.
    private static void LetBothScan(IHost first, IHost second)
    {
        long a = first.Watchdog().Scans, b = second.Watchdog().Scans;
        Guard.SpinUntil(() => first.Watchdog().Scans >= a + 5 && second.Watchdog().Scans >= b + 5);
    }

    [Fact]
    public async Task A_deadlock_of_one_hosts_locks_is_logged_once_by_that_host_also_when_another_host_has_locks_of_the_same_names()
    {
        // Before, both hosts logged it (N test servers in one process logged a cycle N times).
        var ct = TestContext.Current.CancellationToken;
        using var main = Build(Main);
        using var side = Build(Side);
        await main.StartAsync(ct);
        await side.StartAsync(ct);

        using (new Deadlock(side.Services.GetRequiredKeyedService<ExclusiveLock>("accounts"), side.Services.GetRequiredKeyedService<ExclusiveLock>("audit")))
        {
            Guard.SpinUntil(() => main.Logs(LocksmithEventIds.DeadlockDetected).Length + side.Logs(LocksmithEventIds.DeadlockDetected).Length > 0);
            LetBothScan(main, side);
        }

        Guard.SpinUntil(() => side.Logs(LocksmithEventIds.DeadlockCleared).Length + main.Logs(LocksmithEventIds.DeadlockCleared).Length > 0);
        LetBothScan(main, side);
        await side.StopAsync(ct);
        await main.StopAsync(ct);

        Assert.Empty(main.Logs(LocksmithEventIds.DeadlockDetected));
        Assert.Contains("'accounts'", Assert.Single(side.Logs(LocksmithEventIds.DeadlockDetected)).Message, StringComparison.Ordinal);
        Assert.Empty(main.Logs(LocksmithEventIds.DeadlockCleared));
        Assert.Single(side.Logs(LocksmithEventIds.DeadlockCleared));
    }

    [Fact]
    public async Task A_deadlock_of_locks_no_host_declared_is_logged_once_by_the_host_that_started_first()
    {
        var ct = TestContext.Current.CancellationToken;
        using var main = Build(Main);
        using var side = Build(Side);
        await main.StartAsync(ct);
        await side.StartAsync(ct);

        using (new Deadlock(new ExclusiveLock("cache", 10), new ExclusiveLock("index", 20)))
        {
            Guard.SpinUntil(() => main.Logs(LocksmithEventIds.DeadlockDetected).Length + side.Logs(LocksmithEventIds.DeadlockDetected).Length > 0);
            LetBothScan(main, side);
        }

        await side.StopAsync(ct);
        await main.StopAsync(ct);

        Assert.Contains("'cache'", Assert.Single(main.Logs(LocksmithEventIds.DeadlockDetected)).Message, StringComparison.Ordinal);
        Assert.Empty(side.Logs(LocksmithEventIds.DeadlockDetected));
    }

    [Fact]
    public async Task A_watchdog_takes_its_place_in_the_reporting_order_as_its_host_starts_and_leaves_it_at_stop_even_if_its_loop_never_ran()
    {
        // Since .NET 10 a BackgroundService's ExecuteAsync runs on the pool (Task.Run with the start token): a watchdog that
        // joined the order there could join after a host started later (which then logged the first one's cycles), or
        // never, when the token was cancelled before the pool ran it. A cancelled start token shows both at once.
        using var host = Build(Main);
        var watchdog = host.Services.GetServices<IHostedService>().OfType<DeadlockWatchdog>().Single();

        await watchdog.StartingAsync(new CancellationToken(canceled: true));
        bool joinedAtStart = watchdog.IsInReportingOrder;
        await watchdog.StoppedAsync(CancellationToken.None);

        Assert.True(joinedAtStart, "the watchdog was not in the reporting order when its start returned");
        Assert.False(watchdog.IsInReportingOrder, "the watchdog stayed in the reporting order after its stop");
    }
}
