using System;
using System.Collections.Generic;
using System.ComponentModel.DataAnnotations;
using System.Threading;

namespace Locksmith.Hosting;

/// <summary>
/// Locksmith's settings for a hosted app, bound from the <c>Locksmith</c> section of configuration by
/// <c>AddLocksmith(IConfiguration)</c>, checked when the host starts, and applied again at each configuration reload
/// while it runs.
/// </summary>
/// <remarks>
/// Times are written as <see cref="TimeSpan"/> strings (<c>"00:00:05"</c>); <c>"-00:00:00.001"</c>
/// (<see cref="Timeout.InfiniteTimeSpan"/>) means "never". A bad value fails <c>StartAsync</c> with a message naming
/// the key and the value; in a reload while the host runs, it is logged (<see cref="LocksmithEventIds.OptionsReloadRejected"/>)
/// and the reload is not applied. <see cref="InstallProcessPolicy"/>, <see cref="MetricsEnabled"/> and
/// <see cref="StatisticsEnabled"/> are fixed for the host's life (<see cref="LocksmithEventIds.OptionsRestartRequired"/>).
/// </remarks>
public sealed class LocksmithOptions : IValidatableObject
{
    /// <summary>The configuration section <c>AddLocksmith(IConfiguration)</c> is usually given.</summary>
    public const string SectionName = "Locksmith";

    /// <summary>
    /// The timeout of acquisitions that pass none, installed as <see cref="LocksmithPolicy.DefaultTimeout"/> while the host
    /// runs. Default: infinite (wait forever).
    /// </summary>
    public TimeSpan DefaultTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// What an acquisition against the global lock order does, installed as
    /// <see cref="LocksmithPolicy.OrderViolationAction"/> while the host runs. Default: <see cref="OrderViolationAction.Throw"/>.
    /// </summary>
    public OrderViolationAction OrderViolationAction { get; set; } = OrderViolationAction.Throw;

    /// <summary>
    /// How long a blocked acquisition may wait before it counts as a long wait and turns the health check Degraded,
    /// whether it is then granted (logged as a long wait), times out (logged as its timeout) or is still waiting;
    /// installed as <see cref="LocksmithPolicy.LongWaitThreshold"/>. Default: 30 s, so a holder stuck without a deadlock
    /// cycle (its waiters neither granted nor timed out, under the infinite default timeout) shows in the health check out
    /// of the box; <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan LongWaitThreshold { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the watchdog runs the deadlock detector. Default: 5 seconds; infinite turns the watchdog off. At least
    /// 1 millisecond otherwise.
    /// </summary>
    public TimeSpan WatchdogInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a blocked lock wait may hold up the host's shutdown before it is logged (<c>ShutdownWaitStuck</c>, once per
    /// wait, naming the lock, the waiter and the holder), counted from when the host began stopping for a wait that began
    /// earlier. Default: 5 seconds, well inside the host's default <c>ShutdownTimeout</c> of 30 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan ShutdownWaitThreshold { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How far back the health check counts long waits and timeouts. Default: 1 minute.
    /// </summary>
    public TimeSpan HealthWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How many timeouts within <see cref="HealthWindow"/> turn the health check Degraded. Default: 10; 0 turns the
    /// timeout rule off.
    /// </summary>
    public int DegradedTimeoutCount { get; set; } = 10;

    /// <summary>
    /// Whether this host installs <see cref="LocksmithPolicy"/> (timeouts, order action, event logging) while it runs.
    /// Default: true. The policy is process-wide, so only one running host may install it; a second host in the same
    /// process (a test server, a side host) sets this to false and then leaves the policy alone. Fixed for the host's life:
    /// which host owns the policy is settled when hosts start.
    /// </summary>
    public bool InstallProcessPolicy { get; set; } = true;

    /// <summary>
    /// Whether the container's locks record metrics. Default: true: the locks declared on the builder record into a
    /// <c>Locksmith</c> meter created by the container's <c>IMeterFactory</c> (so parallel hosts keep their numbers
    /// apart), while locks created with <c>new</c> keep the process-wide meter. False: the container's locks record nothing.
    /// Fixed for the host's life: each lock is bound to its meter when the container creates it.
    /// </summary>
    public bool MetricsEnabled { get; set; } = true;

    /// <summary>
    /// Whether the catalog keeps live statistics per lock (acquisitions, contentions, waits, p99 wait, timeouts: see
    /// <see cref="LockCatalogEntry.Statistics"/>) by listening to the container's <c>Locksmith</c> meter, and records
    /// which lock was held when another was taken (<see cref="ILockCatalog.NestingEdges"/>, through
    /// <see cref="LockNesting"/>). Default false: listening turns on the locks' metric recording, which an app otherwise
    /// pays only while some other listener (OpenTelemetry, dotnet-counters) is attached. The statistics need
    /// <see cref="MetricsEnabled"/>: true with <see cref="MetricsEnabled"/> false fails the start naming both. Fixed for the
    /// host's life: the listener and the nesting recorder start with the host.
    /// </summary>
    public bool StatisticsEnabled { get; set; }

    /// <summary>The configuration path the options were bound from, for messages; not itself bound.</summary>
    internal string ConfigurationPath { get; set; } = SectionName;

    /// <summary>Whether an <c>AddLocksmith(IConfiguration)</c> bound the options; else messages name the property, not a key nobody wrote.</summary>
    internal bool FromConfiguration { get; set; }

    /// <summary>
    /// The settings an <c>AddLocksmith(options => …)</c> delegate changed after any binding of their key: messages name
    /// those as the property, since the configuration's key may hold another value.
    /// </summary>
    internal HashSet<string> SetInCode { get; init; } = new(StringComparer.Ordinal);

    internal string Key(string member) =>
        FromConfiguration && !SetInCode.Contains(member) ? $"{ConfigurationPath}:{member}" : $"{nameof(LocksmithOptions)}.{member}";

    /// <summary>The values as they are now, for <see cref="NoteSetInCode"/> (the copy shares <see cref="SetInCode"/>).</summary>
    internal LocksmithOptions Values() => (LocksmithOptions)MemberwiseClone();

    /// <summary>Marks as set in code the settings a delegate changed from <paramref name="before"/>.</summary>
    internal void NoteSetInCode(LocksmithOptions before)
    {
        Note(nameof(DefaultTimeout), DefaultTimeout != before.DefaultTimeout);
        Note(nameof(OrderViolationAction), OrderViolationAction != before.OrderViolationAction);
        Note(nameof(LongWaitThreshold), LongWaitThreshold != before.LongWaitThreshold);
        Note(nameof(WatchdogInterval), WatchdogInterval != before.WatchdogInterval);
        Note(nameof(ShutdownWaitThreshold), ShutdownWaitThreshold != before.ShutdownWaitThreshold);
        Note(nameof(HealthWindow), HealthWindow != before.HealthWindow);
        Note(nameof(DegradedTimeoutCount), DegradedTimeoutCount != before.DegradedTimeoutCount);
        Note(nameof(InstallProcessPolicy), InstallProcessPolicy != before.InstallProcessPolicy);
        Note(nameof(MetricsEnabled), MetricsEnabled != before.MetricsEnabled);
        Note(nameof(StatisticsEnabled), StatisticsEnabled != before.StatisticsEnabled);

        void Note(string member, bool changed)
        {
            if (changed)
            {
                SetInCode.Add(member);
            }
        }
    }

    /// <inheritdoc/>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (!IsTimeout(DefaultTimeout))
        {
            yield return Bad(nameof(DefaultTimeout), DefaultTimeout, "must be zero or positive (at most 24.20:31:23.647), or -00:00:00.001 for infinite");
        }

        if (!Enum.IsDefined(OrderViolationAction))
        {
            yield return Bad(nameof(OrderViolationAction), OrderViolationAction, "must be Throw, Report or Ignore");
        }

        if (!IsTimeout(LongWaitThreshold))
        {
            yield return Bad(nameof(LongWaitThreshold), LongWaitThreshold, "must be zero or positive (at most 24.20:31:23.647), or -00:00:00.001 for off");
        }

        if (WatchdogInterval != Timeout.InfiniteTimeSpan && (WatchdogInterval < TimeSpan.FromMilliseconds(1) || !IsTimeout(WatchdogInterval)))
        {
            yield return Bad(nameof(WatchdogInterval), WatchdogInterval, "must be at least 00:00:00.001 (at most 24.20:31:23.647), or -00:00:00.001 to turn the watchdog off");
        }

        if (!IsTimeout(ShutdownWaitThreshold))
        {
            yield return Bad(nameof(ShutdownWaitThreshold), ShutdownWaitThreshold, "must be zero or positive (at most 24.20:31:23.647), or -00:00:00.001 for off");
        }

        if (HealthWindow <= TimeSpan.Zero)
        {
            yield return Bad(nameof(HealthWindow), HealthWindow, "must be positive");
        }

        if (DegradedTimeoutCount < 0)
        {
            yield return Bad(nameof(DegradedTimeoutCount), DegradedTimeoutCount, "must be zero (off) or positive");
        }

        // The statistics are read from the container's meter: with metrics off they would stay 0 without a word.
        if (StatisticsEnabled && !MetricsEnabled)
        {
            yield return new ValidationResult(
                $"{Key(nameof(StatisticsEnabled))} = 'True' needs {Key(nameof(MetricsEnabled))} = 'True' " +
                "(statistics are read from the container's metrics, which MetricsEnabled = false turns off): turn MetricsEnabled on or StatisticsEnabled off.");
        }
    }

    // The runtime's own rule (LocksmithPolicy validates the same way): -1 ms is infinite, otherwise 0..int.MaxValue ms.
    private static bool IsTimeout(TimeSpan value)
    {
        if (value == Timeout.InfiniteTimeSpan)
        {
            return true;
        }

        double ms = value.TotalMilliseconds;
        return ms >= 0 && ms <= int.MaxValue;
    }

    // No member names: the options validator would put them before the message ("WatchdogInterval: Locksmith:WatchdogInterval
    // = ..."), which already names the key with its path.
    private ValidationResult Bad(string member, object value, string rule) =>
        new($"{Key(member)} = '{value}' is invalid: it {rule}.");
}
