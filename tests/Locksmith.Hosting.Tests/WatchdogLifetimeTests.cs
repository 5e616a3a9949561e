using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: registration order does not matter. The watchdog watches while every hosted service starts and stops, also
/// one registered before <c>AddLocksmith</c> (the worker template's <c>Worker</c>), whose start or stop is where a
/// deadlock hangs the host.
/// </summary>
public sealed class WatchdogLifetimeTests
{
    private const string Settings = """
        { "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "00:00:00.010" } }
        """;

    [Fact]
    public async Task A_deadlock_while_a_service_registered_before_AddLocksmith_stops_is_logged()
    {
        var ct = TestContext.Current.CancellationToken;
        var worker = new DeadlockingService(inStart: false);
        using var host = BuildWithServiceFirst(worker);
        await host.StartAsync(ct);
        await host.StopAsync(ct);

        Assert.True(worker.WatchdogWasRunning, "the watchdog had stopped before the service registered ahead of AddLocksmith stopped");
        var line = Assert.Single(host.Logs(LocksmithEventIds.DeadlockDetected));
        Assert.Contains("'accounts'", line.GetStructuredStateValue("Locks"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deadlock_while_a_service_registered_before_AddLocksmith_starts_is_logged()
    {
        var ct = TestContext.Current.CancellationToken;
        var worker = new DeadlockingService(inStart: true);
        using var host = BuildWithServiceFirst(worker);
        await host.StartAsync(ct);
        await host.StopAsync(ct);

        Assert.True(worker.WatchdogWasRunning, "the watchdog had not started when the service registered ahead of AddLocksmith started");
        var line = Assert.Single(host.Logs(LocksmithEventIds.DeadlockDetected));
        Assert.Contains("'audit'", line.GetStructuredStateValue("Locks"), StringComparison.Ordinal);
    }

    // As the worker template does: the app's service first, then AddLocksmith.
    private static IHost BuildWithServiceFirst(DeadlockingService worker)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Settings)));
        builder.Logging.AddFakeLogging();
        builder.Services.AddHostedService(provider =>
        {
            worker.Services = provider;
            return worker;
        });
        builder.Services.AddLocksmith(builder.Configuration.GetSection(LocksmithOptions.SectionName))
            .AddExclusiveLock("accounts", 10)
            .AddExclusiveLock("audit", 20);
        return builder.Build();
    }

    /// <summary>
    /// In its start or its stop, makes two threads take the container's two locks in opposite orders and waits, counted
    /// in watchdog scans, until the watchdog must have seen the cycle (or is not running at all); then cancels the waits.
    /// </summary>
    private sealed class DeadlockingService(bool inStart) : IHostedService
    {
        public IServiceProvider? Services { get; set; }

        public bool WatchdogWasRunning { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (inStart)
            {
                Deadlock();
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            if (!inStart)
            {
                Deadlock();
            }

            return Task.CompletedTask;
        }

        private void Deadlock()
        {
            var services = Services!;
            var accounts = services.GetRequiredKeyedService<ExclusiveLock>("accounts");
            var audit = services.GetRequiredKeyedService<ExclusiveLock>("audit");
            var watchdog = services.GetServices<IHostedService>().OfType<DeadlockWatchdog>().Single();
            using var cancel = new CancellationTokenSource();
            using var bothHold = new CountdownEvent(2);
            Worker Start(string name, ExclusiveLock first, ExclusiveLock second) => Concurrently.Start(name, () =>
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
                    // The test ends the cycle once the watchdog had its scans.
                }
            });
            var one = Start("deadlock-0", accounts, audit);
            var two = Start("deadlock-1", audit, accounts);

            // Detection within two scans of the cycle forming (WatchdogTests); three are waited for. A watchdog that is not
            // running (not started yet, or stopped already) never scans, so the wait ends at once and the test fails.
            Guard.SpinUntil(() => DeadlockDetector.FindCycles().Count > 0);
            long formedBy = watchdog.Scans;
            Guard.SpinUntil(() => watchdog.Scans >= formedBy + 3 || watchdog.ExecuteTask is not { IsCompleted: false });
            WatchdogWasRunning = watchdog.Scans >= formedBy + 3;

            cancel.Cancel();
            one.JoinGuarded();
            two.JoinGuarded();
        }
    }
}
