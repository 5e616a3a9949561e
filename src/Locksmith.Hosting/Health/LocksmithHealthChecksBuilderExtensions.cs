using System;
using System.Collections.Generic;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Locksmith's health check.</summary>
public static class LocksmithHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the <c>locksmith</c> health check: Unhealthy (or <paramref name="failureStatus"/>) while a deadlock cycle
    /// exists, Degraded while a long wait (granted or timed out within <see cref="LocksmithOptions.HealthWindow"/>, or
    /// still waiting past <see cref="LocksmithOptions.LongWaitThreshold"/>) or a burst of timeouts falls within the
    /// window, Healthy otherwise. Adds Locksmith's services if no <c>AddLocksmith</c> has, but reads no configuration:
    /// call <c>services.AddLocksmith(builder.Configuration)</c> as well to read the <c>Locksmith</c> section.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name; <c>locksmith</c> when null.</param>
    /// <param name="failureStatus">The status reported for a deadlock; Unhealthy when null.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <param name="timeout">How long the check may run before it is reported as failed; no limit when null.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The parameters are those other health check packages' registrations take, in the same order.</remarks>
    public static IHealthChecksBuilder AddLocksmith(
        this IHealthChecksBuilder builder, string? name = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        // Not AddLocksmith(): the app made no such call, and the configuration warning (14017) must not say it did.
        builder.Services.AddLocksmithCore(onServices: false);
        builder.Services.TryAddSingleton<LocksmithHealthCheck>();
        return builder.Add(new HealthCheckRegistration(
            name ?? DefaultName, static provider => provider.GetRequiredService<LocksmithHealthCheck>(), failureStatus, tags, timeout));
    }

    private const string DefaultName = "locksmith";
}
