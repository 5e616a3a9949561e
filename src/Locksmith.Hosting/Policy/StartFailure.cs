using System;
using System.Threading;

namespace Locksmith.Hosting;

/// <summary>
/// Ends what the container's host started for Locksmith (the watchdog's loop, the statistics' listener and nesting
/// recorder) once its start is known to have failed, instead of when the host is disposed.
/// </summary>
/// <remarks>
/// The generic host neither stops nor tells the services that started when a later one fails to start, so these ran on
/// beside a retry's until the failed host was disposed: two watchdogs logging every deadlock, nesting recorded after
/// the retry stopped. The sure sign this package gets is another host taking the process-wide policy over from this one
/// before its start completed (<see cref="LocksmithPolicyService"/>): this host's start failed, or fails then.
/// </remarks>
internal sealed class StartFailure(LockStatisticsCollector statistics) : IDisposable
{
    private readonly CancellationTokenSource _failed = new();

    /// <summary>Cancelled once the host's start is known to have failed; the watchdog's loop ends with it.</summary>
    public CancellationToken Token => _failed.Token;

    /// <summary>Stops the statistics and ends the watchdog's loop; harmless if called again or after disposal.</summary>
    public void Declare()
    {
        statistics.Stop();
        try
        {
            _failed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The failed host was disposed meanwhile, which ended its loop already.
        }
    }

    public void Dispose() => _failed.Dispose();
}
