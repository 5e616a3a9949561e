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
    /// window, Healthy otherwise. Needs <c>AddLocksmith</c> on the same services.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status reported for a deadlock; Unhealthy when null.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddLocksmith(
        this IHealthChecksBuilder builder, string name = "locksmith", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        builder.Services.AddLocksmith();
        builder.Services.TryAddSingleton<LocksmithHealthCheck>();
        return builder.Add(new HealthCheckRegistration(
            name, static provider => provider.GetRequiredService<LocksmithHealthCheck>(), failureStatus, tags));
    }
}
