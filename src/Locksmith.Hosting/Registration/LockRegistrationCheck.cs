using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting;

/// <summary>
/// Creates every registered lock when the host starts, so a factory that fails (one whose lock is not named as it was
/// registered, say) fails the start naming the lock, instead of the first request that resolves it.
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
            _ = provider.GetRequiredKeyedService(registration.Type, registration.Name);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
