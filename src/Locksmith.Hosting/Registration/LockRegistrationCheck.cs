using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting;

/// <summary>
/// Creates every registered lock when the host starts, so a factory that fails (one whose lock is not named as it was
/// registered, say) fails the start naming the lock, instead of the first request that resolves it; and first refuses
/// another registration of a lock's key and type, which would replace the lock or be replaced by it unseen.
/// </summary>
/// <remarks>
/// A factory is a delegate: only running it tells what it creates. It cannot run with <see cref="LocksmithOptions"/>'
/// validation, as the Postgres check does, because creating a lock binds it to the container's meter, which reads those
/// options. Each lock is a singleton, so it is created once, here, and the app resolves the same instance later.
/// </remarks>
internal sealed class LockRegistrationCheck(LockRegistry registry, IServiceProvider provider) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var registration in registry.All)
        {
            RejectOtherRegistrations(registration);
        }

        foreach (var registration in registry.All)
        {
            var resolved = (LockPrimitive)provider.GetRequiredKeyedService(registration.Type, registration.Name);
            if (!ReferenceEquals(resolved, registration.Instance))
            {
                Adopt(registration, resolved);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Throws if the collection has another keyed service of the lock's name as its type or <see cref="LockPrimitive"/>:
    /// the container resolves a key's last registration, so either the app would use a lock the catalog, metrics and
    /// watchdog never see, or the other registration would be silently ignored.
    /// </summary>
    private void RejectOtherRegistrations(LockRegistry.Registration registration)
    {
        var services = registry.Services;
        if (!services.Contains(registration.Descriptors[0]))
        {
            // AddLocksmith's registration was removed (a test host swapping the lock): what replaced it is the only
            // lock of that key, adopted below, and nothing is dropped.
            return;
        }

        int ownIndex = -1;
        for (int i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (ReferenceEquals(descriptor, registration.Descriptors[0]))
            {
                ownIndex = i;
            }
            else if (descriptor.IsKeyedService && Equals(descriptor.ServiceKey, registration.Name) &&
                     (descriptor.ServiceType == registration.Type || descriptor.ServiceType == typeof(LockPrimitive)) &&
                     Array.IndexOf(registration.Descriptors, descriptor) < 0)
            {
                // The first conflicting registration; ownIndex is set once the loop has passed AddLocksmith's.
                bool after = ownIndex >= 0;
                throw new InvalidOperationException(
                    $"Lock '{registration.Name}' is registered twice: AddLocksmith registers it as a keyed {registration.Type.Name} " +
                    $"(and LockPrimitive), and another keyed {descriptor.ServiceType.Name} registration of '{registration.Name}' ({descriptor.Lifetime}) " +
                    (after
                        ? "comes after AddLocksmith's, so it replaces it: the app would resolve a lock that Locksmith's catalog, metrics and watchdog do not see. "
                        : "comes before AddLocksmith's, which replaces it: that registration is never used. ") +
                    $"Remove the other registration and take the lock from AddLocksmith ([FromKeyedServices(\"{registration.Name}\")]); for a lock " +
                    $"your own factory makes, register it with ILocksmithBuilder.Register(\"{registration.Name}\", factory) instead.");
            }
        }
    }

    /// <summary>
    /// A lock registered in place of AddLocksmith's removed registration: checked for its name, and listed and watched as
    /// the container's lock. One the container creates (a factory or type registration) is bound to the container's
    /// meter, as the lock AddLocksmith would have created; an instance registered as is keeps its meter.
    /// </summary>
    private void Adopt(LockRegistry.Registration registration, LockPrimitive resolved)
    {
        if (resolved.Name != registration.Name)
        {
            throw new InvalidOperationException(
                $"The {registration.Type.Name} registered in place of AddLocksmith's '{registration.Name}' is named '{resolved.Name}'; " +
                $"a registered lock's name must be its key. Give the replacement the name '{registration.Name}'.");
        }

        // An instance was made with new, and records where locks made with new do: it may be shared already, outlive the
        // container (whose meter is disposed with it, which would leave it recording nowhere) or be given to other hosts.
        if (IsInstance(registration))
        {
            // Its statistics are still the catalog's: read from the process-wide meter, by its name.
            provider.GetRequiredService<LockStatisticsCollector>().CountProcessWide(registration.Name);
        }
        else if (provider.GetRequiredService<ContainerInstruments>().Instruments is { } instruments)
        {
            resolved.UseInstruments(instruments);
        }

        registration.Instance = resolved;
    }

    /// <summary>Whether the registration the container resolves for the lock (a key's last) hands out an instance made before.</summary>
    private bool IsInstance(LockRegistry.Registration registration)
    {
        var services = registry.Services;
        for (int i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.IsKeyedService && descriptor.ServiceType == registration.Type && Equals(descriptor.ServiceKey, registration.Name))
            {
                return descriptor.KeyedImplementationInstance is not null;
            }
        }

        return false;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
