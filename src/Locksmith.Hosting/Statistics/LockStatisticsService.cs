using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting;

/// <summary>
/// Starts the statistics with the host, at <see cref="StartingAsync"/> (before any hosted service starts, whatever the
/// registration order), so they hear the locks every service takes; the container stops them.
/// </summary>
internal sealed class LockStatisticsService(LockStatisticsCollector collector) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        collector.Start();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
