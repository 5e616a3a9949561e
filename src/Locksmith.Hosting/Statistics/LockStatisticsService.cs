using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting;

/// <summary>Starts the statistics with the host, before the app's own services take locks; the container stops them.</summary>
internal sealed class LockStatisticsService(LockStatisticsCollector collector) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        collector.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
