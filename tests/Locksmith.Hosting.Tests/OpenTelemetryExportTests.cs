using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README's Metrics table, as the OpenTelemetry SDK exports it: <c>AddLocksmith</c> and a meter provider with
/// <c>AddMeter("Locksmith")</c> see the container's instruments with their names, units, tags and advised buckets.
/// </summary>
public sealed class OpenTelemetryExportTests
{
    [Fact]
    public async Task AddMeter_Locksmith_exports_the_containers_instruments_with_the_names_units_and_tags_README_lists()
    {
        var ct = TestContext.Current.CancellationToken;
        var exported = new List<Metric>();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(LocksmithMetrics.MeterName).AddInMemoryExporter(exported).Build();
        using var host = TestHost.Build(
            """{ "Locksmith": { "OrderViolationAction": "Report", "WatchdogInterval": "-00:00:00.001" } }""",
            static l => l.AddExclusiveLock("ledger", 10).AddExclusiveLock("audit", 20));
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var audit = host.Services.GetRequiredKeyedService<ExclusiveLock>("audit");
        await host.StartAsync(ct);

        // An acquisition and hold, a contention that times out (a wait and a timeout), and an order violation reported.
        using (ledger.Acquire())
        {
        }

        using (HeldOnOtherThread.Hold("ledger-holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            Assert.False(ledger.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
        }

        using (audit.Acquire())
        using (ledger.Acquire())
        {
        }

        Assert.True(provider.ForceFlush());
        await host.StopAsync(ct);

        var byName = exported.Where(static m => m.MeterName == LocksmithMetrics.MeterName)
            .GroupBy(static m => m.Name).ToDictionary(static g => g.Key, static g => g.Last());
        Assert.Equal(
            [
                ("locksmith.lock.acquisitions", "{acquisition}", MetricType.LongSum),
                ("locksmith.lock.contentions", "{contention}", MetricType.LongSum),
                ("locksmith.lock.hold.duration", "s", MetricType.Histogram),
                ("locksmith.lock.order_violations", "{violation}", MetricType.LongSum),
                ("locksmith.lock.timeouts", "{timeout}", MetricType.LongSum),
                ("locksmith.lock.wait.duration", "s", MetricType.Histogram),
            ],
            byName.Values.Select(static m => (m.Name, m.Unit, m.MetricType)).Order().ToArray());

        Assert.Equal(3, Sum(byName["locksmith.lock.acquisitions"], "ledger"));
        Assert.Equal(1, Sum(byName["locksmith.lock.contentions"], "ledger"));
        Assert.Equal(1, Sum(byName["locksmith.lock.timeouts"], "ledger"));
        Assert.Equal(1, Sum(byName["locksmith.lock.order_violations"], "ledger"));
        foreach (var metric in byName.Values)
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }

                Assert.Equal(["lock.kind", "lock.mode", "lock.name"], tags.Keys.Order(StringComparer.Ordinal));
                Assert.Contains((string?)tags["lock.name"], new[] { "ledger", "audit" });
                Assert.Equal("exclusive", tags["lock.kind"]);
                if (metric.MetricType == MetricType.Histogram)
                {
                    var bounds = new List<double>();
                    foreach (var bucket in point.GetHistogramBuckets())
                    {
                        bounds.Add(bucket.ExplicitBound);
                    }

                    // The advised boundaries (README: 1e-7 … 10, 25 of them), not OpenTelemetry's millisecond defaults.
                    Assert.Equal(1e-7, bounds[0]);
                    Assert.Equal(26, bounds.Count);
                }
            }
        }
    }

    private static long Sum(Metric metric, string lockName)
    {
        long sum = 0;
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            foreach (var tag in point.Tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value == lockName)
                {
                    sum += point.GetSumLong();
                }
            }
        }

        return sum;
    }
}
