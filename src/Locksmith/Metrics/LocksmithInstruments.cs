using System;
using System.ComponentModel;
using System.Diagnostics.Metrics;

namespace Locksmith;

/// <summary>
/// One set of Locksmith's instruments (acquisitions, contentions, wait and hold durations, timeouts, order
/// violations) on one <see cref="System.Diagnostics.Metrics.Meter"/> named <c>Locksmith</c>. A lock records into the
/// process-wide set unless it was bound to another with <see cref="LockPrimitive.UseInstruments"/>; hosting binds the
/// locks a container creates to a set on the container's <c>IMeterFactory</c> meter, so parallel hosts keep their
/// numbers apart. Public only for hosting, so it is hidden from IntelliSense.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class LocksmithInstruments
{
    internal readonly Counter<long> Acquisitions;
    internal readonly Counter<long> Contentions;
    internal readonly Histogram<double> WaitDuration;
    internal readonly Histogram<double> HoldDuration;
    internal readonly Counter<long> Timeouts;
    internal readonly Counter<long> OrderViolations;

    /// <summary>
    /// The bucket boundaries, in seconds, that <c>locksmith.lock.wait.duration</c> and <c>locksmith.lock.hold.duration</c>
    /// advise (<see cref="InstrumentAdvice{T}.HistogramBucketBoundaries"/>, which OpenTelemetry honours): 100 ns to 10 s,
    /// 1, 2.5 and 5 per decade.
    /// </summary>
    internal static readonly double[] DurationBucketBoundaries =
    [
        0.0000001, 0.00000025, 0.0000005,
        0.000001, 0.0000025, 0.000005,
        0.00001, 0.000025, 0.00005,
        0.0001, 0.00025, 0.0005,
        0.001, 0.0025, 0.005,
        0.01, 0.025, 0.05,
        0.1, 0.25, 0.5,
        1, 2.5, 5, 10,
    ];

    // Lock waits and holds run from tens of nanoseconds to seconds; exporters' defaults (OpenTelemetry: 0, 5, 10, 25 …,
    // made for milliseconds) would put every one in the first bucket. In seconds: 100 ns to 10 s, 1-2.5-5 per decade.
    private static readonly InstrumentAdvice<double> s_durationAdvice = new()
    {
        HistogramBucketBoundaries = DurationBucketBoundaries,
    };

    /// <summary>Creates the instruments on <paramref name="meter"/>, with the names, units and descriptions of the process-wide ones.</summary>
    /// <param name="meter">A meter named <see cref="LocksmithMetrics.MeterName"/>; usually from <c>IMeterFactory</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="meter"/> is not named <c>Locksmith</c>.</exception>
    public LocksmithInstruments(Meter meter)
        : this(meter, checkName: true)
    {
    }

    private LocksmithInstruments(Meter meter, bool checkName)
    {
        ArgumentNullException.ThrowIfNull(meter);
        if (checkName && meter.Name != LocksmithMetrics.MeterName)
        {
            throw new ArgumentException($"Locksmith's instruments go on a meter named '{LocksmithMetrics.MeterName}', not '{meter.Name}'.", nameof(meter));
        }

        Meter = meter;
        Acquisitions = meter.CreateCounter<long>("locksmith.lock.acquisitions", "{acquisition}", "Successful lock acquisitions.");
        Contentions = meter.CreateCounter<long>("locksmith.lock.contentions", "{contention}", "Acquisitions that found the lock taken and had to wait.");
        WaitDuration = meter.CreateHistogram(
            "locksmith.lock.wait.duration", "s", "Time blocked waiting for a lock.", tags: null, s_durationAdvice);
        HoldDuration = meter.CreateHistogram(
            "locksmith.lock.hold.duration", "s", "Time a lock was held exclusively, from acquisition to release.", tags: null, s_durationAdvice);
        Timeouts = meter.CreateCounter<long>("locksmith.lock.timeouts", "{timeout}", "Acquisitions that gave up at their timeout.");
        OrderViolations = meter.CreateCounter<long>("locksmith.lock.order_violations", "{violation}", "Acquisitions against the global lock order.");
    }

    /// <summary>
    /// A set that never records: its meter (not named <c>Locksmith</c>, so no listener looks for it) is disposed at once,
    /// which unsubscribes every listener for good. Bind a lock to it to turn its metrics off.
    /// </summary>
    public static LocksmithInstruments Disabled { get; } = CreateDisabled();

    /// <summary>The meter the instruments are on.</summary>
    public Meter Meter { get; }

    private static LocksmithInstruments CreateDisabled()
    {
        var meter = new Meter(LocksmithMetrics.MeterName + ".Disabled");
        var instruments = new LocksmithInstruments(meter, checkName: false);
        meter.Dispose();
        return instruments;
    }
}
