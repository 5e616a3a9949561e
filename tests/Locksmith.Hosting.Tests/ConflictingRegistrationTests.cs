using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

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
        // called it "replaced" by a registration that was gone, and failed the start).
        var swapped = new ExclusiveLock("ledger", level: 10);
        using var host = TestHost.Build(
            """{ "Locksmith": { "StatisticsEnabled": true } }""",
            locks: static l => l.AddExclusiveLock("ledger", level: 10),
            services: s =>
            {
                s.RemoveAllKeyed<ExclusiveLock>("ledger");
                s.AddKeyedSingleton("ledger", swapped);
            });

        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
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
