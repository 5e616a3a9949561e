using System;
using System.Linq;
using Locksmith.Hosting;

namespace Locksmith.ApiServer;

/// <summary>
/// What <c>/locks.json</c> returns, all from the hosting catalog (<see cref="ILockCatalog"/>): the container's locks in
/// the global order (level, then name) with kind, live state and statistics; the generator's <c>[LockOrder]</c>
/// declarations; and the nestings seen at run time (outer → inner, with a count).
/// </summary>
internal static class LocksReport
{
    public static object Create(ILockCatalog catalog)
    {
        var entries = catalog.Snapshot();
        var locks = entries.Where(static e => !e.IsDeclared).Select(static e => new
        {
            name = e.Name,
            kind = e.Kind.ToString(),
            level = e.Level,
            held = e.State.IsHeld,
            holder = e.Holder,
            holderId = e.State.HolderId,
            waiting = e.State.WaitingCount,
            shared = e.State.SharedCount,
            acquisitions = e.Statistics.Acquisitions,
            contentions = e.Statistics.Contentions,
            waits = e.Statistics.Waits,
            p99WaitMs = Math.Round(e.Statistics.P99WaitMilliseconds, 3),
            maxWaitMs = Math.Round(e.Statistics.MaxWaitMilliseconds, 3),
            timeouts = e.Statistics.Timeouts,
        }).ToArray();
        var declarations = entries.Where(static e => e.IsDeclared)
            .Select(static e => new { name = e.Name, kind = e.Kind.ToString(), level = e.Level })
            .ToArray();
        var edges = catalog.NestingEdges()
            .Select(static e => new { outer = e.OuterName, outerLevel = e.OuterLevel, inner = e.InnerName, innerLevel = e.InnerLevel, count = e.Count })
            .ToArray();
        return new { generatedAt = DateTimeOffset.UtcNow, locks, declarations, edges };
    }
}
