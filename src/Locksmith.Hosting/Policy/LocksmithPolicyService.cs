using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Installs the host's <see cref="LocksmithPolicy"/> on start and puts back what it found on stop.
/// </summary>
/// <remarks>
/// A lifecycle service: the policy goes in at <see cref="StartingAsync"/>, before any hosted service starts, and comes
/// out at <see cref="StoppedAsync"/>, after all have stopped, so a service registered before <c>AddLocksmith</c> (a
/// worker template's) starts, runs and stops under it too.
/// The policy is one process-wide slot, so at most one running host may own it: a second host whose options install
/// the policy fails to start with an <see cref="InvalidOperationException"/> instead of silently overwriting the first
/// (set <see cref="LocksmithOptions.InstallProcessPolicy"/> to false in such a host). Callbacks found at start are kept:
/// the host's handlers log, then call them.
/// <para>
/// The generic host neither stops nor tells the services that started when a later one fails to start, so a host
/// owns the policy for sure only once its whole start completed: <see cref="IHostApplicationLifetime.ApplicationStarted"/>,
/// which fires after every service's <c>StartedAsync</c>, not this service's own <see cref="StartedAsync"/>, after which
/// a later service's may still fail. Until then a host that
/// installs the policy takes it over (restoring, when it stops, what the first one found), so a host whose start failed
/// never blocks a retry or a test that starts another; and if the first was in fact still starting, its start then
/// fails instead, so at most one started host owns the policy. Either way the first host's start failed, so its
/// watchdog and statistics stop then too (<see cref="StartFailure"/>), rather than run on beside the new host's. Only a
/// host taken over after its own <see cref="StartedAsync"/>, while later services finished theirs, can no longer fail:
/// it logs <see cref="LocksmithEventIds.PolicyLost"/> when its start completes.
/// </para>
/// </remarks>
internal sealed class LocksmithPolicyService(
    IOptions<LocksmithOptions> options, LocksmithLog log, LockEventTracker tracker, StartFailure startFailure, IServiceProvider provider)
    : IHostedLifecycleService, IDisposable
{
    // The application's name, so the refusal says which host holds the policy.
    private readonly string _hostName = provider.GetService<IHostEnvironment>()?.ApplicationName is { Length: > 0 } name ? name : "(unnamed)";

    // Ends this host's watchdog and statistics when a host takes the policy over from its unfinished start.
    private readonly StartFailure _startFailure = startFailure;

    // Tells when the host's whole start completed; absent only if the service is run without a host.
    private readonly IHostApplicationLifetime? _lifetime = provider.GetService<IHostApplicationLifetime>();

    private CancellationTokenRegistration _confirmation;

    // Guards the owner and its started flag together: one host's start, takeover, confirmation and restore at a time.
    private static readonly Lock s_gate = new();

    // The host that owns the process-wide policy now; null when none does.
    private static LocksmithPolicyService? s_owner;

    private Saved? _found;

    // Whether this host's start completed while it owned the policy; until then another host may take the policy over.
    private bool _started;

    // The host that took the policy over while this one was starting; its StartedAsync then fails naming it.
    private string? _displacedBy;

    /// <summary>How many hosts own the policy now (0 or 1); tests count it.</summary>
    internal static int ActiveCount => Volatile.Read(ref s_owner) is null ? 0 : 1;

    // Synchronous on purpose: with ServicesStartConcurrently the host runs the synchronous parts of StartingAsync in
    // registration order, so the reloader, registered later, applies its reload after this install, not under it.
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        WarnIfSectionNotRead();
        var settings = options.Value;
        if (!settings.InstallProcessPolicy)
        {
            WarnIfNotInForce(settings);
            return Task.CompletedTask;
        }

        LocksmithPolicyService? displaced;
        lock (s_gate)
        {
            displaced = Install(settings);
        }

        // Outside the gate: ending the displaced host's watchdog runs its cancellation callbacks.
        displaced?._startFailure.Declare();

        // Ownership is confirmed once the host's whole start completed; a start that fails never confirms it.
        if (_lifetime is not null)
        {
            _confirmation = _lifetime.ApplicationStarted.Register(static service => ((LocksmithPolicyService)service!).Confirm(), this);
        }

        log.PolicyInstalled(settings.DefaultTimeout, settings.OrderViolationAction, settings.LongWaitThreshold);
        return Task.CompletedTask;
    }

    // AddLocksmith() and AddLocksmith(options => ...) read no configuration: a Locksmith section in appsettings.json (a
    // misspelt key included) would silently not apply. An empty value ("Locksmith": "") holds no setting, as
    // AddLocksmith(IConfiguration) reads it; a non-empty one is reported, which that call refuses.
    // So is one beside AddLocksmith(IConfiguration) calls given only other sections that hold no setting: a misnamed section
    // (GetSection("Locksmiths")) binds nothing, and the binder says nothing.
    private void WarnIfSectionNotRead()
    {
        if (provider.GetService<LockRegistry>() is not { } registry ||
            provider.GetService<IConfiguration>()?.GetSection(LocksmithOptions.SectionName) is not { } section ||
            !HoldsSettings(section) ||
            BoundByTheApp(registry))
        {
            return;
        }

        if (!registry.ReadsConfiguration)
        {
            log.ConfigurationNotRead(section.Path, registry.AddedOnServices);
        }
        else if (!registry.BoundSections.Any(bound => string.Equals(bound.Path, section.Path, StringComparison.OrdinalIgnoreCase) || HoldsSettings(bound)))
        {
            log.ConfigurationSectionNotRead(section.Path, registry.BoundSections.Select(static bound => bound.Path));
        }

        static bool HoldsSettings(IConfigurationSection section) => !string.IsNullOrEmpty(section.Value) || section.GetChildren().Any();
    }

    // The Options pattern's own binding beside AddLocksmith() (services.Configure<LocksmithOptions>(section),
    // AddOptions<LocksmithOptions>().Bind(section) or .BindConfiguration("Locksmith")) reads the section too, with the
    // plain binder: saying none of it is read would be false. Each such binding registers a configuration change token
    // source for the options, the one mark all of them (and their source-generated forms) leave.
    private bool BoundByTheApp(LockRegistry registry)
    {
        foreach (var source in provider.GetServices<IOptionsChangeTokenSource<LocksmithOptions>>())
        {
            if (source is ConfigurationChangeTokenSource<LocksmithOptions> &&
                (source.Name is null || source.Name == Options.DefaultName) &&
                !registry.OwnChangeTokenSources.Contains(source))
            {
                return true;
            }
        }

        return false;
    }

    // A side host's policy settings bind and validate like any other, but its locks follow the policy in force: a
    // DefaultTimeout it sets (from an appsettings.json shared with the main host, say) would silently not apply. A value
    // left at its default was not chosen, so it is not reported.
    internal void WarnIfNotInForce(LocksmithOptions settings)
    {
        var defaults = new LocksmithOptions();
        var differ = new List<string>(3);
        Compare(nameof(LocksmithOptions.DefaultTimeout), settings.DefaultTimeout, defaults.DefaultTimeout, LocksmithPolicy.DefaultTimeout);
        Compare(nameof(LocksmithOptions.OrderViolationAction), settings.OrderViolationAction, defaults.OrderViolationAction, LocksmithPolicy.OrderViolationAction);
        Compare(nameof(LocksmithOptions.LongWaitThreshold), settings.LongWaitThreshold, defaults.LongWaitThreshold, LocksmithPolicy.LongWaitThreshold);
        if (differ.Count > 0)
        {
            log.PolicySettingsNotInForce(_hostName, settings.Key(nameof(LocksmithOptions.InstallProcessPolicy)), string.Join(", ", differ));
        }

        void Compare<T>(string key, T configured, T byDefault, T inForce)
        {
            var equal = EqualityComparer<T>.Default;
            if (!equal.Equals(configured, byDefault) && !equal.Equals(configured, inForce))
            {
                differ.Add(string.Create(CultureInfo.InvariantCulture, $"{settings.Key(key)} = {configured} (in force: {inForce})"));
            }
        }
    }

    /// <summary>
    /// Applies a configuration reload's <see cref="LocksmithOptions.DefaultTimeout"/>,
    /// <see cref="LocksmithOptions.OrderViolationAction"/> and <see cref="LocksmithOptions.LongWaitThreshold"/> to the
    /// process-wide policy if this host owns it now; returns whether it did. A host that does not install the policy
    /// leaves it alone; the caller warns then (<see cref="WarnIfNotInForce"/>), once the whole reload is applied.
    /// </summary>
    internal bool ApplyReload(LocksmithOptions settings)
    {
        if (!settings.InstallProcessPolicy)
        {
            return false;
        }

        // Under the gate: a host that lost the policy to another (or restored it at stop) must not write into the slot.
        lock (s_gate)
        {
            if (s_owner != this)
            {
                return false;
            }

            LocksmithPolicy.DefaultTimeout = settings.DefaultTimeout;
            LocksmithPolicy.OrderViolationAction = settings.OrderViolationAction;
            LocksmithPolicy.LongWaitThreshold = settings.LongWaitThreshold;
        }

        return true;
    }

    // The fix the refusals give: a host that reads no configuration would not see the key, so it is told the code instead.
    private string InstallProcessPolicyOff(LocksmithOptions settings) =>
        provider.GetService<LockRegistry>() is { ReadsConfiguration: true }
            ? $"{settings.ConfigurationPath}:InstallProcessPolicy to false"
            : "InstallProcessPolicy to false (this host reads no configuration: AddLocksmith(options => options.InstallProcessPolicy = false))";

    // Returns the host it took the policy over from, whose start failed (or fails now); null if none.
    private LocksmithPolicyService? Install(LocksmithOptions settings)
    {
        Saved found;
        LocksmithPolicyService? displaced = null;
        if (s_owner is { } other && other != this)
        {
            if (other._started)
            {
                throw new InvalidOperationException(
                    $"Host '{_hostName}' cannot install Locksmith's process-wide LocksmithPolicy: it is already installed by another " +
                    $"running host ('{other._hostName}') in this process. Stop that host first, or set {InstallProcessPolicyOff(settings)} " +
                    "in this one so it leaves the policy alone.");
            }

            // The owner never finished starting (its start failed, most likely): take over, keeping what it found.
            found = other._found!;
            other._found = null;
            other._displacedBy = _hostName;
            displaced = other;
        }
        else
        {
            found = Saved.Read();
        }

        s_owner = this;
        _found = found;
        try
        {
            LocksmithPolicy.DefaultTimeout = settings.DefaultTimeout;
            LocksmithPolicy.OrderViolationAction = settings.OrderViolationAction;
            LocksmithPolicy.LongWaitThreshold = settings.LongWaitThreshold;
            // The handlers run on the waiter's thread, inside its lock call: a log sink that throws (Logger rethrows a
            // provider's exception) must not turn TryAcquire's false or Acquire's LockTimeoutException into the sink's
            // exception, nor fail a granted acquisition. The handlers found at start still throw as they did.
            LocksmithPolicy.TimeoutOccurred = e =>
            {
                tracker.TimeoutOccurred(e);
                try
                {
                    log.Timeout(e);
                }
                catch (Exception)
                {
                    // The sink failed; the lock's own outcome stands.
                }

                found.TimeoutOccurred?.Invoke(e);
            };
            LocksmithPolicy.LongWaitOccurred = e =>
            {
                tracker.LongWaitOccurred(e);
                try
                {
                    log.LongWait(e);
                }
                catch (Exception)
                {
                    // The sink failed; the lock's own outcome stands.
                }

                found.LongWaitOccurred?.Invoke(e);
            };
            LocksmithPolicy.OrderViolationReported = v =>
            {
                try
                {
                    log.OrderViolation(v);
                }
                catch (Exception)
                {
                    // The sink failed; the lock's own outcome stands.
                }

                found.OrderViolationReported?.Invoke(v);
            };
        }
        catch
        {
            RestoreOwned();
            throw;
        }

        return displaced;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        lock (s_gate)
        {
            if (s_owner == this)
            {
                // Without a host to say when its start completed, this service's own StartedAsync is the best sign.
                _started |= _lifetime is null;
            }
            else if (_displacedBy is { } taker)
            {
                throw new InvalidOperationException(
                    $"Host '{_hostName}' lost Locksmith's process-wide LocksmithPolicy while it was starting: host '{taker}' in " +
                    "this process installed its own before this start completed. At most one started host owns the policy: set " +
                    $"{InstallProcessPolicyOff(options.Value)} in one of them, or start them one after the other.");
            }
        }

        return Task.CompletedTask;
    }

    // The host's start completed: the policy is this host's for sure, unless another took it over after StartedAsync.
    private void Confirm()
    {
        string? taker = null;
        lock (s_gate)
        {
            if (s_owner == this)
            {
                _started = true;
            }
            else
            {
                taker = _displacedBy;
            }
        }

        if (taker is not null)
        {
            log.PolicyLost(_hostName, taker, InstallProcessPolicyOff(options.Value));
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (Restore())
        {
            log.PolicyRestored();
        }

        return Task.CompletedTask;
    }

    // A host disposed without being stopped must not leave its policy (and its logger) behind.
    public void Dispose()
    {
        // Outside the gate: disposing waits for a running Confirm, which takes the gate.
        _confirmation.Dispose();
        Restore();
    }

    private bool Restore()
    {
        lock (s_gate)
        {
            return RestoreOwned();
        }
    }

    // Called holding s_gate.
    private bool RestoreOwned()
    {
        if (_found is not { } found || s_owner != this)
        {
            return false;
        }

        found.Write();
        _found = null;
        _started = false;
        s_owner = null;
        return true;
    }

    /// <summary>Every setting of <see cref="LocksmithPolicy"/>, as found.</summary>
    private sealed record Saved(
        TimeSpan DefaultTimeout,
        OrderViolationAction OrderViolationAction,
        TimeSpan LongWaitThreshold,
        Action<LockTimeoutEvent>? TimeoutOccurred,
        Action<LongWaitEvent>? LongWaitOccurred,
        Action<LockOrderViolation>? OrderViolationReported)
    {
        public static Saved Read() => new(
            LocksmithPolicy.DefaultTimeout,
            LocksmithPolicy.OrderViolationAction,
            LocksmithPolicy.LongWaitThreshold,
            LocksmithPolicy.TimeoutOccurred,
            LocksmithPolicy.LongWaitOccurred,
            LocksmithPolicy.OrderViolationReported);

        public void Write()
        {
            LocksmithPolicy.DefaultTimeout = DefaultTimeout;
            LocksmithPolicy.OrderViolationAction = OrderViolationAction;
            LocksmithPolicy.LongWaitThreshold = LongWaitThreshold;
            LocksmithPolicy.TimeoutOccurred = TimeoutOccurred;
            LocksmithPolicy.LongWaitOccurred = LongWaitOccurred;
            LocksmithPolicy.OrderViolationReported = OrderViolationReported;
        }
    }
}
