using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Applies a configuration reload of <see cref="LocksmithOptions"/> while the host runs: the process policy (if this host
/// owns it), the watchdog's interval, the shutdown threshold, and the health check's window and count, through
/// <see cref="RunningOptions"/>; logs what changed once (<see cref="LocksmithEventIds.OptionsReloaded"/>), and a change to
/// a setting fixed for the host's life once (<see cref="LocksmithEventIds.OptionsRestartRequired"/>).
/// </summary>
/// <remarks>
/// It listens from <see cref="StartingAsync"/> (registered after the policy service, so the policy is in; also with
/// <c>HostOptions.ServicesStartConcurrently</c>, where the host still runs each service's synchronous part in registration
/// order, as long as the policy service's <c>StartingAsync</c> stays synchronous), where it also
/// applies a reload that came before it listened, to
/// <see cref="StoppingAsync"/>: a stop runs with the settings it began with, and a stopped host applies nothing. A reload
/// that fails binding or validation never reaches it: <see cref="LocksmithOptionsFactory"/> logs it and hands the monitor
/// the last valid options, which equal those in force here, so nothing changes.
/// <para>
/// Fixed: <see cref="LocksmithOptions.InstallProcessPolicy"/> (which host owns the process-wide slot is settled at start,
/// when another host may be refused or take over), <see cref="LocksmithOptions.MetricsEnabled"/> (bound into each lock
/// when the container creates it) and <see cref="LocksmithOptions.StatisticsEnabled"/> (the meter listener and the
/// nesting recorder start with the host, and the statistics need the metrics).
/// </para>
/// </remarks>
internal sealed class LocksmithOptionsReloader(
    IOptionsMonitor<LocksmithOptions> monitor,
    RunningOptions running,
    ValidLocksmithOptions valid,
    LocksmithPolicyService policy,
    LocksmithLog log,
    StartFailure startFailure)
    : IHostedLifecycleService, IDisposable
{
    private static int s_listening;

    // Guards the subscription and the applying of a change: one reload at a time, none after StoppingAsync returned.
    private readonly Lock _gate = new();
    private IDisposable? _subscription;
    private CancellationTokenRegistration _failed;

    // The configured values last seen, so a change to a fixed setting is named once, not again at every later reload.
    private LocksmithOptions? _seen;

    /// <summary>How many hosts listen for reloads now in this process; tests count it.</summary>
    internal static int ListeningCount => Volatile.Read(ref s_listening);

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // From now on a reload that fails is logged and kept out, instead of throwing out of the reload.
        valid.KeepLastValid();
        lock (_gate)
        {
            if (_subscription is null)
            {
                _seen = running.Current;
                _subscription = monitor.OnChange(OnChange);
                Interlocked.Increment(ref s_listening);

                // The values in force are those the container read first (IOptions, when it created a lock, say); a
                // reload since then reached no listener, so what the monitor holds now is applied as one.
                Apply(monitor.CurrentValue);
            }
        }

        // A host whose start failed (another took the policy over) applies nothing more, as its watchdog runs no more.
        _failed = startFailure.Token.Register(static reloader => ((LocksmithOptionsReloader)reloader!).StopListening(), this);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        StopListening();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _failed.Dispose();
        StopListening();
    }

    private void StopListening()
    {
        IDisposable? subscription;
        lock (_gate)
        {
            // Taken after a change being applied finished: none is applied once this returns.
            subscription = _subscription;
            _subscription = null;
        }

        if (subscription is not null)
        {
            subscription.Dispose();
            Interlocked.Decrement(ref s_listening);
        }
    }

    /// <summary>The monitor's change callback (internal for tests, which hand it a late, stale value).</summary>
    internal void OnChange(LocksmithOptions configured, string? name)
    {
        if (name is not null && name != Options.DefaultName)
        {
            return;
        }

        // This runs inside IConfigurationRoot.Reload() or the file watcher's callback, where an exception can end the
        // process: a log sink that throws loses its line, never the reload.
        try
        {
            lock (_gate)
            {
                if (_subscription is not null)
                {
                    // The monitor's value now, not the one this callback was handed: of two reloads whose callbacks
                    // overlap, the one that applies last would otherwise put the older values back.
                    Apply(monitor.CurrentValue);
                }
            }
        }
        catch (Exception)
        {
            // What could be applied is; the line that failed is lost.
        }
    }

    private void Apply(LocksmithOptions configured)
    {
        var before = running.Current;
        var seen = _seen ?? before;
        _seen = configured;
        string path = before.ConfigurationPath;

        var restart = new List<string>(3);
        Fixed(nameof(LocksmithOptions.InstallProcessPolicy), before.InstallProcessPolicy, seen.InstallProcessPolicy, configured.InstallProcessPolicy);
        Fixed(nameof(LocksmithOptions.MetricsEnabled), before.MetricsEnabled, seen.MetricsEnabled, configured.MetricsEnabled);
        Fixed(nameof(LocksmithOptions.StatisticsEnabled), before.StatisticsEnabled, seen.StatisticsEnabled, configured.StatisticsEnabled);

        var after = new LocksmithOptions
        {
            DefaultTimeout = configured.DefaultTimeout,
            OrderViolationAction = configured.OrderViolationAction,
            LongWaitThreshold = configured.LongWaitThreshold,
            WatchdogInterval = configured.WatchdogInterval,
            ShutdownWaitThreshold = configured.ShutdownWaitThreshold,
            HealthWindow = configured.HealthWindow,
            DegradedTimeoutCount = configured.DegradedTimeoutCount,
            InstallProcessPolicy = before.InstallProcessPolicy,
            MetricsEnabled = before.MetricsEnabled,
            StatisticsEnabled = before.StatisticsEnabled,
            ConfigurationPath = path,
            FromConfiguration = before.FromConfiguration,
            SetInCode = configured.SetInCode,
        };

        var changes = new List<string>(7);
        bool policyChanged = after.DefaultTimeout != before.DefaultTimeout
            || after.OrderViolationAction != before.OrderViolationAction
            || after.LongWaitThreshold != before.LongWaitThreshold;

        // Only the host that owns the process-wide slot changes it; a side host says, as at start, that its own are not in force.
        if (policyChanged && policy.ApplyReload(after))
        {
            Changed(nameof(LocksmithOptions.DefaultTimeout), before.DefaultTimeout, after.DefaultTimeout);
            Changed(nameof(LocksmithOptions.OrderViolationAction), before.OrderViolationAction, after.OrderViolationAction);
            Changed(nameof(LocksmithOptions.LongWaitThreshold), before.LongWaitThreshold, after.LongWaitThreshold);
        }

        Changed(nameof(LocksmithOptions.WatchdogInterval), before.WatchdogInterval, after.WatchdogInterval);
        Changed(nameof(LocksmithOptions.ShutdownWaitThreshold), before.ShutdownWaitThreshold, after.ShutdownWaitThreshold);
        Changed(nameof(LocksmithOptions.HealthWindow), before.HealthWindow, after.HealthWindow);
        Changed(nameof(LocksmithOptions.DegradedTimeoutCount), before.DegradedTimeoutCount, after.DegradedTimeoutCount);

        if (policyChanged || changes.Count > 0)
        {
            running.Apply(after);
        }

        // Logged once everything is applied, each line on its own: a log sink that throws loses its line, never the
        // settings, nor the other lines, nor the host's start (this also runs in StartingAsync).
        if (policyChanged && !after.InstallProcessPolicy)
        {
            Log(() => policy.WarnIfNotInForce(after));
        }

        if (restart.Count > 0)
        {
            Log(() => log.OptionsRestartRequired(string.Join(", ", restart)));
        }

        if (changes.Count > 0)
        {
            Log(() => log.OptionsReloaded(string.Join(", ", changes)));
        }

        void Changed<T>(string key, T old, T now)
        {
            if (!EqualityComparer<T>.Default.Equals(old, now))
            {
                changes.Add(string.Create(CultureInfo.InvariantCulture, $"{path}:{key} {old} → {now}"));
            }
        }

        static void Log(Action line)
        {
            try
            {
                line();
            }
            catch (Exception)
            {
                // The sink failed; what the line tells is applied.
            }
        }

        // Named when the configured value moves away from the one in force, once: not again while it stays there.
        void Fixed(string key, bool inForce, bool seenBefore, bool now)
        {
            if (now != seenBefore && now != inForce)
            {
                restart.Add(string.Create(CultureInfo.InvariantCulture, $"{path}:{key} {inForce} → {now}"));
            }
        }
    }
}
