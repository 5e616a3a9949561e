using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// A lock made with <c>new</c> and swapped in as an instance for AddLocksmith's keeps recording into the process-wide
/// meter; the catalog's <see cref="LockCatalogEntry.Statistics"/> still count it, from that meter, by its name. Before,
/// they read 0 for it (only the container's meter was listened to).
/// </summary>
public sealed class SwappedInstanceStatisticsTests
{
    private const string On = """{ "Locksmith": { "StatisticsEnabled": true } }""";

    [Fact]
    public async Task A_swapped_in_instance_s_acquisitions_contentions_waits_and_timeouts_are_in_the_catalog()
    {
        var ct = TestContext.Current.CancellationToken;
        string name = "swapped-stats-" + Guid.NewGuid().ToString("N");
        var swapped = new ExclusiveLock(name, level: 10);
        using var host = TestHost.Build(On,
            locks: l => l.AddExclusiveLock(name, level: 10),
            services: s =>
            {
                s.RemoveAllKeyed<ExclusiveLock>(name);
                s.AddKeyedSingleton(name, swapped);
            });
        await host.StartAsync(ct);
        var catalog = host.Services.GetRequiredService<ILockCatalog>();

        for (int i = 0; i < 3; i++)
        {
            using var scope = swapped.Acquire();
        }

        // One contention that ends in a timeout: a thread holds it while this one tries within a moment.
        using (var holding = new ManualResetEventSlim())
        using (var release = new ManualResetEventSlim())
        {
            var holder = Task.Run(() =>
            {
                using var scope = swapped.Acquire();
                holding.Set();
                Assert.True(release.Wait(TimeSpan.FromMinutes(1)));
            });
            Assert.True(holding.Wait(TimeSpan.FromMinutes(1), ct));
            Assert.False(swapped.TryAcquire(TimeSpan.FromMilliseconds(20), out _));
            release.Set();
            await holder.WaitAsync(TimeSpan.FromMinutes(1), ct);
        }

        var stats = catalog.Snapshot().Single(e => e.Name == name).Statistics;
        await host.StopAsync(ct);

        Assert.Equal(4, stats.Acquisitions);
        Assert.Equal(1, stats.Contentions);
        Assert.Equal(1, stats.Waits);
        Assert.Equal(1, stats.Timeouts);
    }
}
