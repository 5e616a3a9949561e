using System;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Locksmith.Tests.Metrics;

public sealed class LocksmithInstrumentsTests
{
    private const string Acquisitions = "locksmith.lock.acquisitions";

    [Fact]
    public void Both_duration_histograms_advise_bucket_boundaries_in_seconds_from_100_ns_to_10_s()
    {
        using var meter = new Meter(LocksmithMetrics.MeterName);
        var instruments = new LocksmithInstruments(meter);

        foreach (var histogram in new[] { instruments.WaitDuration, instruments.HoldDuration, LocksmithMetrics.WaitDuration, LocksmithMetrics.HoldDuration })
        {
            Assert.Equal("s", histogram.Unit);
            var boundaries = histogram.Advice?.HistogramBucketBoundaries;
            Assert.NotNull(boundaries);
            Assert.Equal(1e-7, boundaries[0]);
            Assert.Equal(10, boundaries[^1]);
            Assert.Equal(25, boundaries.Count);
        }
    }

    [Fact]
    public void A_bound_lock_records_into_its_set_and_not_the_process_wide_meter()
    {
        using var meter = new Meter(LocksmithMetrics.MeterName);
        var instruments = new LocksmithInstruments(meter);
        using var own = new MetricCollector<long>(meter, Acquisitions);
        using var processWide = new MetricCollector<long>(LocksmithMetrics.Meter, Acquisitions);
        var bound = new ExclusiveLock("instruments.bound");
        bound.UseInstruments(instruments);
        var plain = new ExclusiveLock("instruments.plain");

        for (int i = 0; i < 3; i++)
        {
            using (bound.Acquire())
            {
            }
        }

        using (plain.Acquire())
        {
        }

        var ownMeasurements = own.GetMeasurementSnapshot();
        Assert.Equal(3, ownMeasurements.Count);
        Assert.All(ownMeasurements, m => Assert.Equal("instruments.bound", m.Tags["lock.name"]));
        Assert.Equal(["instruments.plain"], Names(processWide).Where(n => n.StartsWith("instruments.", StringComparison.Ordinal)));
        Assert.Same(meter, instruments.Meter);
    }

    [Fact]
    public async Task Binding_a_striped_lock_binds_its_stripes()
    {
        using var meter = new Meter(LocksmithMetrics.MeterName);
        var instruments = new LocksmithInstruments(meter);
        using var own = new MetricCollector<long>(meter, Acquisitions);
        using var processWide = new MetricCollector<long>(LocksmithMetrics.Meter, Acquisitions);
        var striped = new StripedLock<int>(4, "instruments.striped");
        var asyncStriped = new AsyncStripedLock<int>(4, "instruments.async-striped");
        striped.UseInstruments(instruments);
        asyncStriped.UseInstruments(instruments);

        for (int key = 0; key < 4; key++)
        {
            using (striped.Acquire(key))
            {
            }

            using (await asyncStriped.AcquireAsync(key, TestContext.Current.CancellationToken))
            {
            }
        }

        Assert.Equal(8, own.GetMeasurementSnapshot().Count);
        Assert.DoesNotContain(Names(processWide), n => n.StartsWith("instruments.", StringComparison.Ordinal));
    }

    [Fact]
    public void The_disabled_set_never_records_even_to_a_listener_of_every_meter()
    {
        int heard = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, l) => l.EnableMeasurementEvents(instrument),
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name" && (string?)tag.Value is "instruments.off" or "instruments.on")
                {
                    System.Threading.Interlocked.Increment(ref heard);
                }
            }
        });
        listener.Start();
        var off = new ExclusiveLock("instruments.off");
        off.UseInstruments(LocksmithInstruments.Disabled);

        for (int i = 0; i < 5; i++)
        {
            using (off.Acquire())
            {
            }
        }

        Assert.Equal(0, heard);

        // The listener hears an unbound lock, so the zero above is the disabled set's doing.
        using (new ExclusiveLock("instruments.on").Acquire())
        {
        }

        Assert.Equal(1, heard);
    }

    [Fact]
    public void A_meter_with_another_name_is_rejected()
    {
        using var meter = new Meter("NotLocksmith");

        var error = Assert.Throws<ArgumentException>(() => new LocksmithInstruments(meter));

        Assert.Contains("NotLocksmith", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new ExclusiveLock("instruments.null").UseInstruments(null!));
    }

    private static string[] Names(MetricCollector<long> collector)
    {
        var snapshot = collector.GetMeasurementSnapshot();
        var names = new string[snapshot.Count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = (string)snapshot[i].Tags["lock.name"]!;
        }

        return names;
    }
}
