using System;
using System.Linq;
using System.Text.Json;
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
    public async Task The_data_serializes_each_locks_kind_by_its_name()
    {
        // Before, a writer or publisher serializing the data whole wrote "Kind":0, where longWaits say 'ledger' (Exclusive).
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            Settings, l => l.AddExclusiveLock("ledger", 10).AddReadWriteLock("rates", 5), s => s.AddHealthChecks().AddLocksmith());
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);
        var report = await health.CheckHealthAsync(ct);
        await host.StopAsync(ct);

        string json = JsonSerializer.Serialize(report.Entries["locksmith"].Data);

        Assert.Contains("""{"Name":"ledger","Kind":"Exclusive","Level":10""", json, StringComparison.Ordinal);
        Assert.Contains("""{"Name":"rates","Kind":"ReadWrite","Level":5""", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_storm_of_long_waits_lists_the_newest_in_the_health_data_and_counts_the_rest()
    {
        // Before, the data listed every long wait within the window: a storm (thousands a minute) made the health
        // report, which writers and publishers serialize whole, as large as the storm.
        const int Listed = 20;   // LocksmithHealthCheck.ListedLongWaits, a literal so the test also compiles without it
        const int Waits = 3 * Listed;
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "LongWaitThreshold": "00:00:00", "HealthWindow": "01:00:00", "DegradedTimeoutCount": 0 } }""",
            l => l.AddExclusiveLock("ledger", 10), s => s.AddHealthChecks().AddLocksmith());
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);
        using (HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            for (int i = 0; i < Waits; i++)
            {
                Assert.False(ledger.TryAcquire(TimeSpan.FromMilliseconds(1), out var unexpected));
                unexpected.Dispose();
            }
        }

        var report = await health.CheckHealthAsync(ct);
        await host.StopAsync(ct);

        var entry = report.Entries["locksmith"];
        var listed = (string[])entry.Data["longWaits"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains($"{Waits} long wait(s) ({Waits} of them timed out)", entry.Description, StringComparison.Ordinal);
        Assert.Equal(Listed + 1, listed.Length);
        Assert.Equal($"{Waits - Listed} earlier long wait(s) within the window are not listed", listed[0]);
        Assert.All(listed[1..], static w => Assert.StartsWith("'ledger' (Exclusive) timed out after waiting", w, StringComparison.Ordinal));
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

        // Until the check's own source lists the wait, five thresholds old. "Blocked" alone may be a passing state before
        // the wait is registered, which a sleep only made unlikely to be seen.
        Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Any(static w =>
            w.LockName == "ledger" && w.WaiterName == "stuck-waiter" && w.Waited >= TimeSpan.FromMilliseconds(50)));
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

    [Fact]
    public async Task A_finished_long_wait_names_its_waiter_as_the_log_does_not_by_a_raw_id()
    {
        // The data read "'outbox' (Exclusive) waited 12 ms, waiter 1073741826": an async flow's internal id, which
        // no message, log field or exception shows, and a thread without its name.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "LongWaitThreshold": "00:00:00", "HealthWindow": "01:00:00" } }""",
            l => l.AddExclusiveLock("ledger", 10).AddAsyncExclusiveLock("outbox", 20),
            s => s.AddHealthChecks().AddLocksmith());
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);

        // A named thread that times out on a held sync lock.
        var holder = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        });
        bool acquired = true;
        var reader = Concurrently.Start("slow-reader", () =>
        {
            acquired = ledger.TryAcquire(TimeSpan.FromMilliseconds(5), out var scope);
            scope.Dispose();
        });
        reader.JoinGuarded();
        Assert.False(acquired);
        holder.Release();

        // A flow granted an async lock after waiting (each its own Task.Run: a child task would share its parent's holds).
        var held = await Task.Run(async () => await outbox.AcquireAsync(ct), ct);
        var waiter = Task.Run(async () =>
        {
            using var scope = await outbox.AcquireAsync(ct);
        }, ct);
        Guard.SpinUntil(() => outbox.WaitingCount == 1);
        held.Dispose();
        await waiter.WaitAsync(Guard.HangLimit, ct);

        var report = await health.CheckHealthAsync(ct);
        await host.StopAsync(ct);

        string timeoutWaiter = Assert.Single(host.Logs(LocksmithEventIds.LockTimeout)).GetStructuredStateValue("Waiter")!;
        string flowWaiter = Assert.Single(host.Logs(LocksmithEventIds.LongWait)).GetStructuredStateValue("Waiter")!;
        Assert.EndsWith("('slow-reader')", timeoutWaiter, StringComparison.Ordinal);
        Assert.StartsWith("flow #", flowWaiter, StringComparison.Ordinal);
        var waits = (string[])report.Entries["locksmith"].Data["longWaits"];
        Assert.Equal(2, waits.Length);
        Assert.StartsWith("'ledger' (Exclusive) timed out after waiting", waits[0], StringComparison.Ordinal);
        Assert.EndsWith($" ms, waiter {timeoutWaiter}", waits[0], StringComparison.Ordinal);
        Assert.StartsWith("'outbox' (Exclusive) waited", waits[1], StringComparison.Ordinal);
        Assert.EndsWith($" ms, waiter {flowWaiter}", waits[1], StringComparison.Ordinal);
    }
}
