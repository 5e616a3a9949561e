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
}
