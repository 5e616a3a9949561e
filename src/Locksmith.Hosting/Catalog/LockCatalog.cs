using System;
using System.Collections.Generic;
using System.Linq;

namespace Locksmith.Hosting;

/// <summary>The container's <see cref="ILockCatalog"/>, reading the locks through the container that owns them.</summary>
internal sealed class LockCatalog(IServiceProvider provider, LockRegistry registry) : ILockCatalog
{
    public IReadOnlyCollection<string> Names { get; } = registry.All.Select(static r => r.Name).ToArray();

    public IReadOnlyList<LockCatalogEntry> Snapshot()
    {
        var entries = new List<LockCatalogEntry>(registry.All.Count);
        foreach (var registration in registry.All)
        {
            entries.Add(registration.Read(provider));
        }

        entries.Sort(static (a, b) =>
        {
            // Unordered locks come last: they are outside the global order.
            if (a.Level.HasValue != b.Level.HasValue)
            {
                return a.Level.HasValue ? -1 : 1;
            }

            int byLevel = Nullable.Compare(a.Level, b.Level);
            return byLevel != 0 ? byLevel : string.CompareOrdinal(a.Name, b.Name);
        });
        return entries;
    }
}
