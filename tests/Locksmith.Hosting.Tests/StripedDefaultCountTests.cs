using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// AddStripedLock and AddStripedReadWriteLock without a stripe count give the lock's own default, as their parameterless
/// constructors and AddAsyncStripedLock do.
/// </summary>
public sealed class StripedDefaultCountTests
{
    [Fact]
    public async Task Sync_striped_locks_declared_without_a_stripe_count_get_the_constructors_default()
    {
        // Before, both required stripeCount, while the locks' own parameterless constructors pick one.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: static l => l
            .AddStripedLock<string>("accounts")
            .AddStripedLock<int>("ledgers", level: 10)
            .AddStripedReadWriteLock<string>("prices", level: 20, policy: ReadWritePolicy.Fair)
            .AddStripedLock<string>("orders", stripeCount: 6));
        await host.StartAsync(ct);
        var accounts = host.Services.GetRequiredKeyedService<StripedLock<string>>("accounts");
        var ledgers = host.Services.GetRequiredKeyedService<StripedLock<int>>("ledgers");
        var prices = host.Services.GetRequiredKeyedService<StripedReadWriteLock<string>>("prices");
        var orders = host.Services.GetRequiredKeyedService<StripedLock<string>>("orders");
        using (accounts.Acquire("a-1"))
        {
            Assert.True(accounts.IsHeldByCurrentThread("a-1"));
        }

        var catalog = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks();
        await host.StopAsync(ct);

        Assert.Equal(("accounts", (int?)null, new StripedLock<string>().StripeCount), (accounts.Name, accounts.Level, accounts.StripeCount));
        Assert.Equal(("ledgers", (int?)10, new StripedLock<int>().StripeCount), (ledgers.Name, ledgers.Level, ledgers.StripeCount));
        Assert.Equal(("prices", (int?)20, ReadWritePolicy.Fair, new StripedReadWriteLock<string>().StripeCount),
            (prices.Name, prices.Level, prices.Policy, prices.StripeCount));
        Assert.Equal(8, orders.StripeCount);
        Assert.Equal(["accounts", "ledgers", "orders", "prices"], catalog.Select(static e => e.Name).Order());
    }
}
