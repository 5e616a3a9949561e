using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Locksmith.ApiServer.Tests;

/// <summary>The container's <c>Locksmith</c> meter reaches OpenTelemetry's meter provider, tagged per lock.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task OpenTelemetry_collects_the_Locksmith_meter_of_the_servers_locks()
    {
        var exported = new List<Metric>();
        var builder = ApiServerApp.CreateBuilder([], loopbackPort: 0);
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(exported));
        var app = ApiServerApp.Build(builder);
        await app.StartAsync(TestContext.Current.CancellationToken);
        long hits = 0;
        int found;
        try
        {
            using var client = new System.Net.Http.HttpClient { BaseAddress = ApiServerApp.BaseAddress(app) };
            for (int i = 0; i < 5; i++)
            {
                (await client.PostAsync("hit", null, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
            }

            Assert.True(app.Services.GetRequiredService<MeterProvider>().ForceFlush());

            // Read the exported points now (the provider owns them); cumulative sums, so the latest export has them all.
            var acquisitions = exported.LastOrDefault(static m => m.Name == "locksmith.lock.acquisitions" && m.MeterName == LocksmithMetrics.MeterName);
            found = acquisitions is null ? 0 : 1;
            if (acquisitions is not null)
            {
                foreach (ref readonly var point in acquisitions.GetMetricPoints())
                {
                    foreach (var tag in point.Tags)
                    {
                        if (tag.Key == "lock.name" && (string?)tag.Value == ApiServerLocks.Hits)
                        {
                            hits += point.GetSumLong();
                        }
                    }
                }
            }
        }
        finally
        {
            await app.StopAsync(TestContext.Current.CancellationToken);
            await app.DisposeAsync();
        }

        Assert.Equal(1, found);
        Assert.Equal(5, hits);
    }

    /// <summary>
    /// README: <c>--ApiServer:OpenTelemetryConsole=true</c> adds the console exporter. A flush prints the Locksmith meter's
    /// instruments to the console; without the switch nothing of it is printed.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_console_switch_prints_the_Locksmith_meter_on_a_flush(bool console)
    {
        var printed = new System.IO.StringWriter();
        var builder = ApiServerApp.CreateBuilder(console ? ["--ApiServer:OpenTelemetryConsole=true"] : [], loopbackPort: 0);
        var app = ApiServerApp.Build(builder);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var original = System.Console.Out;
        try
        {
            using var client = new System.Net.Http.HttpClient { BaseAddress = ApiServerApp.BaseAddress(app) };
            (await client.PostAsync("hit", null, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

            // The exporter writes through Console at the flush; other tests' lines may land here too, which only adds text.
            System.Console.SetOut(printed);
            Assert.True(app.Services.GetRequiredService<MeterProvider>().ForceFlush());
        }
        finally
        {
            System.Console.SetOut(original);
            await app.StopAsync(TestContext.Current.CancellationToken);
            await app.DisposeAsync();
        }

        string text = printed.ToString();
        if (console)
        {
            Assert.Contains("locksmith.lock.acquisitions", text, System.StringComparison.Ordinal);
            Assert.Contains(ApiServerLocks.Hits, text, System.StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("locksmith.lock.acquisitions", text, System.StringComparison.Ordinal);
        }
    }
}
