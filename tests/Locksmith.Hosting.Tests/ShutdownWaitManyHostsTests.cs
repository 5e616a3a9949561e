using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: every stopping host reads the same process-wide waits, and each stuck wait is logged once: by the stopping host
/// whose lock instance it waits for, or, when none can be told, by the host whose stop began first.
/// </summary>
public sealed class ShutdownWaitManyHostsTests
{
    private const string Main = """{ "Locksmith": { "ShutdownWaitThreshold": "00:00:00.001" } }""";

    private const string Side = """{ "Locksmith": { "InstallProcessPolicy": false, "ShutdownWaitThreshold": "00:00:00.001" } }""";

    /// <summary>Takes the ledger as it stops; holds it until <see cref="StopWhen"/> says so.</summary>
    private sealed class FlushOnStop([FromKeyedServices("ledger")] ExclusiveLock ledger) : IHostedService
    {
        public Func<bool> StopWhen { get; set; } = static () => true;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            using (ledger.Acquire())
            {
                Guard.SpinUntil(StopWhen);
            }

            return Task.CompletedTask;
        }
    }

    // Two hosts of one app, as two test servers in one test process: the same lock name in each.
    private static IHost Build(string settings) =>
        TestHost.Build(settings, static l => l.AddExclusiveLock("ledger", 10), static s => s.AddSingleton<FlushOnStop>().AddHostedService(static p => p.GetRequiredService<FlushOnStop>()));

    private static ShutdownWaitReporter Reporter(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<ShutdownWaitReporter>().Single();

    [Fact]
    public async Task A_wait_stuck_while_two_hosts_stop_is_logged_once_by_the_host_whose_lock_it_waits_for()
    {
        // Before, both stopping hosts logged it: each reads the process-wide waits.
        var ct = TestContext.Current.CancellationToken;
        using var main = Build(Main);
        using var side = Build(Side);
        await main.StartAsync(ct);
        await side.StartAsync(ct);

        // Main's stop lasts until the test ends it; its watch began first, so it would be "the first" host.
        using var release = new ManualResetEventSlim();
        main.Services.GetRequiredService<FlushOnStop>().StopWhen = () => release.IsSet;
        var mainStopper = Concurrently.Start("main-stopper", () => main.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => Reporter(main).Scans > 0);

        // Side's stop waits for side's ledger, which another thread keeps.
        using var held = new ManualResetEventSlim();
        var sideLedger = side.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var holder = Concurrently.Start("reconciler", () =>
        {
            using var scope = sideLedger.Acquire();
            held.Set();
            release.Wait(Guard.HangLimit);
        });
        held.Wait(Guard.HangLimit);
        var sideStopper = Concurrently.Start("side-stopper", () => side.StopAsync(ct).GetAwaiter().GetResult());

        Guard.SpinUntil(() => main.Logs(LocksmithEventIds.ShutdownWaitStuck).Length + side.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        // Both watches make several more passes over the same wait: counted, not timed.
        long a = Reporter(main).Scans, b = Reporter(side).Scans;
        Guard.SpinUntil(() => Reporter(main).Scans >= a + 5 && Reporter(side).Scans >= b + 5);
        var mainLines = main.Logs(LocksmithEventIds.ShutdownWaitStuck);
        var sideLines = side.Logs(LocksmithEventIds.ShutdownWaitStuck);

        release.Set();
        holder.JoinGuarded();
        sideStopper.JoinGuarded();
        mainStopper.JoinGuarded();

        Assert.Empty(mainLines);
        Assert.Equal("ledger", Assert.Single(sideLines).GetStructuredStateValue("LockName"));
    }

    [Fact]
    public async Task A_wait_for_a_lock_no_host_declared_is_logged_once_by_the_host_whose_stop_began_first()
    {
        var ct = TestContext.Current.CancellationToken;
        using var main = Build(Main);
        using var side = Build(Side);
        await main.StartAsync(ct);
        await side.StartAsync(ct);

        // Both stops last until the test ends them; main's watch begins first.
        using var release = new ManualResetEventSlim();
        main.Services.GetRequiredService<FlushOnStop>().StopWhen = () => release.IsSet;
        side.Services.GetRequiredService<FlushOnStop>().StopWhen = () => release.IsSet;
        var mainStopper = Concurrently.Start("main-stopper", () => main.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => Reporter(main).Scans > 0);
        var sideStopper = Concurrently.Start("side-stopper", () => side.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => Reporter(side).Scans > 0);

        // A wait on a lock made with new: no host's.
        var cache = new ExclusiveLock("cache", 30);
        using var held = new ManualResetEventSlim();
        var holder = Concurrently.Start("cache-holder", () =>
        {
            using var scope = cache.Acquire();
            held.Set();
            release.Wait(Guard.HangLimit);
        });
        held.Wait(Guard.HangLimit);
        var waiter = Concurrently.Start("cache-waiter", () =>
        {
            using var scope = cache.Acquire(Guard.HangLimit);
        });

        Guard.SpinUntil(() => main.Logs(LocksmithEventIds.ShutdownWaitStuck).Length + side.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        long a = Reporter(main).Scans, b = Reporter(side).Scans;
        Guard.SpinUntil(() => Reporter(main).Scans >= a + 5 && Reporter(side).Scans >= b + 5);
        var mainLines = main.Logs(LocksmithEventIds.ShutdownWaitStuck);
        var sideLines = side.Logs(LocksmithEventIds.ShutdownWaitStuck);

        release.Set();
        holder.JoinGuarded();
        waiter.JoinGuarded();
        sideStopper.JoinGuarded();
        mainStopper.JoinGuarded();

        Assert.Equal("cache", Assert.Single(mainLines).GetStructuredStateValue("LockName"));
        Assert.Empty(sideLines);
    }
}
