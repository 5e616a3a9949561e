using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Hosting.Tests;

public sealed class AsyncRegistrationTests
{
    private static void DeclareAsyncKinds(ILocksmithBuilder locks) => locks
        .AddAsyncReadWriteLock("prices", level: 20, ReadWritePolicy.Fair)
        .AddAsyncStripedLock<string>("orders", stripeCount: 6, level: 10)
        .AddAsyncReadWriteLock("cache")
        .AddAsyncStripedLock<int>("carts", stripeCount: 4);

    [Fact]
    public void The_async_kinds_resolve_by_key_as_singletons_with_their_name_level_policy_and_stripes()
    {
        using var host = TestHost.Build(locks: DeclareAsyncKinds);
        var services = host.Services;

        var prices = services.GetRequiredKeyedService<AsyncReadWriteLock>("prices");
        var orders = services.GetRequiredKeyedService<AsyncStripedLock<string>>("orders");
        var cache = services.GetRequiredKeyedService<AsyncReadWriteLock>("cache");
        var carts = services.GetRequiredKeyedService<AsyncStripedLock<int>>("carts");

        Assert.Same(prices, services.GetRequiredKeyedService<AsyncReadWriteLock>("prices"));
        Assert.Same(orders, services.GetRequiredKeyedService<LockPrimitive>("orders"));
        Assert.Same(prices, services.GetRequiredKeyedService<LockPrimitive>("prices"));
        Assert.Equal(("prices", 20, LockKind.AsyncReadWrite, ReadWritePolicy.Fair), (prices.Name, prices.Level, prices.Kind, prices.Policy));
        Assert.Equal(("cache", (int?)null, ReadWritePolicy.WriterPreferred), (cache.Name, cache.Level, cache.Policy));
        Assert.Equal(("orders", 10, LockKind.AsyncStriped, 8), (orders.Name, orders.Level, orders.Kind, orders.StripeCount));
        Assert.Equal(("carts", (int?)null, 4), (carts.Name, carts.Level, carts.StripeCount));
        Assert.Null(services.GetKeyedService<AsyncStripedLock<int>>("orders"));
    }

    [Fact]
    public async Task A_constructor_receives_async_locks_through_FromKeyedServices_and_they_keep_the_global_order()
    {
        using var host = TestHost.Build(locks: DeclareAsyncKinds, services: s => s.AddSingleton<OrderBook>());
        var book = host.Services.GetRequiredService<OrderBook>();

        Assert.Same(host.Services.GetRequiredKeyedService<AsyncReadWriteLock>("prices"), book.Prices);
        Assert.Equal(1, await book.PlaceAsync("o-1"));
        Assert.Equal(2, await book.PlaceAsync("o-2"));

        // prices (20) then orders (10) is against the declared order.
        using (await book.Prices.AcquireReadAsync(TestContext.Current.CancellationToken))
        {
            await Assert.ThrowsAsync<LockOrderViolationException>(async () =>
            {
                using var scope = await book.Orders.AcquireAsync("o-3", TestContext.Current.CancellationToken);
            });
        }
    }

    [Fact]
    public async Task The_catalog_lists_async_locks_in_order_with_readers_writer_and_waiters()
    {
        using var host = TestHost.Build(locks: DeclareAsyncKinds);
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var prices = host.Services.GetRequiredKeyedService<AsyncReadWriteLock>("prices");
        var cache = host.Services.GetRequiredKeyedService<AsyncReadWriteLock>("cache");

        Assert.Equal(["orders", "prices", "cache", "carts"], catalog.Snapshot().ContainerLocks().Select(e => e.Name));
        Assert.Equal(
            [LockKind.AsyncStriped, LockKind.AsyncReadWrite, LockKind.AsyncReadWrite, LockKind.AsyncStriped],
            catalog.Snapshot().ContainerLocks().Select(e => e.Kind));

        // Each flow its own Task.Run: a child task inherits its parent's flow, and with it the parent's holds.
        var reader = await Task.Run(async () => await prices.AcquireReadAsync(TestContext.Current.CancellationToken));
        var writer = await Task.Run(async () => await cache.AcquireWriteAsync(TestContext.Current.CancellationToken));
        var waitingWriter = Task.Run(async () =>
        {
            using var scope = await prices.AcquireWriteAsync(TestContext.Current.CancellationToken);
        });
        Guard.SpinUntil(() => prices.WaitingCount == 1);

        var byName = catalog.Snapshot().ToDictionary(e => e.Name);
        Assert.Equal(new LockState(true, WaitingCount: 1, SharedCount: 1), byName["prices"].State);
        Assert.Equal(new LockState(true, cache.WriterFlowId, WaitingCount: 0, SharedCount: 0), byName["cache"].State);
        Assert.True(cache.WriterFlowId != 0);
        Assert.True(byName["cache"].HolderIsFlow);
        Assert.Equal($"flow #{cache.WriterFlowId - LockCatalogEntry.FlowIdBase}", byName["cache"].Holder);
        Assert.Null(byName["prices"].Holder);
        Assert.Equal(new LockState(false), byName["orders"].State);

        reader.Dispose();
        await waitingWriter;
        writer.Dispose();
        byName = catalog.Snapshot().ToDictionary(e => e.Name);
        Assert.Equal(new LockState(false, WaitingCount: 0, SharedCount: 0), byName["prices"].State);
        Assert.Equal(new LockState(false, WaitingCount: 0, SharedCount: 0), byName["cache"].State);
    }

    [Fact]
    public void A_second_async_lock_with_a_taken_name_throws_naming_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            TestHost.Build(locks: l => l.AddAsyncExclusiveLock("prices").AddAsyncReadWriteLock("prices")));

        Assert.Contains("'prices' is already registered (as AsyncExclusiveLock)", error.Message, StringComparison.Ordinal);
    }

    private sealed class OrderBook(
        [FromKeyedServices("prices")] AsyncReadWriteLock prices,
        [FromKeyedServices("orders")] AsyncStripedLock<string> orders)
    {
        private int _placed;

        public AsyncReadWriteLock Prices { get; } = prices;

        public AsyncStripedLock<string> Orders { get; } = orders;

        public async Task<int> PlaceAsync(string orderId)
        {
            using var order = await Orders.AcquireAsync(orderId);
            using var read = await Prices.AcquireReadAsync();
            return ++_placed;
        }
    }
}
