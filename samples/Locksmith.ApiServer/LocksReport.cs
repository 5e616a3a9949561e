using System.Collections.Generic;
using System.Linq;
using Locksmith.Hosting;

namespace Locksmith.ApiServer;

/// <summary>What <c>/locks.json</c> returns: the catalog's locks in the global order with their live state.</summary>
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
        }).ToArray();
        var declarations = entries.Where(static e => e.IsDeclared).Select(static e => new { name = e.Name, kind = e.Kind.ToString(), level = e.Level }).ToArray();
        return new { locks, declarations, edges = new List<object>() };
    }
}
