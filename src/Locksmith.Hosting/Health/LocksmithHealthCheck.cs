using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Unhealthy while a deadlock cycle exists (read live from the detector); Degraded while a long wait, or at least
/// <see cref="LocksmithOptions.DegradedTimeoutCount"/> timeouts, fall within <see cref="LocksmithOptions.HealthWindow"/>;
/// Healthy otherwise. The result's data carries the cycles, the recent waits and the catalog.
/// </summary>
internal sealed class LocksmithHealthCheck(IOptions<LocksmithOptions> options, LockEventTracker tracker, ILockCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var cycles = DeadlockDetector.FindCycles();
        var (timeouts, longWaits) = tracker.Recent();
        var data = new Dictionary<string, object>
        {
            ["deadlocks"] = cycles.Select(static c => c.ToString()).ToArray(),
            ["timeouts"] = timeouts,
            ["longWaits"] = longWaits.Select(static e => $"'{e.LockName}' ({e.Mode}) waited {e.Waited.TotalMilliseconds:0.###} ms, waiter {e.ThreadId}").ToArray(),
            ["locks"] = catalog.Snapshot(),
        };

        if (cycles.Count > 0)
        {
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                $"{cycles.Count} deadlock cycle(s): {string.Join(" ", cycles)}",
                data: data));
        }

        int degradedAt = options.Value.DegradedTimeoutCount;
        if (longWaits.Count > 0 || (degradedAt > 0 && timeouts >= degradedAt))
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"{longWaits.Count} long wait(s) and {timeouts} timeout(s) within the last {options.Value.HealthWindow}.",
                data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy("No deadlock, long wait or timeout burst.", data));
    }
}
