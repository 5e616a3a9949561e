using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Hosting;

/// <summary>The locks declared on one service collection: names, types, and how to read each one's state.</summary>
internal sealed class LockRegistry(IServiceCollection services)
{
    private readonly Dictionary<string, Registration> _byName = new(StringComparer.Ordinal);

    /// <summary>The collection the locks are registered in (read-only once the container is built), for the start check.</summary>
    public IServiceCollection Services { get; } = services;

    public IReadOnlyCollection<Registration> All => _byName.Values;

    /// <summary>Whether an <c>AddLocksmith(IConfiguration)</c> bound the options to configuration (else a <c>Locksmith</c> section is not read).</summary>
    public bool ReadsConfiguration { get; set; }

    /// <summary>The sections the <c>AddLocksmith(IConfiguration)</c> calls bound, to tell a misnamed one from a deliberate one.</summary>
    public List<IConfigurationSection> BoundSections { get; } = [];

    /// <summary>
    /// The change token sources the <c>AddLocksmith(IConfiguration)</c> calls registered: any other configuration source of
    /// <see cref="LocksmithOptions"/> is the app's own binding (<c>services.Configure&lt;LocksmithOptions&gt;(section)</c>).
    /// </summary>
    public List<object> OwnChangeTokenSources { get; } = [];

    /// <summary>Whether an <c>AddLocksmith</c> on the services ran, not only the health check's registration (for 14017's wording).</summary>
    public bool AddedOnServices { get; set; }

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
    /// The level of the container's lock named <paramref name="name"/> once it has been created, else of the generator's
    /// declaration of that name (<c>Namespace.Type._lock</c>, which a lock made with <c>new</c> takes with its level from
    /// the first wrapper call); null when it is unordered, not created yet, or neither; a name <c>name[key]</c> not
    /// registered as such is read as the key (or stripe) of the lock <c>name</c>. Read by event logging on the thread that
    /// hit the event, so it only reads: the dictionary is complete before the container is built.
    /// </summary>
    public int? LevelOf(string name)
    {
        if (_byName.TryGetValue(name, out var registration))
        {
            return registration.Instance?.Level;
        }

        // A key or stripe of a registered lock (name[key], as its events name it) is at that lock's level.
        int bracket = name.IndexOf('[', StringComparison.Ordinal);
        string lockName = bracket > 0 && name.EndsWith(']') ? name[..bracket] : name;
        if (!ReferenceEquals(lockName, name) && _byName.TryGetValue(lockName, out registration))
        {
            return registration.Instance?.Level;
        }

        return DeclaredLevelOf(lockName);
    }

    // Off the fast path (an event is being logged): the manifest is a small copy-on-write array, read by index so that
    // a storm of timeouts allocates no enumerators.
    private static int? DeclaredLevelOf(string name)
    {
        var entries = LockOrderManifest.Entries;
        for (int i = 0; i < entries.Count; i++)
        {
            var declaration = entries[i];
            if (name.Length == declaration.TypeName.Length + 1 + declaration.MemberName.Length &&
                name.StartsWith(declaration.TypeName, StringComparison.Ordinal) &&
                name[declaration.TypeName.Length] == '.' &&
                name.EndsWith(declaration.MemberName, StringComparison.Ordinal))
            {
                return declaration.Level;
            }
        }

        return null;
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
        /// <summary>The keyed services <c>AddLocksmith</c> added for the lock (its type's and <see cref="LockPrimitive"/>'s).</summary>
        public ServiceDescriptor[] Descriptors { get; set; } = [];

        /// <summary>The lock, once the container created it.</summary>
        public LockPrimitive? Instance
        {
            get => Volatile.Read(ref _instance);
            set => Volatile.Write(ref _instance, value);
        }

        private LockPrimitive? _instance;
    }
}
