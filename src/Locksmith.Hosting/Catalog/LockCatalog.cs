using System;
using System.Collections.Generic;
using System.Linq;

namespace Locksmith.Hosting;

/// <summary>The container's <see cref="ILockCatalog"/>, reading the locks through the container that owns them.</summary>
internal sealed class LockCatalog : ILockCatalog
{
    private readonly IServiceProvider _provider;
    private readonly LockRegistry _registry;
    private readonly LockStatisticsCollector _statistics;

    public LockCatalog(IServiceProvider provider, LockRegistry registry, LockStatisticsCollector statistics)
    {
        _provider = provider;
        _registry = registry;
        _statistics = statistics;
        Names = registry.All.Select(static r => r.Name).ToArray();

        // A container used without a host (no hosted services) still gets statistics from here on.
        statistics.Start();
    }

    public IReadOnlyCollection<string> Names { get; }

    public IReadOnlyList<LockNestingEdge> NestingEdges()
    {
        var edges = new List<LockNestingEdge>();
        foreach (var registration in _registry.All)
        {
            if (registration.Instance is { } instance)
            {
                edges.AddRange(instance.GetObservedNesting());
            }
        }

        edges.Sort(static (a, b) =>
        {
            int byOuter = Nullable.Compare(a.OuterLevel, b.OuterLevel);
            if (byOuter != 0)
            {
                return byOuter;
            }

            int byName = string.CompareOrdinal(a.OuterName, b.OuterName);
            return byName != 0 ? byName : string.CompareOrdinal(a.InnerName, b.InnerName);
        });
        return edges;
    }

    public IReadOnlyList<LockCatalogEntry> Snapshot()
    {
        // Declarations the generator saw in loaded assemblies, so the order shows before those locks are created.
        var manifest = LockOrderManifest.Entries;
        var declarations = new Dictionary<string, LockOrderDeclaration>(manifest.Count, StringComparer.Ordinal);
        foreach (var declaration in manifest)
        {
            declarations.TryAdd(declaration.TypeName + "." + declaration.MemberName, declaration);
        }

        var entries = new List<LockCatalogEntry>(_registry.All.Count + manifest.Count);
        HashSet<string>? matched = null;
        foreach (var registration in _registry.All)
        {
            var entry = registration.Read(_provider);
            entry = entry with { Statistics = _statistics.Read(entry.Name) };
            if (entry.State.HolderId != 0 && registration.Instance is { } held)
            {
                // Read after the state, so it names the holder the state gave or, if that one left meanwhile, is dropped.
                entry = entry with { HolderDescription = LockCatalogEntry.DescriptionOf(entry.State, held.DescribeHolder()) };
            }

            if (registration.Instance is { DeclaredBy: not null } instance)
            {
                // Generated classes' wrappers declared this very instance (every instance of a class its own lock, or
                // one container lock that several classes receive): the entry carries each of their declarations,
                // which are then not listed apart; the first names the declaring type.
                List<string>? declarers = null;
                foreach (string member in instance.Declarers)
                {
                    if (declarations.ContainsKey(member))
                    {
                        (declarers ??= []).Add(member);
                        (matched ??= new(StringComparer.Ordinal)).Add(member);
                    }
                }

                if (declarers is not null)
                {
                    var first = declarations[declarers[0]];
                    entry = entry with { DeclaringType = first.TypeName, DeclaredMember = first.MemberName, Declarers = declarers };
                }
            }

            entries.Add(entry);
        }

        var known = new HashSet<string>(entries.Select(static e => e.Name), StringComparer.Ordinal);
        foreach (var (name, declaration) in declarations)
        {
            if (matched?.Contains(name) != true && known.Add(name))
            {
                entries.Add(new LockCatalogEntry(name, declaration.Kind, declaration.Level, default)
                {
                    IsDeclared = true,
                    DeclaringType = declaration.TypeName,
                    DeclaredMember = declaration.MemberName,
                    Declarers = [name],
                });
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
