using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>AddAsyncStripedLock without a stripe count gives the lock's own default, as <c>new AsyncStripedLock&lt;TKey&gt;()</c> does.</summary>
public sealed class AsyncStripedDefaultCountTests
{
    [Fact]
    public async Task An_async_striped_lock_declared_without_a_stripe_count_gets_the_constructors_default()
    {
        // Before, stripeCount was required here, while the lock's own parameterless constructor picks one.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: static l => l
            .AddAsyncStripedLock<string>("sessions")
            .AddAsyncStripedLock<int>("carts", level: 10)
            .AddAsyncStripedLock<string>("orders", stripeCount: 6));
        await host.StartAsync(ct);
        var sessions = host.Services.GetRequiredKeyedService<AsyncStripedLock<string>>("sessions");
        var carts = host.Services.GetRequiredKeyedService<AsyncStripedLock<int>>("carts");
        var orders = host.Services.GetRequiredKeyedService<AsyncStripedLock<string>>("orders");
        using (await sessions.AcquireAsync("s-1", ct))
        {
            Assert.True(sessions.IsHeldByCurrentFlow("s-1"));
        }

        var catalog = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks();
        await host.StopAsync(ct);

        int expected = new AsyncStripedLock<string>().StripeCount;
        Assert.Equal(("sessions", (int?)null, expected), (sessions.Name, sessions.Level, sessions.StripeCount));
        Assert.Equal(("carts", (int?)10, expected), (carts.Name, carts.Level, carts.StripeCount));
        Assert.Equal(8, orders.StripeCount);
        Assert.Equal(LockKind.AsyncStriped, catalog.Single(static e => e.Name == "sessions").Kind);
    }
}
