using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Linq;
using System.Reflection;
using Locksmith.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Locksmith to a hosted app's services.</summary>
public static class LocksmithServiceCollectionExtensions
{
    /// <summary>
    /// Adds Locksmith with options bound from <paramref name="configuration"/> (usually the <c>Locksmith</c> section):
    /// the process-wide policy while the host runs, event logs, the deadlock watchdog and the lock catalog. May be
    /// called again (with configuration or a delegate); every call configures the same options and returns a builder over
    /// the same locks. A reload of <paramref name="configuration"/> while the host runs is applied (see
    /// <see cref="LocksmithEventIds.OptionsReloaded"/>); one whose values are invalid is logged and not applied.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">
    /// The section holding <see cref="LocksmithOptions"/>' keys; given the whole configuration (not a section), its
    /// <c>Locksmith</c> section is bound, so <c>AddLocksmith(builder.Configuration)</c> reads <c>Locksmith:*</c>.
    /// </param>
    /// <returns>A builder on which the container's named locks are declared.</returns>
    public static ILocksmithBuilder AddLocksmith(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddLocksmithCore(onServices: true);
        builder.Registry.ReadsConfiguration = true;

        // A section binds as given; the root's own keys are the app's, not Locksmith's, so the root means its section.
        var section = configuration as IConfigurationSection ?? configuration.GetSection(LocksmithOptions.SectionName);
        string path = section.Path;
        builder.Registry.BoundSections.Add(section);
        // A misspelt key (DefaultTimeOutt) fails the start naming it, instead of leaving the default in force unseen.
        services.AddOptions<LocksmithOptions>()
            .Configure(options =>
            {
                BindNamingUnknownKeys(section, options);
                options.ConfigurationPath = path;
                options.FromConfiguration = true;
            });

        // What Bind registers besides binding: IOptionsMonitor sees the section's reloads, which the running host applies.
        var changes = new ConfigurationChangeTokenSource<LocksmithOptions>(section);
        builder.Registry.OwnChangeTokenSources.Add(changes);
        services.AddSingleton<IOptionsChangeTokenSource<LocksmithOptions>>(changes);
        return builder;
    }

    /// <summary>
    /// Binds <paramref name="section"/>, refusing keys <see cref="LocksmithOptions"/> does not have with their full
    /// path (<c>Locksmith:DefaultTimeOutt</c>), where the binder's own message names only the property.
    /// </summary>
    private static void BindNamingUnknownKeys(IConfigurationSection section, LocksmithOptions options)
    {
        // "Locksmith": "x" (or Locksmith=x from the environment or command line) binds to nothing, and the binder says
        // nothing: every default would stay in force unseen. An empty value holds no setting, so nothing is lost there.
        if (!string.IsNullOrEmpty(section.Value))
        {
            ThrowSectionHoldsAValue(section);
        }

        // Checked before binding, not from the binder's error: the binder also knows the internal ConfigurationPath, so
        // "ConfigurationPath": "x" would be neither bound nor reported.
        if (UnknownKeys(section, out var settings) is { Length: > 0 } unknown)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", unknown.Select(static key => $"'{key.Path}'"))} is not a Locksmith setting: " +
                $"{nameof(LocksmithOptions)} has no property {string.Join(", ", unknown.Select(static key => $"'{key.Key}'"))}. " +
                $"Its settings are {string.Join(", ", settings)}.");
        }

        // Sub-keys under a setting ("DefaultTimeout": { "Seconds": 5 }) bind to nothing, and the binder says nothing, even
        // with ErrorOnUnknownConfiguration: the default would stay in force unseen.
        if (section.GetChildren().SelectMany(static child => child.GetChildren()).ToArray() is { Length: > 0 } nested)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", nested.Select(static key => $"'{key.Path}'"))} is not a Locksmith setting: each Locksmith " +
                $"setting takes a single value, not sub-keys (\"DefaultTimeout\": \"00:00:05\").");
        }

        // TimeSpan's parser reads "5" as five days, so "DefaultTimeout": "5" meant as seconds would start with a timeout
        // that never fires, and the binder says nothing.
        if (BareNumberTimes(section) is { Length: > 0 } days)
        {
            throw new InvalidOperationException(string.Join(" ", days));
        }

        // The binder parses an enum as Enum.Parse does, so a list of names ("Report,Throw") binds to their bitwise OR, and
        // the binder says nothing: another name than any written (Report, Ignore), or a number the validator then names
        // ('3') though nobody wrote it. OrderViolationAction takes one name.
        if (UnconvertibleValues(section, enumListsOnly: true) is { Length: > 0 } lists)
        {
            throw new InvalidOperationException(string.Join(" ", lists));
        }

        try
        {
            section.Bind(options, static binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex) when (UnconvertibleValues(section) is { Length: > 0 } bad)
        {
            // The binder's own message ("Failed to convert configuration value '5s' ... to type 'System.TimeSpan'") says
            // neither how to write the value nor, for an enum, which names there are.
            throw new InvalidOperationException(string.Join(" ", bad), ex);
        }

        // A key bound after a delegate set its property is the configuration's again.
        foreach (var child in section.GetChildren())
        {
            options.SetInCode.RemoveWhere(member => string.Equals(member, child.Key, StringComparison.OrdinalIgnoreCase));
        }
    }

    [DoesNotReturn]
    private static void ThrowSectionHoldsAValue(IConfigurationSection section) =>
        throw new InvalidOperationException(
            $"{section.Path} = '{section.Value}' is invalid: it must be a section of settings, not a single value: " +
            $"\"{section.Key}\": {{ \"DefaultTimeout\": \"00:00:05\" }} in JSON, " +
            $"{section.Path.Replace(":", "__", StringComparison.Ordinal)}__DefaultTimeout=00:00:05 in the environment, " +
            $"--{section.Path}:DefaultTimeout=00:00:05 on the command line.");

    /// <summary>
    /// The section's values that do not convert to their setting's type as the binder converts them, each as
    /// <c>Locksmith:DefaultTimeout = '5s' is invalid: it must be …</c>, the form the validator's messages take.
    /// </summary>
    /// <param name="section">The section.</param>
    /// <param name="enumListsOnly">Only enum values written as a list of names, which the binder converts to their OR.</param>
    private static string[] UnconvertibleValues(IConfigurationSection section, bool enumListsOnly = false)
    {
        var bad = new List<string>();
        foreach (var child in section.GetChildren())
        {
            if (child.Value is not { } value
                || typeof(LocksmithOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .FirstOrDefault(p => p.CanWrite && string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase)) is not { } property)
            {
                continue;
            }

            var type = property.PropertyType;
            if (enumListsOnly)
            {
                if (type == typeof(Locksmith.OrderViolationAction) && value.Contains(',', StringComparison.Ordinal))
                {
                    bad.Add($"{child.Path} = '{value}' is invalid: it must be one of {string.Join(", ", Enum.GetNames<Locksmith.OrderViolationAction>())}.");
                }

                continue;
            }

            string? expected =
                type == typeof(TimeSpan) && !TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out _)
                    ? "a time span written [d.]hh:mm:ss[.fffffff] (00:00:05 is five seconds), or -00:00:00.001 for infinite"
                : type == typeof(Locksmith.OrderViolationAction) && !Enum.TryParse<Locksmith.OrderViolationAction>(value, ignoreCase: true, out _)
                    ? $"one of {string.Join(", ", Enum.GetNames<Locksmith.OrderViolationAction>())}"
                : type == typeof(bool) && !bool.TryParse(value, out _) ? "true or false"
                : type == typeof(int) && !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? "a whole number"
                : null;
            if (expected is not null)
            {
                bad.Add($"{child.Path} = '{value}' is invalid: it must be {expected}.");
            }
        }

        return [.. bad];
    }

    /// <summary>
    /// The section's time settings written as a bare whole number other than 0, each as
    /// <c>Locksmith:DefaultTimeout = '5' is invalid: a bare number is read as days …</c>.
    /// </summary>
    private static string[] BareNumberTimes(IConfigurationSection section)
    {
        var bad = new List<string>();
        foreach (var child in section.GetChildren())
        {
            if (child.Value is not { } value
                || !int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number)
                || number == 0
                || typeof(LocksmithOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .FirstOrDefault(p => p.CanWrite && string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase))?.PropertyType != typeof(TimeSpan))
            {
                continue;
            }

            bad.Add(
                $"{child.Path} = '{value}' is invalid: a bare number is read as days ({number}.00:00:00), not seconds or milliseconds. " +
                "Write the time as [d.]hh:mm:ss[.fffffff] (00:00:05 is five seconds, 00:00:00.250 a quarter of a second, " +
                "5.00:00:00 five days), or -00:00:00.001 for infinite.");
        }

        return [.. bad];
    }

    /// <summary>The section's keys that are none of <paramref name="settings"/>, the options' writable properties.</summary>
    private static IConfigurationSection[] UnknownKeys(IConfigurationSection section, out string[] settings)
    {
        var names = typeof(LocksmithOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(static property => property.CanWrite)
            .Select(static property => property.Name)
            .ToArray();
        settings = names;
        return section.GetChildren()
            .Where(child => !names.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            .ToArray();
    }

    /// <summary>
    /// Adds Locksmith configured by <paramref name="configure"/>; see
    /// <see cref="AddLocksmith(IServiceCollection, IConfiguration)"/>. Delegates run in the order they were added, after
    /// configuration binding added before them.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets <see cref="LocksmithOptions"/>.</param>
    /// <returns>A builder on which the container's named locks are declared.</returns>
    public static ILocksmithBuilder AddLocksmith(this IServiceCollection services, Action<LocksmithOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddLocksmithCore(onServices: true);
        // What the delegate changes is named as the property in messages, not as a configuration key that says otherwise.
        services.Configure<LocksmithOptions>(options =>
        {
            var before = options.Values();
            configure(options);
            options.NoteSetInCode(before);
        });
        return builder;
    }

    /// <summary>
    /// Adds Locksmith with options bound from <paramref name="configuration"/> and then set by <paramref name="configure"/>:
    /// the same as <c>AddLocksmith(configuration)</c> followed by <c>AddLocksmith(configure)</c>, so the delegate wins
    /// where both set a value, after a reload of the configuration too.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">As in <see cref="AddLocksmith(IServiceCollection, IConfiguration)"/>.</param>
    /// <param name="configure">Sets <see cref="LocksmithOptions"/> after the configuration is bound.</param>
    /// <returns>A builder on which the container's named locks are declared.</returns>
    public static ILocksmithBuilder AddLocksmith(this IServiceCollection services, IConfiguration configuration, Action<LocksmithOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddLocksmith(configuration);
        return services.AddLocksmith(configure);
    }

    /// <summary>Adds Locksmith with default options; see <see cref="AddLocksmith(IServiceCollection, IConfiguration)"/>.</summary>
    /// <param name="services">The services.</param>
    /// <returns>A builder on which the container's named locks are declared.</returns>
    public static ILocksmithBuilder AddLocksmith(this IServiceCollection services) => services.AddLocksmithCore(onServices: true);

    /// <param name="services">The services.</param>
    /// <param name="onServices">False for the health check's registration, which the app did not make as an <c>AddLocksmith</c> call.</param>
    internal static LocksmithBuilder AddLocksmithCore(this IServiceCollection services, bool onServices)
    {
        ArgumentNullException.ThrowIfNull(services);

        // One registry per collection: a second AddLocksmith adds to the same locks instead of registering the services twice.
        if (services.FirstOrDefault(static d => d.ServiceType == typeof(LockRegistry) && !d.IsKeyedService)?.ImplementationInstance is LockRegistry existing)
        {
            existing.AddedOnServices |= onServices;
            return new LocksmithBuilder(services, existing);
        }

        var registry = new LockRegistry(services) { AddedOnServices = onServices };
        services.AddSingleton(registry);
        services.AddOptions<LocksmithOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LocksmithOptions>, LocksmithOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILockCatalog, LockCatalog>();
        services.TryAddSingleton<LockEventTracker>();
        services.TryAddSingleton<LocksmithLog>();
        services.TryAddSingleton<ContainerInstruments>();
        services.TryAddSingleton<LockStatisticsCollector>();
        services.TryAddSingleton<StartFailure>();
        services.TryAddSingleton<RunningOptions>();
        // Once the host runs, a reload that fails binding or validation is logged and kept out instead of throwing out
        // of the configuration's change callback (transient, as the default factory it wraps).
        services.TryAddSingleton<ValidLocksmithOptions>();
        services.TryAddTransient<IOptionsFactory<LocksmithOptions>, LocksmithOptionsFactory>();
        // From the start check on, not only from the reloader's StartingAsync: services registered before AddLocksmith
        // start between the two, and a reload may land there.
        services.AddOptions<LocksmithStartCheck>()
            .Configure<IOptionsMonitor<LocksmithOptions>, ValidLocksmithOptions>(static (_, monitor, valid) => valid.StartCheckRan(monitor))
            .ValidateOnStart();
        // The reloader applies the policy through the policy service, so that is a singleton the host also starts.
        services.TryAddSingleton<LocksmithPolicyService>();

        // Both are lifecycle services: statistics and policy go in at StartingAsync, before any hosted service starts
        // (also those registered before AddLocksmith), and the policy comes out at StoppedAsync, after all have stopped.
        services.AddHostedService<LockStatisticsService>();
        // Every lock is created at start, so a factory's mistake fails the start rather than a later request.
        services.AddHostedService<LockRegistrationCheck>();
        services.AddHostedService(static provider => provider.GetRequiredService<LocksmithPolicyService>());
        services.AddHostedService<DeadlockWatchdog>();
        services.AddHostedService<ShutdownWaitReporter>();
        // Last: it listens for reloads once the policy is installed and the watchdog's loop is under way.
        services.AddHostedService<LocksmithOptionsReloader>();
        return new LocksmithBuilder(services, registry);
    }
}
