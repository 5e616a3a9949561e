using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// <c>ShutdownWaitStuck</c> (14007) names the holder of a container's lock as the timeout line (14001) and the catalog
/// name it: a flow with its activity, <c>flow #6 ('GET /orders')</c>. A new user's trial stopped an ASP.NET Core app while
/// a request held an async lock: 14001 said "held by flow #6 ('Microsoft.AspNetCore.Hosting.HttpRequestIn')", 14007 of the
/// same wait only "held by flow #6", so the line meant to say who holds the stop up did not say which request.
/// </summary>
public sealed class ShutdownWaitHolderNameTests
{
    /// <summary>Takes the outbox as it stops, as a service flushing its last batch does.</summary>
    private sealed class FlushOnStop([FromKeyedServices("outbox")] AsyncExclusiveLock outbox) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            using (await outbox.AcquireAsync(Guard.HangLimit, CancellationToken.None))
            {
            }
        }
    }

    [Fact]
    public async Task A_flow_holding_the_stop_up_is_named_with_its_activity_as_the_catalog_names_it()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "ShutdownWaitThreshold": "00:00:00.001" } }""",
            static l => l.AddAsyncExclusiveLock("outbox", 10),
            static s => s.AddSingleton<FlushOnStop>().AddHostedService(static p => p.GetRequiredService<FlushOnStop>()));
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        await host.StartAsync(ct);

        // Held by a flow of its own (a request, say), named by its activity.
        var held = await Task.Run(async () =>
        {
            using var activity = new Activity("nightly-export").Start();
            return await outbox.AcquireAsync(ct);
        }, ct);
        int holderId = outbox.HolderFlowId;
        string holder = $"flow #{holderId - LockCatalogEntry.FlowIdBase} ('nightly-export')";
        var entry = host.Services.GetRequiredService<ILockCatalog>().Snapshot().Single(static e => e.Name == "outbox");

        var stopper = Concurrently.Start("stopper", () => host.StopAsync(ct).GetAwaiter().GetResult());
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.ShutdownWaitStuck).Length > 0);
        held.Dispose();
        stopper.JoinGuarded();

        Assert.Equal(holder, entry.HolderDescription);
        var line = Assert.Single(host.Logs(LocksmithEventIds.ShutdownWaitStuck));
        Assert.Equal(holderId.ToString(CultureInfo.InvariantCulture), line.GetStructuredStateValue("HolderId"));
        Assert.Equal(holder, line.GetStructuredStateValue("Holder"));
        Assert.Contains($"held by {holder};", line.Message, StringComparison.Ordinal);
    }
}
