using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// The catalog names each lock's holder as the timeout log lines do (<c>thread 7 ('worker')</c>,
/// <c>flow #6 ('GET /orders')</c>), not by id alone, so whoever reads it sees which worker or request holds a lock.
/// </summary>
public sealed class CatalogHolderDescriptionTests
{
    [Fact]
    public async Task The_catalog_names_a_thread_holder_and_a_flow_holder_as_the_timeout_lines_do()
    {
        using var host = TestHost.Build(locks: static b => b
            .AddExclusiveLock("ledger", 10)
            .AddReadWriteLock("rates", 5)
            .AddAsyncExclusiveLock("outbox", 40)
            .AddExclusiveLock("journal", 20));
        var cancel = TestContext.Current.CancellationToken;
        await host.StartAsync(cancel);
        try
        {
            var services = host.Services;
            var catalog = services.GetRequiredService<ILockCatalog>();
            var ledger = services.GetRequiredKeyedService<ExclusiveLock>("ledger");
            var rates = services.GetRequiredKeyedService<ReadWriteLock>("rates");
            var outbox = services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");

            using var holder = HeldOnOtherThread.Hold("ledger-writer", release =>
            {
                using var scope = ledger.Acquire();
                release.Wait();
            });
            using var reader = HeldOnOtherThread.Hold("rates-reader", release =>
            {
                using var scope = rates.AcquireRead();
                release.Wait();
            });
            var held = await Task.Run(async () =>
            {
                using var activity = new Activity("GET /orders").Start();
                return await outbox.AcquireAsync(cancel);
            }, cancel);
            try
            {
                var byName = catalog.Snapshot().ContainerLocks().ToDictionary(static e => e.Name);

                Assert.Equal($"thread {holder.ThreadId} ('ledger-writer')", byName["ledger"].HolderDescription);
                Assert.Equal($"thread {holder.ThreadId}", byName["ledger"].Holder);
                string flow = $"flow #{outbox.HolderFlowId - LockCatalogEntry.FlowIdBase}";
                Assert.Equal($"{flow} ('GET /orders')", byName["outbox"].HolderDescription);
                Assert.Equal(flow, byName["outbox"].Holder);
                Assert.Null(byName["rates"].HolderDescription);
                Assert.Null(byName["journal"].HolderDescription);

                // The same words as the timeout's log line for each.
                Assert.Throws<LockTimeoutException>(() => ledger.Acquire(TimeSpan.Zero));
                await Assert.ThrowsAsync<LockTimeoutException>(() => Task.Run(async () => await outbox.AcquireAsync(TimeSpan.Zero, cancel), cancel));
                var lines = host.Logs(LocksmithEventIds.LockTimeout).Select(static r => r.Message).ToArray();
                Assert.Contains(lines, l => l.Contains($"held by {byName["ledger"].HolderDescription} (ids", StringComparison.Ordinal));
                Assert.Contains(lines, l => l.Contains($"held by {byName["outbox"].HolderDescription} (ids", StringComparison.Ordinal));
            }
            finally
            {
                held.Dispose();
            }

            holder.Release();
            reader.Release();
            var after = catalog.Snapshot().ContainerLocks().ToDictionary(static e => e.Name);
            Assert.All(after.Values, static e => Assert.Null(e.HolderDescription));
        }
        finally
        {
            await host.StopAsync(cancel);
        }
    }

    [Fact]
    public void A_description_of_another_holder_than_the_state_read_is_dropped_for_the_id()
    {
        // The holder may change between the catalog's read of the state and of the description: never pair them.
        var state = new LockState(true, 12);
        Assert.Equal("thread 12 ('worker')", LockCatalogEntry.DescriptionOf(state, "thread 12 ('worker')"));
        Assert.Equal("thread 12", LockCatalogEntry.DescriptionOf(state, "thread 12"));
        Assert.Null(LockCatalogEntry.DescriptionOf(state, "thread 123 ('other')"));
        Assert.Null(LockCatalogEntry.DescriptionOf(state, $"flow #12 ('GET /orders')"));
        Assert.Null(LockCatalogEntry.DescriptionOf(state, null));
        Assert.Null(LockCatalogEntry.DescriptionOf(new LockState(false), "thread 12 ('worker')"));

        var entry = new LockCatalogEntry("ledger", LockKind.Exclusive, 10, state) { HolderDescription = LockCatalogEntry.DescriptionOf(state, "thread 13 ('other')") };
        Assert.Equal("thread 12", entry.HolderDescription);
        Assert.Null((entry with { State = new LockState(false) }).HolderDescription);
    }
}
