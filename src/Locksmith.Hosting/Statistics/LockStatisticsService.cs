using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting;

/// <summary>
/// Starts the statistics with the host, at <see cref="StartingAsync"/> (before any hosted service starts, whatever the
/// registration order), so they hear the locks every service takes, and stops them at <see cref="StoppedAsync"/>, after
/// every service stopped; the figures stay readable.
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

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        // Not only at the container's disposal: the nesting recorder is process-wide, so a stopped host kept every
        // nested acquisition in the process recording, and its listener kept its locks' metrics on.
        collector.Stop();
        return Task.CompletedTask;
    }
}
