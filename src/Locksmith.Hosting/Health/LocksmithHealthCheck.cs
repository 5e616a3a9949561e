using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Locksmith.Hosting;

/// <summary>
/// Unhealthy while a deadlock cycle exists (read live from the detector); Degraded while a long wait (one that lasted
/// at least <see cref="LocksmithOptions.LongWaitThreshold"/>, whether granted or timed out, within
/// <see cref="LocksmithOptions.HealthWindow"/>, or one still waiting past it now), or at least
/// <see cref="LocksmithOptions.DegradedTimeoutCount"/> timeouts, fall within the window; Healthy otherwise. The result's
/// data carries the cycles, the recent and current long waits and the catalog.
/// </summary>
internal sealed class LocksmithHealthCheck(RunningOptions running, LockEventTracker tracker, ILockCatalog catalog) : IHealthCheck
{
    /// <summary>How many finished long waits, and how many still waiting, the data lists at most (the newest).</summary>
    internal const int ListedLongWaits = 20;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var cycles = DeadlockDetector.FindCycles();
        var (timeouts, longWaits, timedOutLongWaits, newest) = tracker.Recent();

        // A holder stuck without a cycle shows only here: its waiters have neither timed out nor been granted yet.
        var waiting = DeadlockDetector.CurrentWaits().Where(w => tracker.IsLong(w.Waited)).ToArray();
        var data = new Dictionary<string, object>
        {
            ["deadlocks"] = cycles.Select(static c => c.ToString()).ToArray(),
            ["timeouts"] = timeouts,
            ["longWaits"] = Listed(longWaits, newest, waiting),
            ["locks"] = catalog.Snapshot(),
        };

        if (cycles.Count > 0)
        {
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                $"{cycles.Count} deadlock cycle(s): {string.Join(" ", cycles)}",
                data: data));
        }

        // One read: a reload between two would mix its count with the window before it.
        var options = running.Current;
        int degradedAt = options.DegradedTimeoutCount;
        if (longWaits > 0 || waiting.Length > 0 || (degradedAt > 0 && timeouts >= degradedAt))
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"{longWaits} long wait(s) ({timedOutLongWaits} of them timed out) and {timeouts} timeout(s) " +
                $"within the last {options.HealthWindow}; {waiting.Length} wait(s) past the long-wait threshold still waiting.",
                data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy("No deadlock, long wait or timeout burst.", data));
    }

    // A storm of long waits (thousands within the window) would make the data, which writers and publishers serialize
    // whole, as large as the storm: the newest are listed, and a line says how many more there were (the description
    // counts them all).
    // The tracker keeps only the newest finished ones described (all of them counted).
    private static string[] Listed(int finished, IReadOnlyList<RecentLongWait> newest, IReadOnlyList<LockWaitInProgress> waiting)
    {
        var listed = new List<string>(Math.Min(newest.Count, ListedLongWaits) + Math.Min(waiting.Count, ListedLongWaits) + 2);
        if (finished > ListedLongWaits)
        {
            listed.Add($"{finished - ListedLongWaits} earlier long wait(s) within the window are not listed");
        }

        for (int i = Math.Max(0, newest.Count - ListedLongWaits); i < newest.Count; i++)
        {
            listed.Add(newest[i].ToString());
        }

        for (int i = 0; i < Math.Min(waiting.Count, ListedLongWaits); i++)
        {
            listed.Add(waiting[i] + ", still waiting");
        }

        if (waiting.Count > ListedLongWaits)
        {
            listed.Add($"{waiting.Count - ListedLongWaits} more wait(s) past the long-wait threshold still waiting are not listed");
        }

        return [.. listed];
    }
}
