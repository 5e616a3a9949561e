using System;
using System.Collections.Generic;
using System.Threading;

namespace Locksmith.Hosting;

/// <summary>The locks declared on one service collection: names, types, and how to read each one's state.</summary>
internal sealed class LockRegistry
{
    private readonly Dictionary<string, Registration> _byName = new(StringComparer.Ordinal);

    public IReadOnlyCollection<Registration> All => _byName.Values;

    public Registration Add(string name, Type type, Func<IServiceProvider, LockCatalogEntry> read)
    {
        if (_byName.TryGetValue(name, out var existing))
        {
            throw new InvalidOperationException(
                $"A lock named '{name}' is already registered (as {existing.Type.Name}); each lock of a container needs its own name.");
        }

        var registration = new Registration(name, type, read);
        _byName.Add(name, registration);
        return registration;
    }

    /// <summary>The container's lock registered as <paramref name="name"/>; the dictionary is complete before the container is built.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Registration registration) =>
        _byName.TryGetValue(name, out registration);

    /// <summary>
    /// The level of the container's lock named <paramref name="name"/> once it has been created; null when it is
    /// unordered, not created yet, or not the container's; a name <c>name[key]</c> not registered as such is read as the
    /// key (or stripe) of the lock <c>name</c>. Read by event logging on the thread that hit the event, so it
    /// only reads: the dictionary is complete before the container is built.
    /// </summary>
    public int? LevelOf(string name)
    {
        if (_byName.TryGetValue(name, out var registration))
        {
            return registration.Instance?.Level;
        }

        // A key or stripe of a registered lock (name[key], as its events name it) is at that lock's level.
        int bracket = name.IndexOf('[', StringComparison.Ordinal);
        return bracket > 0 && name.EndsWith(']') && _byName.TryGetValue(name[..bracket], out registration) ? registration.Instance?.Level : null;
    }

    /// <summary>
    /// Whether this container's lock named <paramref name="name"/> (or, for <c>name[key]</c>, the lock <c>name</c>) has
    /// been created and is held by <paramref name="holderId"/>: the name alone would match every host of one app. A lock
    /// that gives no holder for a key or stripe (a striped lock's stripes) matches a <c>name[key]</c> by name.
    /// </summary>
    public bool IsHeldBy(string name, int holderId, IServiceProvider provider)
    {
        int bracket = name.IndexOf('[', StringComparison.Ordinal);
        if (!_byName.TryGetValue(name, out var registration) && !(bracket > 0 && _byName.TryGetValue(name[..bracket], out registration)))
        {
            return false;
        }

        if (registration.Instance is null)
        {
            return false;
        }

        var state = registration.Read(provider).State;
        return state.HolderId == holderId || (bracket > 0 && state.HolderId == 0);
    }

    internal sealed record Registration(string Name, Type Type, Func<IServiceProvider, LockCatalogEntry> Read)
    {
        /// <summary>The lock, once the container created it.</summary>
        public LockPrimitive? Instance
        {
            get => Volatile.Read(ref _instance);
            set => Volatile.Write(ref _instance, value);
        }

        private LockPrimitive? _instance;
    }
}
