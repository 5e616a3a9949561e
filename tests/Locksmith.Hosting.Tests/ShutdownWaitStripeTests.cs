using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// A stop held up on a key's stripe: <c>ShutdownWaitStuck</c> (14007) named the striped lock (<c>'stock'</c>) where
/// <c>LockTimeout</c> (14001) and <c>LongWait</c> (14003) name the stripe (<c>'stock[34]'</c>), as README names a stripe
/// (found by a hosting trial). It now names the stripe too; <see cref="DeadlockDetector.CurrentWaits"/> still lists the
/// wait under its striped lock's name, with the stripe's in <see cref="LockWaitInProgress.StripeName"/>.
/// </summary>
public sealed class ShutdownWaitStripeTests
{
    private const int Sku = 42;

    /// <summary>Takes a key's stripe as it stops, as a service writing back its last stock count does.</summary>
    private sealed class SaveStockOnStop([FromKeyedServices("stock")] StripedLock<int> stock) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            using (stock.Acquire(Sku))
            {
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_stop_held_up_on_a_stripe_names_the_stripe_as_a_timeout_on_it_does()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "ShutdownWaitThreshold": "00:00:00.001" } }""",
            static l => l.AddStripedLock<int>("stock", stripeCount: 64, level: 10),
            static s => s.AddHostedService<SaveStockOnStop>());
        var stock = host.Services.GetRequiredKeyedService<StripedLock<int>>("stock");
        string stripe = "stock[" + stock.StripeOf(Sku).ToString(CultureInfo.InvariantCulture) + "]";
        await host.StartAsync(ct);

        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = Concurrently.Start("counter", () =>
        {
            using var scope = stock.Acquire(Sku);
            held.Set();
            release.Wait(Guard.HangLimit);
        });
        held.Wait(Guard.HangLimit);

        // What a timeout on the stripe is named (14001's LockName): the name 14007 should use too.
        var timeout = Assert.Throws<LockTimeoutException>(() => stock.Acquire(Sku, TimeSpan.FromMilliseconds(1)).Dispose());
        Assert.Equal(stripe, timeout.LockName);

        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        var wait = DeadlockDetector.CurrentWaits().Single(w => w.LockId == stock.Id);

        release.Set();
        holder.JoinGuarded();
        stopper.JoinGuarded();

        var line = Assert.Single(host.Logs(LocksmithEventIds.ShutdownWaitStuck));
        Assert.Equal(stripe, line.GetStructuredStateValue("LockName"));
        Assert.Contains($"Shutdown held up by lock '{stripe}' (level 10, Exclusive): ", line.Message, StringComparison.Ordinal);
        Assert.Equal("stock", wait.LockName);
        Assert.Equal(stripe, wait.StripeName);
    }
}
