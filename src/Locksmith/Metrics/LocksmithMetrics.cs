using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Locksmith;

/// <summary>
/// The runtime's process-wide <see cref="Meter"/>, named <c>Locksmith</c>, and its instruments (a lock bound to
/// another <see cref="LocksmithInstruments"/> set, as hosting does, records there instead). Every recording checks
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

    // The process-wide set: every lock not bound to another (LockPrimitive.UseInstruments) records here.
    internal static readonly LocksmithInstruments Shared = new(Meter);

    // Static copies so a lock on the process-wide set (Instruments null) tests a constant, as before sets existed.
    internal static readonly Counter<long> Acquisitions = Shared.Acquisitions;
    internal static readonly Counter<long> Contentions = Shared.Contentions;
    internal static readonly Histogram<double> WaitDuration = Shared.WaitDuration;
    internal static readonly Histogram<double> HoldDuration = Shared.HoldDuration;
    internal static readonly Counter<long> Timeouts = Shared.Timeouts;
    internal static readonly Counter<long> OrderViolations = Shared.OrderViolations;

    /// <summary>
    /// The inlined test; the recording itself stays out of line so callers' frames stay small. A lock on the
    /// process-wide set pays one load (its null <see cref="LockPrimitive.Instruments"/>) over a static test.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RecordAcquisition(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && (lockPrimitive.Instruments is { } set ? set.Acquisitions.Enabled : Acquisitions.Enabled))
        {
            AddAcquisitionOrGiveBack(lockPrimitive, mode, 1);
        }
    }

    /// <summary><see cref="RecordAcquisition(LockPrimitive, string)"/> of <paramref name="permits"/> permits taken at once (a sync semaphore's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RecordAcquisition(LockPrimitive lockPrimitive, string mode, int permits)
    {
        if (MetricsSwitch.IsSupported && (lockPrimitive.Instruments is { } set ? set.Acquisitions.Enabled : Acquisitions.Enabled))
        {
            AddAcquisitionOrGiveBack(lockPrimitive, mode, permits);
        }
    }

    /// <summary>
    /// A sync acquisition's counter, by the thread that took the lock: a listener's exception is the acquisition's, and
    /// the thread gives back what it took first (<see cref="LockPrimitive.GiveBackAfterListenerFault"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddAcquisitionOrGiveBack(LockPrimitive lockPrimitive, string mode, int permits)
    {
        try
        {
            AddAcquisition(lockPrimitive, mode);
        }
        catch
        {
            lockPrimitive.GiveBackAfterListenerFault(mode, permits);
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddAcquisition(LockPrimitive lockPrimitive, string mode) =>
        SetOf(lockPrimitive).Acquisitions.Add(1, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);

    /// <summary>
    /// The acquisition of a lock with one owner (exclusive, reentrant, spin, write mode): counts it and, while
    /// <c>locksmith.lock.hold.duration</c> is enabled, stamps the hold's start in the lock
    /// (<see cref="LockPrimitive.HoldStart"/>). One inlined test covers both instruments, so with no listener the
    /// clock is never read and nothing is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RecordOwnedAcquisition(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported
            && (lockPrimitive.Instruments is { } set
                ? set.Acquisitions.Enabled | set.HoldDuration.Enabled
                : Acquisitions.Enabled | HoldDuration.Enabled))
        {
            OnOwnedAcquisitionOrGiveBack(lockPrimitive, mode);
        }
    }

    /// <summary>The owned form of <see cref="AddAcquisitionOrGiveBack"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void OnOwnedAcquisitionOrGiveBack(LockPrimitive lockPrimitive, string mode)
    {
        try
        {
            OnOwnedAcquisition(lockPrimitive, mode);
        }
        catch
        {
            lockPrimitive.GiveBackAfterListenerFault(mode, 1);
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void OnOwnedAcquisition(LockPrimitive lockPrimitive, string mode)
    {
        var set = SetOf(lockPrimitive);
        if (set.HoldDuration.Enabled)
        {
            lockPrimitive.HoldStart = Stopwatch.GetTimestamp();
        }

        if (set.Acquisitions.Enabled)
        {
            AddAcquisition(lockPrimitive, mode);
        }
    }

    /// <summary>
    /// <see cref="RecordAcquisition(LockPrimitive, string)"/> for an async acquisition whose <paramref name="scope"/> is
    /// built: a listener's exception is the acquisition's, and the hold it got is released first, so nothing is left held
    /// by a flow that never received its scope.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RecordAcquisition(LockPrimitive lockPrimitive, string mode, in AsyncLockScope scope)
    {
        if (MetricsSwitch.IsSupported && (lockPrimitive.Instruments is { } set ? set.Acquisitions.Enabled : Acquisitions.Enabled))
        {
            AddAcquisitionOrRelease(lockPrimitive, mode, scope);
        }
    }

    /// <summary><see cref="RecordOwnedAcquisition(LockPrimitive, string)"/> for an async acquisition whose <paramref name="scope"/> is built, as above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RecordOwnedAcquisition(LockPrimitive lockPrimitive, string mode, in AsyncLockScope scope)
    {
        if (MetricsSwitch.IsSupported
            && (lockPrimitive.Instruments is { } set
                ? set.Acquisitions.Enabled | set.HoldDuration.Enabled
                : Acquisitions.Enabled | HoldDuration.Enabled))
        {
            OnOwnedAcquisitionOrRelease(lockPrimitive, mode, scope);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddAcquisitionOrRelease(LockPrimitive lockPrimitive, string mode, AsyncLockScope scope)
    {
        try
        {
            AddAcquisition(lockPrimitive, mode);
        }
        catch
        {
            AsyncWaits.GiveBackGranted(scope);
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void OnOwnedAcquisitionOrRelease(LockPrimitive lockPrimitive, string mode, AsyncLockScope scope)
    {
        try
        {
            OnOwnedAcquisition(lockPrimitive, mode);
        }
        catch
        {
            AsyncWaits.GiveBackGranted(scope);
            throw;
        }
    }

    /// <summary>
    /// Records a timed hold that ended; called after the release, with the start the owner took out of the lock. A
    /// listener that went away during the hold gets nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void RecordHold(LockPrimitive lockPrimitive, string mode, long startTimestamp)
    {
        if (MetricsSwitch.IsSupported && startTimestamp != 0 && SetOf(lockPrimitive).HoldDuration is { Enabled: true } hold)
        {
            double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            hold.Record(seconds, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    /// <summary>Whether a contention on <paramref name="lockPrimitive"/> would be counted now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsContentionRecorded(LockPrimitive lockPrimitive) =>
        MetricsSwitch.IsSupported && (lockPrimitive.Instruments is { } set ? set.Contentions.Enabled : Contentions.Enabled);

    internal static void RecordContention(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && SetOf(lockPrimitive).Contentions is { Enabled: true } contentions && !ConditionRetake.IsQuiet(lockPrimitive))
        {
            contentions.Add(1, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    /// <summary>Whether a wait on <paramref name="lockPrimitive"/> would be recorded now (so the wait must read the clock).</summary>
    internal static bool IsWaitRecorded(LockPrimitive lockPrimitive) => RecordedWaits(lockPrimitive) is not null;

    internal static void RecordWait(LockPrimitive lockPrimitive, string mode, long startTimestamp)
    {
        if (RecordedWaits(lockPrimitive) is { } wait)
        {
            double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            wait.Record(seconds, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    /// <summary>The lock's wait-duration instrument while something listens to it, else null (one lookup of its set).</summary>
    private static Histogram<double>? RecordedWaits(LockPrimitive lockPrimitive) =>
        MetricsSwitch.IsSupported && SetOf(lockPrimitive).WaitDuration is { Enabled: true } wait && !ConditionRetake.IsQuiet(lockPrimitive) ? wait : null;

    internal static void RecordTimeout(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && SetOf(lockPrimitive).Timeouts is { Enabled: true } timeouts)
        {
            timeouts.Add(1, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    /// <summary>Counts an order violation of an acquisition in <paramref name="mode"/>, as the lock's other instruments tag that mode.</summary>
    internal static void RecordOrderViolation(LockPrimitive lockPrimitive, string mode)
    {
        if (MetricsSwitch.IsSupported && SetOf(lockPrimitive).OrderViolations is { Enabled: true } violations)
        {
            violations.Add(1, Tags(lockPrimitive, mode, out var kind, out var m), kind, m);
        }
    }

    /// <summary>The set <paramref name="lockPrimitive"/> records into: its own, or the process-wide one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LocksmithInstruments SetOf(LockPrimitive lockPrimitive) => lockPrimitive.Instruments ?? Shared;

    private static KeyValuePair<string, object?> Tags(
        LockPrimitive lockPrimitive, string mode, out KeyValuePair<string, object?> kind, out KeyValuePair<string, object?> modeTag)
    {
        // A stripe records as its striped lock: one series per lock, not per stripe (64 by default).
        var tagged = lockPrimitive.StripedParent ?? lockPrimitive;
        kind = new("lock.kind", tagged.KindTag);
        modeTag = new("lock.mode", mode);
        return new("lock.name", tagged.Name);
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
