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

        // Declarations the generator saw in loaded assemblies, so the order shows before those locks are created.
        var manifest = LockOrderManifest.Entries;
        if (manifest.Count > 0)
        {
            var known = new HashSet<string>(entries.Select(static e => e.Name), StringComparer.Ordinal);
            foreach (var declaration in manifest)
            {
                string name = declaration.TypeName + "." + declaration.MemberName;
                if (known.Add(name))
                {
                    entries.Add(new LockCatalogEntry(name, declaration.Kind, declaration.Level, default) { IsDeclared = true });
                }
            }
        }

        entries.Sort(static (a, b) =>
        {
            // Unordered locks come last: they are outside the global order.
            if (a.Level.HasValue != b.Level.HasValue)
            {
                return a.Level.HasValue ? -1 : 1;
            }

            int byLevel = Nullable.Compare(a.Level, b.Level);
            if (byLevel != 0)
            {
                return byLevel;
            }

            // At one level the container's own locks come before declarations.
            return a.IsDeclared != b.IsDeclared ? (a.IsDeclared ? 1 : -1) : string.CompareOrdinal(a.Name, b.Name);
        });
        return entries;
    }
}
