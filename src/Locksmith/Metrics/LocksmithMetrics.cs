using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Locksmith;

/// <summary>
/// The runtime's one <see cref="Meter"/>, named <c>Locksmith</c>, and its instruments. Every recording checks
/// <see cref="Instrument.Enabled"/> first, so an app with no listener pays one load and a branch.
/// </summary>
/// <remarks>
/// Tags: <c>lock.name</c>, <c>lock.kind</c>, <c>lock.mode</c>. Three tags stay on the allocation-free
/// overloads of <see cref="Counter{T}.Add(T, KeyValuePair{string, object?}, KeyValuePair{string, object?}, KeyValuePair{string, object?})"/>.
/// </remarks>
public static class LocksmithMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Locksmith";

    /// <summary>The AppContext switch that, set to false, removes metrics from every hot path.</summary>
    public const string IsSupportedSwitchName = "Locksmith.Metrics.IsSupported";

    /// <summary>
    /// Whether metrics are compiled in (default true). Set the AppContext switch <c>Locksmith.Metrics.IsSupported</c>
    /// to false (e.g. <c>&lt;RuntimeHostConfigurationOption Include="Locksmith.Metrics.IsSupported" Value="false" /&gt;</c>)
    /// and the JIT drops every recording as dead code.
    /// </summary>
    [FeatureSwitchDefinition(IsSupportedSwitchName)]
    public static bool IsSupported => MetricsSwitch.IsSupported;

    internal static readonly Meter Meter = new(MeterName, typeof(LocksmithMetrics).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Acquisitions =
        Meter.CreateCounter<long>("locksmith.lock.acquisitions", "{acquisition}", "Successful lock acquisitions.");

    internal static readonly Counter<long> Contentions =
        Meter.CreateCounter<long>("locksmith.lock.contentions", "{contention}", "Acquisitions that found the lock taken and had to wait.");

    internal static readonly Histogram<double> WaitDuration =
        Meter.CreateHistogram<double>("locksmith.lock.wait.duration", "s", "Time blocked waiting for a lock.");

    internal static readonly Histogram<double> HoldDuration =
        Meter.CreateHistogram<double>(
            "locksmith.lock.hold.duration", "s", "Time a lock was held exclusively, from acquisition to release.");

    internal static readonly Counter<long> Timeouts =
        Meter.CreateCounter<long>("locksmith.lock.timeouts", "{timeout}", "Acquisitions that gave up at their timeout.");

    internal static readonly Counter<long> OrderViolations =
        Meter.CreateCounter<long>("locksmith.lock.order_violations", "{violation}", "Acquisitions against the global lock order.");

    /// <summary>The inlined test; the recording itself stays out of line so callers' frames stay small.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RecordAcquisition(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && Acquisitions.Enabled)
        {
            AddAcquisition(lockPrimitive, mode);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddAcquisition(LockPrimitive lockPrimitive, string mode) =>
        Acquisitions.Add(1, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);

    /// <summary>
    /// The acquisition of a lock with one owner (exclusive, reentrant, spin, write mode): counts it and, while
    /// <c>locksmith.lock.hold.duration</c> is enabled, stamps the hold's start in the lock
    /// (<see cref="LockPrimitive.HoldStart"/>). One inlined test covers both instruments, so with no listener the
    /// clock is never read and nothing is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RecordOwnedAcquisition(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && (Acquisitions.Enabled | HoldDuration.Enabled))
        {
            OnOwnedAcquisition(lockPrimitive, mode);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void OnOwnedAcquisition(LockPrimitive lockPrimitive, string mode)
    {
        if (HoldDuration.Enabled)
        {
            lockPrimitive.HoldStart = Stopwatch.GetTimestamp();
        }

        if (Acquisitions.Enabled)
        {
            AddAcquisition(lockPrimitive, mode);
        }
    }

    /// <summary>
    /// Records a timed hold that ended; called after the release, with the start the owner took out of the lock. A
    /// listener that went away during the hold gets nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void RecordHold(LockPrimitive lockPrimitive, string mode, long startTimestamp)
    {
        if (MetricsSwitch.IsSupported && startTimestamp != 0 && HoldDuration.Enabled)
        {
            double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            HoldDuration.Record(seconds, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    internal static void RecordContention(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && Contentions.Enabled)
        {
            Contentions.Add(1, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    internal static void RecordWait(LockPrimitive lockPrimitive, string mode, long startTimestamp)
    {
        if (MetricsSwitch.IsSupported && WaitDuration.Enabled)
        {
            double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            WaitDuration.Record(seconds, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    internal static void RecordTimeout(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && Timeouts.Enabled)
        {
            Timeouts.Add(1, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    internal static void RecordOrderViolation(LockPrimitive lockPrimitive)
    {
        if (MetricsSwitch.IsSupported && OrderViolations.Enabled)
        {
            OrderViolations.Add(1, Tags(lockPrimitive, LockModeTags.Exclusive, out var kind, out var m), kind, m);
        }
    }

    private static KeyValuePair<string, object?> Tags(
        LockPrimitive lockPrimitive, string mode, out KeyValuePair<string, object?> kind, out KeyValuePair<string, object?> modeTag)
    {
        kind = new("lock.kind", lockPrimitive.KindTag);
        modeTag = new("lock.mode", mode);
        return new("lock.name", lockPrimitive.Name);
    }
}

/// <summary>The <c>lock.mode</c> tag values, as constants so recordings never format.</summary>
internal static class LockModeTags
{
    public const string Exclusive = "exclusive";
    public const string Read = "read";
    public const string Write = "write";
    public const string Permit = "permit";
}

/// <summary>
/// The switch read once: a static readonly bool, so tier-1 code treats it as a constant. Kept apart from the
/// instruments so reading it does not create the meter.
/// </summary>
internal static class MetricsSwitch
{
    internal static readonly bool IsSupported =
        !AppContext.TryGetSwitch(LocksmithMetrics.IsSupportedSwitchName, out bool supported) || supported;
}
