using System;
using System.Collections.Generic;

namespace Locksmith.Hosting;

/// <summary>The locks declared on one service collection: names, types, and how to read each one's state.</summary>
internal sealed class LockRegistry
{
    private readonly Dictionary<string, Registration> _byName = new(StringComparer.Ordinal);

    public IReadOnlyCollection<Registration> All => _byName.Values;

    public void Add(string name, Type type, Func<IServiceProvider, LockCatalogEntry> read)
    {
        if (_byName.TryGetValue(name, out var existing))
        {
            throw new InvalidOperationException(
                $"A lock named '{name}' is already registered (as {existing.Type.Name}); each lock of a container needs its own name.");
        }

        _byName.Add(name, new Registration(name, type, read));
    }

    internal sealed record Registration(string Name, Type Type, Func<IServiceProvider, LockCatalogEntry> Read);
}
