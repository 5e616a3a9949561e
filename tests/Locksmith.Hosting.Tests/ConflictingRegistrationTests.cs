using System;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// A keyed service of a lock's type and name registered outside <c>AddLocksmith</c>: the container resolves the last
/// registration of a key, so one of the two locks would be silently dropped (before, the other one won unseen, and the
/// catalog, the metrics and the watchdog read a lock the app never used).
/// </summary>
public sealed class ConflictingRegistrationTests
{
    [Fact]
    public async Task A_lock_registered_again_after_AddLocksmith_fails_the_start_naming_the_lock_the_type_and_the_fix()
    {
        using var host = TestHost.Build(
            locks: static l => l.AddExclusiveLock("ledger", level: 10),
            services: static s => s.AddKeyedSingleton("ledger", new ExclusiveLock("ledger")));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("Lock 'ledger' is registered twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("keyed ExclusiveLock", error.Message, StringComparison.Ordinal);
        Assert.Contains("after AddLocksmith's, so it replaces it", error.Message, StringComparison.Ordinal);
        Assert.Contains("Remove the other registration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lock_registered_before_AddLocksmith_fails_the_start_saying_it_is_replaced()
    {
        using var host = TestHost.Build(
            locks: static l => l.AddAsyncExclusiveLock("outbox", level: 40),
            services: static s => s.Insert(0, ServiceDescriptor.KeyedSingleton<AsyncExclusiveLock>("outbox", static (_, _) => new AsyncExclusiveLock("outbox"))));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("Lock 'outbox' is registered twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("keyed AsyncExclusiveLock", error.Message, StringComparison.Ordinal);
        Assert.Contains("before AddLocksmith's, which replaces it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lock_registered_again_as_LockPrimitive_fails_the_start_too()
    {
        using var host = TestHost.Build(
            locks: static l => l.AddExclusiveLock("ledger", level: 10),
            services: static s => s.AddKeyedSingleton<LockPrimitive>("ledger", new ExclusiveLock("ledger-other")));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("Lock 'ledger' is registered twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("keyed LockPrimitive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_services_under_the_lock_s_key_and_other_keys_of_its_type_start()
    {
        // Another type under the same key, and another lock of the type under another key: no conflict.
        using var host = TestHost.Build(
            locks: static l => l.AddExclusiveLock("ledger", level: 10),
            services: static s => s.AddKeyedSingleton("ledger", "the ledger's label").AddKeyedSingleton("side", new ExclusiveLock("side")));

        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            Assert.Equal("ledger", host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger").Name);
            Assert.Equal("the ledger's label", host.Services.GetRequiredKeyedService<string>("ledger"));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }
    [Fact]
    public async Task A_lock_swapped_in_for_AddLocksmith_s_removed_registration_starts_and_is_the_catalog_s_and_metrics_lock()
    {
        // The test-host idiom (ConfigureTestServices): remove AddLocksmith's registration, add a replacement. Only one
        // lock is registered then, so nothing is dropped: the start adopts it as the container's lock (before, the check
        // called it "replaced" by a registration that was gone, and failed the start). Made by the container (a factory),
        // it is bound to the container's meter as AddLocksmith's own lock would have been.
        ExclusiveLock? made = null;
        using var host = TestHost.Build(
            """{ "Locksmith": { "StatisticsEnabled": true } }""",
            locks: static l => l.AddExclusiveLock("ledger", level: 10),
            services: s =>
            {
                s.RemoveAllKeyed<ExclusiveLock>("ledger");
                s.AddKeyedSingleton("ledger", (_, _) => made = new ExclusiveLock("ledger", level: 10));
            });

        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var swapped = Assert.IsType<ExclusiveLock>(made);
            Assert.Same(swapped, host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger"));
            Assert.Same(swapped, host.Services.GetRequiredKeyedService<LockPrimitive>("ledger"));
            for (int i = 0; i < 3; i++)
            {
                using (swapped.Acquire())
                {
                }
            }

            // Bound to the container's meter at the start, as a lock AddLocksmith creates is: its statistics count.
            var entry = host.Services.GetRequiredService<ILockCatalog>().Snapshot().Single(static e => e.Name == "ledger");
            Assert.Equal(3, entry.Statistics.Acquisitions);
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_lock_made_with_new_and_swapped_in_as_an_instance_keeps_recording_into_the_process_wide_meter()
    {
        // A lock made with new records into the process-wide meter (README, DESIGN), and may outlive the container or be
        // given to several hosts. Adopted as an instance, it was rebound to the container's meter for good: while the
        // host ran the process-wide meter no longer heard it, and once the host was disposed (its meter with it) nothing
        // did. It keeps its meter; the container binds only the locks it makes.
        var ct = TestContext.Current.CancellationToken;
        var swapped = new ExclusiveLock("swapped-ledger", level: 10);
        using var processWide = new MetricCollector<long>((object?)null, LocksmithMetrics.MeterName, Acquisitions);
        long during, inContainer;
        using (var host = TestHost.Build(
            locks: static l => l.AddExclusiveLock("swapped-ledger", level: 10),
            services: s =>
            {
                s.RemoveAllKeyed<ExclusiveLock>("swapped-ledger");
                s.AddKeyedSingleton("swapped-ledger", swapped);
            }))
        {
            using var container = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), LocksmithMetrics.MeterName, Acquisitions);
            await host.StartAsync(ct);
            Assert.Same(swapped, host.Services.GetRequiredKeyedService<ExclusiveLock>("swapped-ledger"));
            Acquire(swapped, 3);
            during = CountFor(processWide, "swapped-ledger");
            inContainer = CountFor(container, "swapped-ledger");

            // Still the container's lock in every other respect: the catalog lists it.
            var entry = host.Services.GetRequiredService<ILockCatalog>().Snapshot().Single(static e => e.Name == "swapped-ledger");
            Assert.Equal(10, entry.Level);
            await host.StopAsync(ct);
        }

        Acquire(swapped, 2);

        Assert.Equal(3, during);
        Assert.Equal(0, inContainer);
        Assert.Equal(5, CountFor(processWide, "swapped-ledger"));
    }

    private const string Acquisitions = "locksmith.lock.acquisitions";

    private static void Acquire(ExclusiveLock target, int times)
    {
        for (int i = 0; i < times; i++)
        {
            using (target.Acquire())
            {
            }
        }
    }

    private static long CountFor(MetricCollector<long> collector, string lockName) =>
        collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue("lock.name", out var name) && (string?)name == lockName).Sum(static m => m.Value);

    [Fact]
    public async Task A_lock_swapped_in_under_another_name_fails_the_start_naming_both()
    {
        using var host = TestHost.Build(
            locks: static l => l.AddExclusiveLock("ledger", level: 10),
            services: static s =>
            {
                s.RemoveAllKeyed<ExclusiveLock>("ledger");
                s.AddKeyedSingleton("ledger", new ExclusiveLock("other-ledger"));
            });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("registered in place of AddLocksmith's 'ledger' is named 'other-ledger'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("registered twice", error.Message, StringComparison.Ordinal);
    }
}
