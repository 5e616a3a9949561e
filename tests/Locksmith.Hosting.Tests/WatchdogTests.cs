using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

public sealed class WatchdogTests
{
    private const string Settings = """
        { "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "00:00:00.010", "HealthWindow": "01:00:00" } }
        """;

    private static IHost BuildHost(string settings = Settings) => TestHost.Build(
        settings,
        l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20),
        s => s.AddHealthChecks().AddLocksmith(tags: ["ready"]));

    [Fact]
    public async Task The_watchdog_logs_a_real_deadlock_once_and_health_is_unhealthy_until_the_waits_end()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildHost();
        var accounts = host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var audit = host.Services.GetRequiredKeyedService<ExclusiveLock>("audit");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);
        var watchdog = host.Watchdog();
        var before = await health.CheckHealthAsync(ct);

        // Two threads take the two locks in opposite orders (order checks off), then each waits for the other's lock.
        // The waits end when the test cancels them, once it has seen the cycle: timed by the test, not by the clock.
        using var cancel = new CancellationTokenSource();
        using var bothHold = new CountdownEvent(2);
        var outcomes = new string[2];
        Worker Start(int index, ExclusiveLock first, ExclusiveLock second) => Concurrently.Start($"deadlock-{index}", () =>
        {
            using var held = first.Acquire();
            bothHold.Signal();
            bothHold.Wait(Guard.HangLimit);
            try
            {
                using var both = second.Acquire(Guard.HangLimit, cancel.Token);
                outcomes[index] = "acquired";
            }
            catch (OperationCanceledException)
            {
                outcomes[index] = "cancelled";
            }
        });
        var one = Start(0, accounts, audit);
        var two = Start(1, audit, accounts);

        // The cycle exists from the moment the test sees it; the scan then under way may have started before it formed,
        // so the one after must find it: detection within two scans (two intervals), counted, not timed.
        Guard.SpinUntil(() => DeadlockDetector.FindCycles().Count > 0);
        long formedBy = watchdog.Scans;
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.DeadlockDetected).Length > 0);
        long detectedAt = watchdog.DetectedAtScan;
        long seenAt = watchdog.Scans;
        Guard.SpinUntil(() => watchdog.Scans >= seenAt + 5);
        var detected = host.Logs(LocksmithEventIds.DeadlockDetected);
        var during = await health.CheckHealthAsync(ct);

        cancel.Cancel();
        one.JoinGuarded();
        two.JoinGuarded();
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.DeadlockCleared).Length > 0);
        long clearedAt = watchdog.Scans;
        Guard.SpinUntil(() => watchdog.Scans >= clearedAt + 3);
        var after = await health.CheckHealthAsync(ct);
        await host.StopAsync(ct);

        Assert.Equal(HealthStatus.Healthy, before.Status);
        Assert.InRange(detectedAt, 1, formedBy + 2);
        var line = Assert.Single(detected);
        Assert.Equal(LogLevel.Critical, line.Level);
        Assert.Equal("'accounts', 'audit'", SortedLocks(line.GetStructuredStateValue("Locks")));
        Assert.Contains("'deadlock-0'", line.GetStructuredStateValue("Waiters"), StringComparison.Ordinal);
        Assert.Contains("'deadlock-1'", line.GetStructuredStateValue("Waiters"), StringComparison.Ordinal);
        Assert.Contains("waits for 'audit' (level 20)", line.Message, StringComparison.Ordinal);
        Assert.Single(host.Logs(LocksmithEventIds.DeadlockDetected));
        Assert.Single(host.Logs(LocksmithEventIds.DeadlockCleared));

        var entry = during.Entries["locksmith"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal(["ready"], entry.Tags);
        Assert.Contains("1 deadlock cycle(s)", entry.Description, StringComparison.Ordinal);
        Assert.Single((string[])entry.Data["deadlocks"]);
        var locks = (IReadOnlyList<LockCatalogEntry>)entry.Data["locks"];
        Assert.Equal(2, locks.ContainerLocks().Length);
        Assert.All(locks.ContainerLocks(), l => Assert.True(l.State.IsHeld));

        // Both waits were cancelled, or one was and the other then got its lock: either way the cycle is gone.
        Assert.Contains("cancelled", outcomes);
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    [Fact]
    public async Task A_deadlock_of_async_flows_names_each_waiting_flow_with_its_activity_in_the_logs_waiters_as_the_cycle_does()
    {
        // Before, Waiters read 'flow #1, flow #2' while the Cycle beside it read "flow #1 ('POST /stock') waits for ...":
        // the field meant for matching a deadlock to its requests dropped their names.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(Settings, static l => l.AddAsyncExclusiveLock("orders", 10).AddAsyncExclusiveLock("stock", 20));
        var orders = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("orders");
        var stock = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("stock");
        await host.StartAsync(ct);

        // Two request flows take the two locks in opposite orders, then each waits for the other's, until the test cancels.
        using var cancel = new CancellationTokenSource();
        var bothHold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int holding = 0;
        Task Request(string name, AsyncExclusiveLock first, AsyncExclusiveLock second)
        {
            using (ExecutionContext.SuppressFlow())
            {
                // A flow of its own: this test's flow shares its holds with what it starts.
                return Task.Run(async () =>
                {
                    using var activity = new System.Diagnostics.Activity(name).Start();
                    using (await first.AcquireAsync(ct))
                    {
                        if (Interlocked.Increment(ref holding) == 2)
                        {
                            bothHold.SetResult();
                        }

                        await bothHold.Task;
                        try
                        {
                            using (await second.AcquireAsync(cancel.Token))
                            {
                            }
                        }
                        catch (OperationCanceledException)
                        {
                        }
                    }
                });
            }
        }

        var one = Request("GET /orders", orders, stock);
        var two = Request("POST /stock", stock, orders);
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.DeadlockDetected).Length > 0);
        cancel.Cancel();
        await Task.WhenAll(one, two).WaitAsync(Guard.HangLimit, ct);
        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.DeadlockDetected));
        string waiters = line.GetStructuredStateValue("Waiters")!;
        const string Flow = @"flow #\d+ \('(GET /orders|POST /stock)'\) \(on thread \d+( \('[^']*'\))?\)";
        Assert.Matches($"^{Flow}, {Flow}$", waiters);
        Assert.Contains("('GET /orders')", waiters, StringComparison.Ordinal);
        Assert.Contains("('POST /stock')", waiters, StringComparison.Ordinal);

        // Each waiter as the Cycle beside it names it, its thread included.
        foreach (string waiter in waiters.Split(", "))
        {
            Assert.Contains(waiter + " waits for ", line.GetStructuredStateValue("Cycle"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_deadlocked_flow_is_named_in_the_logs_waiters_with_the_thread_its_wait_began_on_as_its_order_violation_names_it()
    {
        // Waiters read "flow #2 ('POST /stock')" where 14001-14003 and the exceptions read "flow #2 ('POST /stock') (on
        // thread 7)": the watchdog runs on a thread of its own, but a contended async wait keeps the thread it began on.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "OrderViolationAction": "Report", "WatchdogInterval": "00:00:00.010" } }""",
            static l => l.AddAsyncExclusiveLock("orders", 10).AddAsyncExclusiveLock("stock", 20));
        var orders = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("orders");
        var stock = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("stock");
        await host.StartAsync(ct);

        // Each request flow runs on a named thread of its own up to its contended wait, which so begins on that thread;
        // the second takes the locks against the order (reported, 14002, on the same thread), and the two deadlock.
        using var cancel = new CancellationTokenSource();
        using var bothHold = new CountdownEvent(2);
        async Task Request(string activityName, AsyncExclusiveLock first, AsyncExclusiveLock second)
        {
            using var activity = new System.Diagnostics.Activity(activityName).Start();
            using (await first.AcquireAsync(ct))
            {
                bothHold.Signal();
                Assert.True(bothHold.Wait(Guard.HangLimit, ct));
                try
                {
                    using (await second.AcquireAsync(cancel.Token))
                    {
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        (Thread Thread, Func<Task> Request) Begin(string threadName, string activityName, AsyncExclusiveLock first, AsyncExclusiveLock second)
        {
            Task? request = null;
            Thread thread;
            using (ExecutionContext.SuppressFlow())
            {
                thread = new Thread(() => request = Request(activityName, first, second)) { Name = threadName };
                thread.Start();
            }

            return (thread, () => request!);
        }

        var get = Begin("orders-thread", "GET /orders", orders, stock);
        var post = Begin("stock-thread", "POST /stock", stock, orders);
        get.Thread.JoinGuarded();
        post.Thread.JoinGuarded();
        int getFlow = orders.HolderFlowId;
        int postFlow = stock.HolderFlowId;
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.DeadlockDetected).Length > 0);
        cancel.Cancel();
        await get.Request().WaitAsync(Guard.HangLimit, ct);
        await post.Request().WaitAsync(Guard.HangLimit, ct);
        await host.StopAsync(ct);

        string getNamed = $"flow #{getFlow - LockCatalogEntry.FlowIdBase} ('GET /orders') (on thread {get.Thread.ManagedThreadId} ('orders-thread'))";
        string postNamed = $"flow #{postFlow - LockCatalogEntry.FlowIdBase} ('POST /stock') (on thread {post.Thread.ManagedThreadId} ('stock-thread'))";
        var violation = Assert.Single(host.Logs(LocksmithEventIds.LockOrderViolation));
        Assert.Equal(postNamed, violation.GetStructuredStateValue("Owner"));
        var line = Assert.Single(host.Logs(LocksmithEventIds.DeadlockDetected));
        Assert.Equal(getFlow < postFlow ? $"{getNamed}, {postNamed}" : $"{postNamed}, {getNamed}", line.GetStructuredStateValue("Waiters"));
        Assert.Contains($"{getNamed} waits for 'stock' (level 20), held by flow #", line.GetStructuredStateValue("Cycle"), StringComparison.Ordinal);
        Assert.Contains($"{postNamed} waits for 'orders' (level 10), held by flow #", line.GetStructuredStateValue("Cycle"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeouts_past_the_configured_count_turn_health_degraded()
    {
        const int Timeouts = 3;
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildHost("""{ "Locksmith": { "DegradedTimeoutCount": 3, "HealthWindow": "01:00:00" } }""");
        var accounts = host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);
        var statuses = new List<HealthStatus>();

        using (HeldOnOtherThread.Hold("accounts-holder", release =>
        {
            using var scope = accounts.Acquire();
            release.Wait();
        }))
        {
            for (int i = 0; i < Timeouts; i++)
            {
                statuses.Add((await health.CheckHealthAsync(ct)).Status);
                Assert.False(accounts.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
            }
        }

        var report = await health.CheckHealthAsync(ct);
        await host.StopAsync(ct);

        Assert.Equal([HealthStatus.Healthy, HealthStatus.Healthy, HealthStatus.Healthy], statuses);
        var entry = report.Entries["locksmith"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(Timeouts, entry.Data["timeouts"]);
        Assert.Equal(Timeouts, host.Logs(LocksmithEventIds.LockTimeout).Length);
    }

    [Fact]
    public async Task A_long_wait_turns_health_degraded()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "LongWaitThreshold": "00:00:00", "HealthWindow": "01:00:00" } }""",
            l => l.AddAsyncExclusiveLock("outbox"),
            s => s.AddHealthChecks().AddLocksmith());
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync(ct);
        var before = await health.CheckHealthAsync(ct);

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

        Assert.Equal(HealthStatus.Healthy, before.Status);
        var entry = report.Entries["locksmith"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("'outbox' (Exclusive) waited", Assert.Single((string[])entry.Data["longWaits"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_infinite_interval_runs_no_watchdog()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = BuildHost("""{ "Locksmith": { "WatchdogInterval": "-00:00:00.001" } }""");

        await host.StartAsync(ct);
        int running = DeadlockWatchdog.RunningCount;
        long scans = host.Watchdog().Scans;
        await host.StopAsync(ct);

        Assert.Equal(0, running);
        Assert.Equal(0, scans);
    }

    private static string SortedLocks(string? locks) =>
        string.Join(", ", (locks ?? string.Empty).Split(", ").Order(StringComparer.Ordinal));
}
