using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Unhealthy while a deadlock cycle exists (read live from the detector); Degraded while a long wait (one that lasted
/// at least <see cref="LocksmithOptions.LongWaitThreshold"/>, whether granted or timed out, within
/// <see cref="LocksmithOptions.HealthWindow"/>, or one still waiting past it now), or at least
/// <see cref="LocksmithOptions.DegradedTimeoutCount"/> timeouts, fall within the window; Healthy otherwise. The result's
/// data carries the cycles, the recent and current long waits and the catalog.
/// </summary>
internal sealed class LocksmithHealthCheck(IOptions<LocksmithOptions> options, LockEventTracker tracker, ILockCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var cycles = DeadlockDetector.FindCycles();
        var (timeouts, longWaits) = tracker.Recent();

        // A holder stuck without a cycle shows only here: its waiters have neither timed out nor been granted yet.
        var waiting = DeadlockDetector.CurrentWaits().Where(w => tracker.IsLong(w.Waited)).ToArray();
        var data = new Dictionary<string, object>
        {
            ["deadlocks"] = cycles.Select(static c => c.ToString()).ToArray(),
            ["timeouts"] = timeouts,
            ["longWaits"] = longWaits.Select(static w => w.ToString()).Concat(waiting.Select(static w => w.ToString() + ", still waiting")).ToArray(),
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
        if (longWaits.Count > 0 || waiting.Length > 0 || (degradedAt > 0 && timeouts >= degradedAt))
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"{longWaits.Count} long wait(s) ({longWaits.Count(static w => w.TimedOut)} of them timed out) and {timeouts} timeout(s) " +
                $"within the last {options.Value.HealthWindow}; {waiting.Length} wait(s) past the long-wait threshold still waiting.",
                data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy("No deadlock, long wait or timeout burst.", data));
    }
}
