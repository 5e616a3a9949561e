using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: a lock wait that holds up the host's stop for <c>ShutdownWaitThreshold</c> is logged once (14007), naming the
/// lock, the waiter and the holder; a clean stop logs nothing.
/// </summary>
public sealed class ShutdownWaitTests
{
    // A tiny threshold: the tests are bounded by what they see (the line, the reporter's passes), not by the clock.
    private const string Settings = """{ "Locksmith": { "ShutdownWaitThreshold": "00:00:00.001" } }""";

    /// <summary>Takes the ledger as it stops, as a service flushing its last batch does.</summary>
    private sealed class FlushOnStop([FromKeyedServices("ledger")] ExclusiveLock ledger) : IHostedService
    {
        public int StoppingThreadId { get; private set; }

        /// <summary>What a clean stop waits for while it holds the ledger; null: it releases at once.</summary>
        public Func<bool>? StopWhen { get; set; }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            StoppingThreadId = Environment.CurrentManagedThreadId;
            using (ledger.Acquire())
            {
                // A clean stop that still lasts a few of the reporter's passes, so "nothing logged" means something.
                if (StopWhen is { } stopWhen)
                {
                    Guard.SpinUntil(stopWhen);
                }
            }

            return Task.CompletedTask;
        }
    }

    private static (IHost Host, FlushOnStop Service) Build()
    {
        var host = TestHost.Build(Settings, static l => l.AddExclusiveLock("ledger", 10), static s => s.AddSingleton<FlushOnStop>().AddHostedService(static p => p.GetRequiredService<FlushOnStop>()));
        return (host, host.Services.GetRequiredService<FlushOnStop>());
    }

    private static ShutdownWaitReporter Reporter(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<ShutdownWaitReporter>().Single();

    [Fact]
    public async Task A_stop_held_up_by_a_lock_another_thread_holds_logs_one_warning_naming_the_lock_the_waiter_and_the_holder()
    {
        // Before, a shutdown hung on a lock without a deadlock cycle left no Locksmith line at all.
        var ct = TestContext.Current.CancellationToken;
        var (host, service) = Build();
        using var _ = host;
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        await host.StartAsync(ct);

        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int holderId = 0;
        var holder = Concurrently.Start("reconciler", () =>
        {
            holderId = Environment.CurrentManagedThreadId;
            using var scope = ledger.Acquire();
            held.Set();
            release.Wait(Guard.HangLimit);
        });
        held.Wait(Guard.HangLimit);

        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);

        // Once per wait: several more passes see the same wait still stuck and log nothing more.
        var reporter = Reporter(host);
        long seenAt = reporter.Scans;
        Guard.SpinUntil(() => reporter.Scans >= seenAt + 5);
        var lines = host.Logs(LocksmithEventIds.ShutdownWaitStuck);

        release.Set();
        holder.JoinGuarded();
        stopper.JoinGuarded();

        var line = Assert.Single(lines);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("ledger", line.GetStructuredStateValue("LockName"));
        Assert.Equal("10", line.GetStructuredStateValue("Level"));
        Assert.Equal(service.StoppingThreadId.ToString(CultureInfo.InvariantCulture), line.GetStructuredStateValue("WaiterId"));
        Assert.StartsWith($"thread {service.StoppingThreadId}", line.GetStructuredStateValue("Waiter"), StringComparison.Ordinal);
        Assert.Equal($"thread {holderId} ('reconciler')", line.GetStructuredStateValue("Holder"));
        Assert.Contains($"Shutdown held up by lock 'ledger' (level 10, Exclusive): thread {service.StoppingThreadId}", line.Message, StringComparison.Ordinal);
        Assert.Contains("held by thread " + holderId + " ('reconciler')", line.Message, StringComparison.Ordinal);
        Assert.Single(host.Logs(LocksmithEventIds.ShutdownWaitStuck));
    }

    /// <summary>Takes the outbox as it stops, in a flow of its own named by its activity.</summary>
    private sealed class FlushAsyncOnStop([FromKeyedServices("outbox")] AsyncExclusiveLock outbox) : IHostedService
    {
        /// <summary>The thread the stop's wait began on, as messages name a thread: <c>7 ('stopper')</c>.</summary>
        public string? StoppingThread { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            using var activity = new System.Diagnostics.Activity("flush").Start();
            var thread = Thread.CurrentThread;
            StoppingThread = string.IsNullOrEmpty(thread.Name) ? $"{thread.ManagedThreadId}" : $"{thread.ManagedThreadId} ('{thread.Name}')";
            using (await outbox.AcquireAsync(Guard.HangLimit, CancellationToken.None))
            {
            }
        }
    }

    [Fact]
    public async Task A_flow_held_up_in_the_stop_is_named_with_the_thread_its_wait_began_on_as_other_logs_name_a_flow()
    {
        // Before, the line read "flow #3 ('flush') has waited …" where 14001-14004 and the exceptions name a flow with its
        // thread, "flow #3 ('flush') (on thread 7)".
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "ShutdownWaitThreshold": "00:00:00.001", "LongWaitThreshold": "00:00:00" } }""",
            static l => l.AddAsyncExclusiveLock("outbox", 10),
            static s => s.AddSingleton<FlushAsyncOnStop>().AddHostedService(static p => p.GetRequiredService<FlushAsyncOnStop>()));
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var service = host.Services.GetRequiredService<FlushAsyncOnStop>();
        await host.StartAsync(ct);

        // Its own flow: a child task inherits its parent's flow, and with it the parent's holds.
        var held = await Task.Run(async () => await outbox.AcquireAsync(ct), ct);
        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        held.Dispose();
        stopper.JoinGuarded();

        var line = Assert.Single(host.Logs(LocksmithEventIds.ShutdownWaitStuck));
        int waiterId = int.Parse(line.GetStructuredStateValue("WaiterId")!, CultureInfo.InvariantCulture);
        string flow = $"flow #{waiterId - LockCatalogEntry.FlowIdBase} ('flush')";
        Assert.Equal($"{flow} (on thread {service.StoppingThread})", line.GetStructuredStateValue("Waiter"));

        // The same flow as its long wait names it once granted (with the thread it resumed on).
        var longWait = Assert.Single(host.Logs(LocksmithEventIds.LongWait));
        Assert.StartsWith(flow + " (on thread ", longWait.GetStructuredStateValue("Waiter"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clean_stop_logs_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, service) = Build();
        using var _ = host;
        service.StopWhen = () => Reporter(host).Scans >= 5;
        await host.StartAsync(ct);

        await host.StopAsync(ct);

        Assert.True(Reporter(host).Scans >= 5);
        Assert.Empty(host.Logs(LocksmithEventIds.ShutdownWaitStuck));
    }

    [Fact]
    public async Task A_flow_holding_the_stop_up_is_named_with_its_activity_as_the_catalog_names_it()
    {
        // A new user's trial stopped an app while a request held an async lock: 14001 said "held by flow #6
        // ('Microsoft.AspNetCore.Hosting.HttpRequestIn')", 14007 of the same wait only "held by flow #6".
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "ShutdownWaitThreshold": "00:00:00.001" } }""",
            static l => l.AddAsyncExclusiveLock("outbox", 10),
            static s => s.AddSingleton<FlushAsyncOnStop>().AddHostedService(static p => p.GetRequiredService<FlushAsyncOnStop>()));
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        await host.StartAsync(ct);

        // Held by a flow of its own (a request, say), named by its activity.
        var held = await Task.Run(async () =>
        {
            using var activity = new System.Diagnostics.Activity("nightly-export").Start();
            return await outbox.AcquireAsync(ct);
        }, ct);
        int holderId = outbox.HolderFlowId;
        string holder = $"flow #{holderId - LockCatalogEntry.FlowIdBase} ('nightly-export')";
        var entry = host.Services.GetRequiredService<ILockCatalog>().Snapshot().Single(static e => e.Name == "outbox");

        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        held.Dispose();
        stopper.JoinGuarded();

        Assert.Equal(holder, entry.HolderDescription);
        var line = Assert.Single(host.Logs(LocksmithEventIds.ShutdownWaitStuck));
        Assert.Equal(holderId.ToString(CultureInfo.InvariantCulture), line.GetStructuredStateValue("HolderId"));
        Assert.Equal(holder, line.GetStructuredStateValue("Holder"));
        Assert.Contains($"held by {holder};", line.Message, StringComparison.Ordinal);
    }
}
