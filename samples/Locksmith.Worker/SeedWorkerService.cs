using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Locksmith.Worker;

/// <summary>
/// The hosted worker: runs <see cref="SeedWork"/> once on its own threads, records the outcome (the totals, or the line
/// saying why the run did not finish, which <see cref="Program"/> prints) and stops the host, so a run is bounded by its
/// counts, not by a signal.
/// </summary>
public sealed partial class SeedWorkerService(
    SeedWork work,
    IOptions<WorkerOptions> options,
    WorkOutcome outcome,
    IHostApplicationLifetime lifetime,
    ILogger<SeedWorkerService> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Off the start-up path: StartAsync returns while the work's own threads run.
            var report = await Task.Run(() => work.Run(options.Value, line => Progress(logger, line), stoppingToken), CancellationToken.None).ConfigureAwait(false);
            outcome.Finished(report);   // Program prints it, and a failure's line, once the host is disposed: see there
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            outcome.Failed("the host stopped before the work finished", "stopped before the work finished");
        }
        catch (Exception error) when (FirstTimeout(error) is { } timeout)
        {
            // A timeout is the settings' doing (Locksmith:DefaultTimeout), not a bug: one line naming the lock, as a bad
            // option gets, not the aggregate's stack traces of every thread that gave up.
            string line = TimeoutLine(error, timeout);
            outcome.Failed(line, $"the work failed: {line}");
        }
        catch (Exception error)
        {
            outcome.Failed(error.ToString(), $"the work failed: {error}");
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Progress}")]
    private static partial void Progress(ILogger logger, string progress);

    // The work's threads fail together (the first failure releases the rest), so a timeout is usually one of several.
    private static LockTimeoutException? FirstTimeout(Exception error) =>
        error is AggregateException aggregate
            ? aggregate.Flatten().InnerExceptions.OfType<LockTimeoutException>().FirstOrDefault()
            : error as LockTimeoutException;

    private static string TimeoutLine(Exception error, LockTimeoutException timeout)
    {
        string threads = error is AggregateException { InnerExceptions.Count: > 1 } aggregate
            ? $" ({aggregate.InnerExceptions.Count} threads failed; the first: {timeout.Message})"
            : $" ({timeout.Message})";
        return $"lock '{timeout.LockName}' timed out{threads} Each wait is bounded by Locksmith:DefaultTimeout: raise it, or leave it infinite.";
    }
}
