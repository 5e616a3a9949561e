using System;
using System.Collections.Generic;
using Locksmith.Postgres;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the distributed locks' health check.</summary>
public static class PostgresHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the <c>locksmith-postgres</c> health check: Unhealthy (or <paramref name="failureStatus"/>) when the server of
    /// the provider <c>AddPostgres</c> registered does not answer a <c>SELECT 1</c> within <paramref name="timeout"/>, or when
    /// that provider was disposed (the description says which), Degraded while the distributed locks hold every connection of the budget, Healthy otherwise.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status reported when the server does not answer or the provider was disposed; Unhealthy when null.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <param name="timeout">How long the check may take; 5 seconds when null.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddLocksmithPostgres(
        this IHealthChecksBuilder builder, string name = "locksmith-postgres", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // The check's factory is a delegate the container cannot see into: without this, a host missing AddPostgres
        // started and the check failed at its first run. Checked with the health checks' options, at start, creating nothing.
        builder.Services.AddOptions<HealthCheckServiceOptions>()
            .Validate<IServiceProviderIsService>(
                static (_, services) => services.IsService(typeof(PostgresLockProvider)),
                $"The '{name}' health check (AddLocksmithPostgres) needs a PostgresLockProvider, and none is registered: call AddLocksmith().AddPostgres(connectionString) on the same services.")
            .ValidateOnStart();
        return builder.Add(new HealthCheckRegistration(
            name,
            static services => new PostgresLockProviderHealthCheck(services.GetService<PostgresLockProvider>() ?? throw new InvalidOperationException(
                "The locksmith-postgres health check needs a PostgresLockProvider: call AddLocksmith().AddPostgres(connectionString) on the same services.")),
            failureStatus,
            tags,
            timeout ?? TimeSpan.FromSeconds(5)));
    }
}
