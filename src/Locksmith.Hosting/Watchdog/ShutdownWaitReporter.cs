using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting;

/// <summary>
/// While the host stops, logs each blocked lock wait that has held the shutdown up for
/// <see cref="LocksmithOptions.ShutdownWaitThreshold"/> (<see cref="LocksmithEventIds.ShutdownWaitStuck"/>, once per
/// wait), so a service that hangs on Ctrl+C behind a lock without a deadlock cycle says which lock, whose wait, and who
/// holds it. Nothing runs, and nothing is logged, outside a stop or when the stop is clean.
/// </summary>
/// <remarks>
/// The watch begins when the host's <see cref="IHostApplicationLifetime.ApplicationStopping"/> fires, before any
/// service's <c>StoppingAsync</c> or <c>StopAsync</c> (whatever their registration order), or at this service's own
/// <see cref="StoppingAsync"/> without a lifetime, and ends at <see cref="StoppedAsync"/>, after all have stopped. It reads
/// <see cref="DeadlockDetector.CurrentWaits"/>, process-wide, as the health check does.
/// <para>
/// So every stopping host in the process sees every wait. Each wait is logged by one of them only, by the rule the
/// watchdog logs cycles by (<see cref="ReportingHosts{T}"/>): the first stopping host, in the order their stops began,
/// whose container has the lock waited for held by the wait's holder (so of two hosts of one app, the host whose instance
/// is waited for); a wait with no single holder by the first that has a lock of that name; any other wait by the host whose
/// stop began first.
/// </para>
/// <para>
/// A wait that is part of a deadlock cycle is not logged here while a watchdog runs in the process: its
/// <see cref="LocksmithEventIds.DeadlockDetected"/> line names every wait of the cycle and its holder. Once such a wait
/// has held the stop up for the threshold, the watchdogs pass at once (<see cref="DeadlockWatchdog.ScanAllNow"/>), so
/// that line comes within the stop whatever their interval.
/// </para>
/// </remarks>
internal sealed class ShutdownWaitReporter(
    RunningOptions options, LocksmithLog log, TimeProvider time, LockRegistry registry, IServiceProvider provider)
    : IHostedLifecycleService, IDisposable
{
    // The hosts whose stop is being watched, in the order their stops began.
    private static readonly ReportingHosts<ShutdownWaitReporter> s_stopping = new();

    private readonly Lock _gate = new();
    private CancellationTokenRegistration _stopping;
    private CancellationTokenSource? _end;
    private Task? _watch;

    /// <summary>How many passes the current or last watch made; tests count it.</summary>
    internal long Scans => Interlocked.Read(ref _scans);

    private long _scans;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (provider.GetService<IHostApplicationLifetime>() is { } lifetime)
        {
            _stopping.Dispose();
            _stopping = lifetime.ApplicationStopping.Register(static reporter => ((ShutdownWaitReporter)reporter!).Begin(), this);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        Begin();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (End() is { } watch)
        {
            await watch.ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        End();
    }

    private void Begin()
    {
        // Read as the stop begins: a reload during the stop is not applied (the reloader stops listening).
        var threshold = options.Current.ShutdownWaitThreshold;
        if (threshold == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        lock (_gate)
        {
            if (_end is not null)
            {
                return;
            }

            _end = new CancellationTokenSource();
            var token = _end.Token;
            long began = time.GetTimestamp();
            Interlocked.Exchange(ref _scans, 0);
            // Before any service stops, so a wait that a service's stop makes finds this host on the list.
            s_stopping.Join(this);
            // On the thread pool: ApplicationStopping's callbacks run inside the host's StopAsync.
            _watch = Task.Run(() => WatchAsync(threshold, began, token), CancellationToken.None);
        }
    }

    // Returns the watch to wait for, or null if none ran.
    private Task? End()
    {
        lock (_gate)
        {
            if (_end is not { } end)
            {
                return null;
            }

            s_stopping.Leave(this);
            end.Cancel();
            end.Dispose();
            _end = null;
            var watch = _watch;
            _watch = null;
            return watch;
        }
    }

    private async Task WatchAsync(TimeSpan threshold, long stopBegan, CancellationToken token)
    {
        // A quarter of the threshold between passes (1 ms to 1 s): a stuck wait is logged within 1.25 thresholds or 1 s more.
        var interval = TimeSpan.FromTicks(Math.Clamp(threshold.Ticks / 4, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond));
        var reported = new HashSet<(int WaiterId, string LockName, LockMode Mode)>();
        var handedOver = new HashSet<(int WaiterId, string LockName, LockMode Mode)>();
        try
        {
            using var timer = new PeriodicTimer(interval, time);
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                ScanGuarded(threshold, stopBegan, reported, handedOver);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The host has stopped.
        }
    }

    // A diagnostic must not fail the stop it reports on: a sink that throws loses its line, and the watch goes on.
    private void ScanGuarded(TimeSpan threshold, long stopBegan, HashSet<(int, string, LockMode)> reported, HashSet<(int, string, LockMode)> handedOver)
    {
        try
        {
            Scan(threshold, time.GetElapsedTime(stopBegan), reported, handedOver);
        }
        catch (Exception)
        {
            // Nowhere left to report it: the sink is what failed.
        }

        Interlocked.Increment(ref _scans);
    }

    // handedOver: the deadlocked waits the watchdogs were asked to log, each once.
    private void Scan(TimeSpan threshold, TimeSpan stopping, HashSet<(int, string, LockMode)> reported, HashSet<(int, string, LockMode)> handedOver)
    {
        if (stopping < threshold)
        {
            return;
        }

        HashSet<int>? deadlocked = null;
        bool deadlockHoldsUp = false;
        foreach (var wait in DeadlockDetector.CurrentWaits())
        {
            // A wait that began before the stop has held the stop up only since it began.
            var heldUp = wait.Waited < stopping ? wait.Waited : stopping;
            var key = (wait.WaiterId, wait.LockName, wait.Mode);

            // Not marked reported when another host logs it (should that host's stop end first, this one takes it over),
            // nor when it is a deadlock's (should the cycle break and the wait stay stuck, it is logged then).
            if (heldUp < threshold || reported.Contains(key) || !Reports(wait))
            {
                continue;
            }

            if (InCycle(wait, ref deadlocked))
            {
                deadlockHoldsUp |= handedOver.Add(key);
                continue;
            }

            reported.Add(key);
            log.ShutdownWaitStuck(wait, stopping);
        }

        // The cycle's waits were left to the watchdog's line: it comes now, not at the watchdog's next tick, which may come
        // after the host gave up on its stop. A cycle a watchdog logged already is not logged again.
        if (deadlockHoldsUp)
        {
            DeadlockWatchdog.ScanAllNow();
        }
    }

    // A running watchdog logs a deadlock's waits, with their holders, in its one DeadlockDetected line: a line of their own
    // here as well would say it twice. With no watchdog running anywhere in the process, these lines are all there is.
    private static bool InCycle(LockWaitInProgress wait, ref HashSet<int>? deadlocked)
    {
        if (DeadlockWatchdog.RunningCount == 0)
        {
            return false;
        }

        if (deadlocked is null)
        {
            deadlocked = [];
            foreach (var cycle in DeadlockDetector.FindCycles())
            {
                foreach (var edge in cycle.Edges)
                {
                    deadlocked.Add(edge.ThreadId);
                    if (edge.WaitsThrough is { } through)
                    {
                        deadlocked.Add(through);
                    }
                }
            }
        }

        return deadlocked.Contains(wait.WaiterId);
    }

    /// <summary>Whether this host is the one that logs <paramref name="wait"/> (see the remarks).</summary>
    private bool Reports(LockWaitInProgress wait) =>
        s_stopping.Reports(this, wait, static (reporter, candidate) => reporter.HoldsLockOf(candidate));

    private bool HoldsLockOf(LockWaitInProgress wait) => registry.IsHeldBy(wait.LockName, wait.HolderId, provider);
}
