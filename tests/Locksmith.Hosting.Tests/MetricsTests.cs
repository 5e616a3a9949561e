using System;
using System.Linq;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

public sealed class MetricsTests
{
    private const string Acquisitions = "locksmith.lock.acquisitions";

    private static MetricCollector<long> Collect(IHost host) =>
        new(host.Services.GetRequiredService<IMeterFactory>(), LocksmithMetrics.MeterName, Acquisitions);

    // The process-wide meter is the one without a scope.
    private static MetricCollector<long> ProcessWide() => new((object?)null, LocksmithMetrics.MeterName, Acquisitions);

    private static long CountFor(MetricCollector<long> collector, string lockName)
    {
        long sum = 0;
        foreach (var m in collector.GetMeasurementSnapshot())
        {
            if (m.Tags.TryGetValue("lock.name", out var name) && (string?)name == lockName)
            {
                sum += m.Value;
            }
        }

        return sum;
    }

    [Fact]
    public async Task The_duration_histograms_advise_buckets_from_100_ns_to_10_s()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("ledger"));
        await host.StartAsync(ct);
        var meter = host.Services.GetRequiredService<ContainerInstruments>().Instruments!.Meter;
        var advised = new System.Collections.Generic.Dictionary<string, double[]?>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument is Histogram<double> histogram)
                {
                    advised[instrument.Name + " " + instrument.Unit] = histogram.Advice?.HistogramBucketBoundaries?.ToArray();
                }
            };
            listener.Start();
        }

        await host.StopAsync(ct);

        // Seconds, 1-2.5-5 per decade: a 20 µs wait and a 2 ms one land in different buckets, not both in (0, 5].
        double[] expected =
        [
            1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
            1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
        ];
        Assert.Equal(["locksmith.lock.hold.duration s", "locksmith.lock.wait.duration s"], advised.Keys.Order(StringComparer.Ordinal));
        Assert.All(advised.Values, boundaries => Assert.Equal(expected, boundaries));
    }

    [Fact]
    public async Task Two_running_hosts_each_see_only_their_own_locks_and_a_new_lock_goes_to_neither()
    {
        using var first = TestHost.Build("""{ "Locksmith": { "InstallProcessPolicy": true } }""", l => l.AddExclusiveLock("ledger"));
        using var second = TestHost.Build("""{ "Locksmith": { "InstallProcessPolicy": false } }""", l => l.AddAsyncExclusiveLock("ledger"));
        await first.StartAsync(TestContext.Current.CancellationToken);
        await second.StartAsync(TestContext.Current.CancellationToken);
        using var firstCollector = Collect(first);
        using var secondCollector = Collect(second);
        using var processCollector = ProcessWide();
        var domain = new ExclusiveLock("domain");

        var ledger1 = first.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var ledger2 = second.Services.GetRequiredKeyedService<AsyncExclusiveLock>("ledger");
        for (int i = 0; i < 3; i++)
        {
            using (ledger1.Acquire())
            {
            }
        }

        for (int i = 0; i < 5; i++)
        {
            using (await ledger2.AcquireAsync(TestContext.Current.CancellationToken))
            {
            }
        }

        for (int i = 0; i < 7; i++)
        {
            using (domain.Acquire())
            {
            }
        }

        Assert.Equal(3, CountFor(firstCollector, "ledger"));
        Assert.Equal(5, CountFor(secondCollector, "ledger"));
        Assert.Equal(0, CountFor(firstCollector, "domain"));
        Assert.Equal(0, CountFor(secondCollector, "domain"));
        Assert.Equal(7, CountFor(processCollector, "domain"));
        Assert.Equal(0, CountFor(processCollector, "ledger"));

        // Every measurement a host's collector saw came from that host's one lock.
        Assert.Equal(3, firstCollector.GetMeasurementSnapshot().Count);
        Assert.Equal(5, secondCollector.GetMeasurementSnapshot().Count);

        await second.StopAsync(TestContext.Current.CancellationToken);
        await first.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Striped_and_async_read_write_container_locks_record_into_the_container()
    {
        using var host = TestHost.Build(locks: l => l
            .AddStripedLock<int>("accounts", stripeCount: 4)
            .AddAsyncStripedLock<int>("carts", stripeCount: 4)
            .AddAsyncReadWriteLock("prices"));
        await host.StartAsync(TestContext.Current.CancellationToken);
        using var collector = Collect(host);
        using var processCollector = ProcessWide();
        var accounts = host.Services.GetRequiredKeyedService<StripedLock<int>>("accounts");
        var carts = host.Services.GetRequiredKeyedService<AsyncStripedLock<int>>("carts");
        var prices = host.Services.GetRequiredKeyedService<AsyncReadWriteLock>("prices");

        for (int key = 0; key < 4; key++)
        {
            using (accounts.Acquire(key))
            {
            }

            using (await carts.AcquireAsync(key, TestContext.Current.CancellationToken))
            {
            }
        }

        using (await prices.AcquireReadAsync(TestContext.Current.CancellationToken))
        {
        }

        using (await prices.AcquireWriteAsync(TestContext.Current.CancellationToken))
        {
        }

        // A stripe records as its striped lock (name and kind), one series per lock rather than one per stripe.
        var measurements = collector.GetMeasurementSnapshot();
        Assert.Equal(10, measurements.Count);
        Assert.Equal(2, CountFor(collector, "prices"));
        Assert.Equal(4, measurements.Count(m => Equals(m.Tags["lock.name"], "accounts") && Equals(m.Tags["lock.kind"], "striped")));
        Assert.Equal(4, measurements.Count(m => Equals(m.Tags["lock.name"], "carts") && Equals(m.Tags["lock.kind"], "async_striped")));
        Assert.DoesNotContain(measurements, m => m.Tags["lock.name"] is string n && n.Contains('[', StringComparison.Ordinal));
        Assert.DoesNotContain(processCollector.GetMeasurementSnapshot(), m => m.Tags["lock.name"] is string n
            && (n == "prices" || n.StartsWith("accounts", StringComparison.Ordinal) || n.StartsWith("carts", StringComparison.Ordinal)));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task MetricsEnabled_false_stops_the_container_locks_recording_anywhere()
    {
        using var host = TestHost.Build("""{ "Locksmith": { "MetricsEnabled": false } }""", l => l.AddExclusiveLock("ledger").AddAsyncExclusiveLock("outbox"));
        await host.StartAsync(TestContext.Current.CancellationToken);
        using var collector = Collect(host);
        using var processCollector = ProcessWide();
        long anywhere = 0, domainAnywhere = 0;
        using var everyMeter = new MeterListener
        {
            // Every acquisitions instrument of every meter, whatever its name or scope.
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Name == Acquisitions)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        everyMeter.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value is "ledger" or "outbox")
                {
                    Interlocked.Add(ref anywhere, value);
                }
                else if (tag.Key == "lock.name" && (string?)tag.Value == "domain")
                {
                    Interlocked.Add(ref domainAnywhere, value);
                }
            }
        });
        everyMeter.Start();
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var domain = new ExclusiveLock("domain");

        for (int i = 0; i < 4; i++)
        {
            using (ledger.Acquire())
            {
            }

            using (await outbox.AcquireAsync(TestContext.Current.CancellationToken))
            {
            }

            using (domain.Acquire())
            {
            }
        }

        Assert.Same(LocksmithInstruments.Disabled, host.Services.GetRequiredService<ContainerInstruments>().Instruments);
        Assert.Empty(collector.GetMeasurementSnapshot());
        Assert.Equal(0, CountFor(processCollector, "ledger") + CountFor(processCollector, "outbox"));

        // The process-wide meter still works for domain locks.
        Assert.Equal(4, CountFor(processCollector, "domain"));
        Assert.Equal(0, Interlocked.Read(ref anywhere));
        Assert.Equal(4, Interlocked.Read(ref domainAnywhere)); // the listener does hear Locksmith measurements
        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
