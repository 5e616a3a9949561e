using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

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
}
