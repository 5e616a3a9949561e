using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

public sealed class HealthTests
{
    private const string Settings = """{ "Locksmith": { "LongWaitThreshold": "00:00:00.010", "HealthWindow": "01:00:00" } }""";

    private static IHost BuildHost() => TestHost.Build(
        Settings, l => l.AddExclusiveLock("ledger", 10), s => s.AddHealthChecks().AddLocksmith());

    [Fact]
    public async Task A_wait_that_times_out_after_the_long_wait_threshold_turns_health_degraded()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildHost();
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);
        var holder = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        });

        // Five times the threshold: one timeout, below DegradedTimeoutCount (10), but a long wait all the same.
        bool acquired = ledger.TryAcquire(TimeSpan.FromMilliseconds(50), out var unexpected);
        unexpected.Dispose();
        var report = await health.CheckHealthAsync(ct);
        holder.Release();
        await host.StopAsync(ct);

        Assert.False(acquired);
        var entry = report.Entries["locksmith"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(1, entry.Data["timeouts"]);
        Assert.Contains("'ledger' (Exclusive) timed out after waiting", Assert.Single((string[])entry.Data["longWaits"]), StringComparison.Ordinal);
        Assert.Contains("1 long wait(s) (1 of them timed out)", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wait_still_blocked_past_the_long_wait_threshold_turns_health_degraded()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildHost();
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);
        var before = await health.CheckHealthAsync(ct);

        using var cancel = new CancellationTokenSource();
        var holder = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        });
        bool cancelled = false;
        var waiter = Concurrently.Start("stuck-waiter", () =>
        {
            try
            {
                using var scope = ledger.Acquire(Guard.HangLimit, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
            }
        });

        // Parked in the wait, then left there for five thresholds: the wait has lasted at least that long.
        Guard.SpinUntil(() => waiter.IsBlocked);
        Thread.Sleep(50);
        var during = await health.CheckHealthAsync(ct);
        cancel.Cancel();
        waiter.JoinGuarded();
        holder.Release();

        var after = await health.CheckHealthAsync(ct);
        await host.StopAsync(ct);

        Assert.True(cancelled);
        Assert.Equal(HealthStatus.Healthy, before.Status);
        var entry = during.Entries["locksmith"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(0, entry.Data["timeouts"]);
        string wait = Assert.Single((string[])entry.Data["longWaits"]);
        Assert.Contains("thread", wait, StringComparison.Ordinal);
        Assert.Contains("('stuck-waiter') has waited", wait, StringComparison.Ordinal);
        Assert.EndsWith("for 'ledger' (Exclusive), still waiting", wait, StringComparison.Ordinal);
        Assert.Contains("1 wait(s) past the long-wait threshold still waiting", entry.Description, StringComparison.Ordinal);

        // A cancelled wait is neither a timeout nor a long wait once it is over.
        Assert.Equal(HealthStatus.Healthy, after.Entries["locksmith"].Status);
    }
}
