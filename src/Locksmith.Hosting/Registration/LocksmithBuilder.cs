using System;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Hosting;

/// <summary>The builder over one service collection; its registry is shared by every <c>AddLocksmith</c> call.</summary>
internal sealed class LocksmithBuilder(IServiceCollection services, LockRegistry registry) : ILocksmithBuilder
{
    /// <summary>The registry every <c>AddLocksmith</c> call on the collection shares.</summary>
    public LockRegistry Registry => registry;

    public IServiceCollection Services { get; } = services;

    public ILocksmithBuilder Register<TLock>(string name, Func<IServiceProvider, TLock> factory, Func<TLock, LockState>? describe = null)
        where TLock : LockPrimitive
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);

        // Refused before the registry takes the name: the collection would refuse the services only after it, leaving
        // the catalog a lock the container cannot create, so every snapshot (health, a /locks page) would throw.
        if (Services.IsReadOnly)
        {
            ThrowBuilt(name);
        }

        var registration = registry.Add(name, typeof(TLock), provider =>
        {
            var lockPrimitive = provider.GetRequiredKeyedService<TLock>(name);
            return new LockCatalogEntry(lockPrimitive, describe?.Invoke(lockPrimitive) ?? default);
        });

        var own = ServiceDescriptor.KeyedSingleton<TLock>(name, (provider, _) =>
        {
            var created = factory(provider);
            if (created.Name != name)
            {
                ThrowNameMismatch(name, created.Name);
            }

            // Bound before anyone else sees the lock: it records into the container's meter from its first acquisition.
            if (provider.GetRequiredService<ContainerInstruments>().Instruments is { } instruments)
            {
                created.UseInstruments(instruments);
            }

            registration.Instance = created;
            return created;
        });
        var asPrimitive = ServiceDescriptor.KeyedSingleton<LockPrimitive>(name, static (provider, key) => (LockPrimitive)provider.GetRequiredKeyedService(typeof(TLock), key));
        Services.Add(own);
        Services.Add(asPrimitive);
        registration.Descriptors = [own, asPrimitive];
        return this;
    }

    [DoesNotReturn]
    private static void ThrowNameMismatch(string name, string createdName) =>
        throw new InvalidOperationException(
            $"The lock registered as '{name}' was created with the name '{createdName}'; a registered lock's name must be its key. " +
            $"Make the factory pass '{name}' to the lock's constructor, or register the lock as '{createdName}'.");

    [DoesNotReturn]
    private static void ThrowBuilt(string name) =>
        throw new InvalidOperationException(
            $"Lock '{name}' cannot be registered: the service collection is read-only, so the container was already built. Declare every lock before Build().");
}
