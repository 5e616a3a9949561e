using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// A registered semaphore's catalog entry counts the threads and flows queued for its permits, as README says the
/// catalog gives "the waiting count where the type exposes one" (<see cref="CountingSemaphore.WaitingCount"/>).
/// </summary>
public sealed class SemaphoreCatalogWaitersTests
{
    [Fact]
    public async Task Requests_queued_for_a_full_semaphore_show_as_its_waiting_count()
    {
        // Before, the entry's WaitingCount was null: an app's /locks.json showed no one waiting for a full pool while
        // requests queued for it (the API server sample counted DeadlockDetector.CurrentWaits() to make up for it).
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: static l => l.AddCountingSemaphore("supplier", initialCount: 1, maxCount: 1, level: 30));
        await host.StartAsync(ct);
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var supplier = host.Services.GetRequiredKeyedService<CountingSemaphore>("supplier");

        var permit = await supplier.AcquireAsync(ct);
        var flow = Task.Run(async () =>
        {
            using var scope = await supplier.AcquireAsync(ct);
        }, ct);
        var thread = Worker.Start("supplier-waiter", () =>
        {
            using var scope = supplier.Acquire(ct);
        });
        Guard.SpinUntil(() => supplier.WaitingCount == 2);
        var whileFull = catalog.Snapshot().Single(static e => e.Name == "supplier").State;

        permit.Dispose();
        await flow.WaitAsync(Guard.HangLimit, ct);
        thread.JoinGuarded();
        var afterwards = catalog.Snapshot().Single(static e => e.Name == "supplier").State;
        await host.StopAsync(ct);

        Assert.Equal(new LockState(true, SharedCount: 1, WaitingCount: 2), whileFull);
        Assert.Equal(new LockState(false, SharedCount: 0, WaitingCount: 0), afterwards);
    }
}
