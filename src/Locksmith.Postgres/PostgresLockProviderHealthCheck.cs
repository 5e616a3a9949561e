using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// The <c>locksmith-postgres</c> health check: Unhealthy (or the registration's failure status) when the provider's
/// server does not answer, refuses the provider's session (a PostgreSQL error: credentials, database, connection slots),
/// is a standby (in recovery, where the locks would exclude nothing on the primary) or the provider was disposed, Degraded while the locks hold every connection of the budget (the next flow to take a
/// distributed lock is refused), Healthy otherwise. Its data: the server, the connections in use and the budget.
/// </summary>
/// <param name="provider">The provider <c>AddPostgres</c> registered.</param>
internal sealed class PostgresLockProviderHealthCheck(PostgresLockProvider provider) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["server"] = provider.ServerIdentity,
            ["connectionsInUse"] = provider.ConnectionsInUse,
            ["connectionBudget"] = provider.ConnectionBudget,
        };

        // The check's own deadline, a little inside the registration's timeout: when that timeout ends the ping, the
        // health check service reports only "A timeout occurred while running check.", naming no server.
        TimeSpan timeout = context.Registration.Timeout;
        using var deadline = timeout > TimeSpan.Zero && timeout.TotalMilliseconds <= int.MaxValue
            ? new CancellationTokenSource(timeout - TimeSpan.FromTicks(Math.Min(timeout.Ticks / 10, TimeSpan.TicksPerMillisecond * 500)))
            : null;
        using var ping = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await provider.PingAsync(ping?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (deadline is { IsCancellationRequested: true })
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The PostgreSQL server of the distributed locks ({provider.ServerIdentity}) does not answer: the check's connection " +
                $"and SELECT 1 got no answer within its timeout ({timeout}).",
                exception,
                data);
        }
        catch (ObjectDisposedException exception) when (provider.IsDisposed)
        {
            // Not the server's fault: the provider is shut (the host stopping, or the container that owned it disposed).
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The distributed locks' provider for {provider.ServerIdentity} was disposed: it takes no more locks.",
                exception,
                data);
        }
        catch (PostgresException exception)
        {
            // The server answered and said no (credentials, a missing database, no connection slot): not a network matter.
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The PostgreSQL server of the distributed locks ({provider.ServerIdentity}) refused the provider's session: {exception.Message}",
                exception,
                data);
        }
        catch (NpgsqlException exception) when (PrimaryServer.IsStandbyRefusal(exception))
        {
            // The server answered, but is a standby: the locks would exclude nothing there.
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The PostgreSQL server of the distributed locks ({provider.ServerIdentity}) is not the primary: {exception.Message}",
                exception,
                data);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The PostgreSQL server of the distributed locks ({provider.ServerIdentity}) does not answer: {exception.Message}",
                exception,
                data);
        }

        return provider.ConnectionsInUse >= provider.ConnectionBudget
            ? HealthCheckResult.Degraded(
                $"The distributed locks hold all {provider.ConnectionBudget} connection(s) of the budget for {provider.ServerIdentity}; " +
                "the next flow to take one is refused (PostgresConnectionBudgetException).",
                data: data)
            : HealthCheckResult.Healthy($"{provider.ServerIdentity} answers; {provider.ConnectionsInUse} of {provider.ConnectionBudget} connection(s) in use.", data);
    }
}
