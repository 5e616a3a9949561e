using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting;

/// <summary>
/// Runs <see cref="DeadlockDetector.FindCycles"/> every <see cref="LocksmithOptions.WatchdogInterval"/> and logs each
/// cycle once when it appears (and once when it is gone), not at every interval.
/// </summary>
/// <remarks>
/// When nothing waits the detector only walks the list of registered owners, so an idle app pays next to nothing. The
/// loop runs on the thread pool between ticks; no thread is kept. A configuration reload's interval applies at once
/// (<see cref="RunningOptions.Applied"/>): another time changes the timer's period, infinite stops the scans (the loop
/// waits without a timer, and leaves the running watchdogs), a time again starts them.
/// <para>
/// A lifecycle service, like the policy: the loop starts at <see cref="StartingAsync"/>, before any hosted service
/// starts, and ends at <see cref="StoppedAsync"/>, after all have stopped. As a plain <see cref="BackgroundService"/> it
/// started and stopped in its registration order, so a service registered before <c>AddLocksmith</c> (the worker
/// template's <c>Worker</c>) started before it and stopped after it: a deadlock in that service's start (which hangs the
/// host's start) or stop (which hangs its shutdown until <c>HostOptions.ShutdownTimeout</c>) was never reported.
/// </para>
/// <para>
/// The detector sees the whole process, so every running host's watchdog finds every cycle. Each cycle is logged by one
/// of them only (N test servers in one test process logged it N times): the first running watchdog, in start order,
/// whose container has a lock of the cycle held by the thread or flow the cycle says holds it (so among hosts of one app,
/// whose locks share names, the host whose instance is stuck); a cycle of no running host's locks (locks made with
/// <c>new</c>) by the watchdog that started first. Each watchdog works this out alone from the same facts.
/// </para>
/// </remarks>
internal sealed class DeadlockWatchdog(
    RunningOptions options, LocksmithLog log, TimeProvider time, StartFailure startFailure, LockRegistry registry, IServiceProvider provider)
    : BackgroundService, IHostedLifecycleService
{
    private static int s_running;

    // The running watchdogs, in start order.
    private static readonly ReportingHosts<DeadlockWatchdog> s_watchdogs = new();

    // Guards a pass and what it reads and writes below.
    private readonly Lock _scanGate = new();

    // Cycles reported and still present, by their canonical text (a cycle starts at its lowest owner id).
    private readonly Dictionary<string, DeadlockCycle> _reported = new(StringComparer.Ordinal);
    private long _scans;
    private long _detectedAtScan;

    // Guards the loop's current turn: the interval it runs with, its timer (null while off) and what ends the turn.
    private readonly Lock _gate = new();
    private TimeSpan _interval;
    private PeriodicTimer? _timer;
    private TaskCompletionSource? _rearm;

    // The place in the reporting order taken as the host starts (under _gate): ExecuteAsync runs on the pool since .NET 10
    // (Task.Run with the start token), so joining there could put a host started later first, or never happen when
    // the token is cancelled before the pool runs it. The loop's first turn takes the place over; a stop or dispose
    // that comes first gives it back.
    private bool _joinedAtStart;

    /// <summary>How many watchdog loops run now in this process; tests count it.</summary>
    internal static int RunningCount => Volatile.Read(ref s_running);

    /// <summary>How many scans this watchdog has made.</summary>
    internal long Scans => Interlocked.Read(ref _scans);

    /// <summary>The number of the scan (1-based, as <see cref="Scans"/> counts) that last logged a new cycle; 0 if none.</summary>
    internal long DetectedAtScan => Interlocked.Read(ref _detectedAtScan);

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Current.WatchdogInterval != Timeout.InfiniteTimeSpan)
        {
            lock (_gate)
            {
                _joinedAtStart = true;
            }

            Join();
        }

        return base.StartAsync(cancellationToken);
    }

    /// <summary>Nothing: the loop started at <see cref="StartingAsync"/>.</summary>
    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing: the loop goes on watching the other services stop, and ends at <see cref="StoppedAsync"/>.</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            LeaveIfJoinedAtStart();
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        base.Dispose();
        LeaveIfJoinedAtStart();
    }

    // The start's place, if no turn of the loop took it over: given back (the loop never ran, or the watchdog is off).
    private void LeaveIfJoinedAtStart()
    {
        if (TakeJoinedAtStart())
        {
            Leave();
        }
    }

    private bool TakeJoinedAtStart()
    {
        lock (_gate)
        {
            bool joined = _joinedAtStart;
            _joinedAtStart = false;
            return joined;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The loop also ends when the host's start failed, which the host itself does not stop it for.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, startFailure.Token);
        options.Applied += OnApplied;
        try
        {
            // One turn per interval in force: a reload that turns the watchdog off or on ends the turn (OnApplied).
            while (true)
            {
                TaskCompletionSource rearm;
                TimeSpan interval;
                lock (_gate)
                {
                    _rearm = rearm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _interval = interval = options.Current.WatchdogInterval;
                }

                if (interval == Timeout.InfiniteTimeSpan)
                {
                    LeaveIfJoinedAtStart();
                    await rearm.Task.WaitAsync(ended.Token).ConfigureAwait(false);
                }
                else
                {
                    await WatchAsync(interval, rearm.Task, ended.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The host is stopping, or its start failed.
        }
        finally
        {
            LeaveIfJoinedAtStart();
            options.Applied -= OnApplied;
            lock (_gate)
            {
                _rearm = null;
            }
        }
    }

    // Scans every interval until the host stops or a reload turns the watchdog off (rearm completes).
    private async Task WatchAsync(TimeSpan interval, Task rearm, CancellationToken ended)
    {
        Interlocked.Increment(ref s_running);
        if (!TakeJoinedAtStart())
        {
            Join();
        }

        var timer = new PeriodicTimer(interval, time);
        try
        {
            lock (_gate)
            {
                // A reload may have come between reading the interval and making the timer.
                if (rearm.IsCompleted)
                {
                    return;
                }

                _timer = timer;
            }

            do
            {
                ScanGuarded();
            }
            while (!rearm.IsCompleted && await timer.WaitForNextTickAsync(ended).ConfigureAwait(false));
        }
        finally
        {
            lock (_gate)
            {
                _timer = null;
            }

            timer.Dispose();
            Leave();
            Interlocked.Decrement(ref s_running);
        }
    }

    // A reload's new interval: another period keeps the timer (and this watchdog's place in the start order, which
    // decides who logs a cycle); off or on ends the loop's turn, so it leaves or joins the running watchdogs.
    private void OnApplied(LocksmithOptions applied)
    {
        var interval = applied.WatchdogInterval;
        PeriodicTimer? stop;
        lock (_gate)
        {
            if (_rearm is not { } rearm || interval == _interval)
            {
                return;
            }

            bool wasOn = _interval != Timeout.InfiniteTimeSpan;
            _interval = interval;
            if (wasOn && interval != Timeout.InfiniteTimeSpan && _timer is { } timer)
            {
                timer.Period = interval;
                return;
            }

            stop = _timer;
            _timer = null;
            rearm.TrySetResult();
        }

        // Outside the gate: the loop's tick wait ends (false) and it may continue on this thread.
        stop?.Dispose();
    }

    private void Join() => s_watchdogs.Join(this);

    private void Leave() => s_watchdogs.Leave(this);

    /// <summary>Whether this watchdog is in the order that decides who logs a cycle; tests read it.</summary>
    internal bool IsInReportingOrder => s_watchdogs.Contains(this);

    /// <summary>Whether this watchdog is the one that logs <paramref name="cycle"/> (see the remarks).</summary>
    /// <remarks>A cycle of no running host's locks is reported by the first started (this one, if it scans before joining the list).</remarks>
    internal bool Reports(DeadlockCycle cycle) => s_watchdogs.Reports(this, cycle, static (watchdog, found) => watchdog.HoldsLockOf(found));

    private bool HoldsLockOf(DeadlockCycle cycle)
    {
        foreach (var edge in cycle.Edges)
        {
            if (registry.IsHeldBy(edge.LockName, edge.OwnerThreadId, provider))
            {
                return true;
            }
        }

        return false;
    }

    // An exception out of ExecuteAsync stops the whole host (BackgroundServiceExceptionBehavior.StopHost, the default):
    // a diagnostic must not take the app down over one failed pass (a log sink that throws, say), so the loop goes on.
    private void ScanGuarded()
    {
        try
        {
            Scan();
        }
        catch (Exception ex)
        {
            try
            {
                log.WatchdogScanFailed(ex);
            }
            catch (Exception)
            {
                // The sink that failed the pass fails this line too; there is nowhere left to report it.
            }
        }
    }

    /// <summary>
    /// Makes every running watchdog pass now, off its timer: a stopping host asks so when a deadlock holds its stop up, since
    /// the next tick may come after the host gave up on its stop (an interval longer than <c>HostOptions.ShutdownTimeout</c>).
    /// A cycle is still logged once, by the watchdog that logs it (<see cref="Reports"/>).
    /// </summary>
    internal static void ScanAllNow()
    {
        foreach (var watchdog in s_watchdogs.Members)
        {
            watchdog.ScanGuarded();
        }
    }

    /// <summary>One pass: logs cycles that appeared and cycles that are gone since the last pass.</summary>
    /// <remarks>One pass at a time: the loop's and a stopping host's (<see cref="ScanAllNow"/>).</remarks>
    internal void Scan()
    {
        lock (_scanGate)
        {
            ScanOnce();
        }
    }

    private void ScanOnce()
    {
        var cycles = DeadlockDetector.FindCycles();
        if (cycles.Count == 0 && _reported.Count == 0)
        {
            Interlocked.Increment(ref _scans);
            return;
        }

        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cycle in cycles)
        {
            string key = cycle.ToString();
            present.Add(key);
            if (!_reported.ContainsKey(key) && Reports(cycle) && _reported.TryAdd(key, cycle))
            {
                // Scans are made one at a time (_scanGate): this one is number _scans + 1.
                Interlocked.Exchange(ref _detectedAtScan, Interlocked.Read(ref _scans) + 1);
                log.DeadlockDetected(Waiters(cycle), Locks(cycle), Steps(cycle));
            }
        }

        foreach (var (key, cycle) in _reported.ToArray())
        {
            if (!present.Contains(key))
            {
                _reported.Remove(key);
                log.DeadlockCleared(Waiters(cycle), Locks(cycle));
            }
        }

        Interlocked.Increment(ref _scans);
    }

    // Named as the exceptions and 14001-14003 name them: a flow with the thread its wait runs on (the watchdog's own
    // thread is no one's; a contended async wait keeps the thread it began on).
    internal static string Waiters(DeadlockCycle cycle) =>
        string.Join(", ", cycle.Edges.Select(static e => e.IsFlow && e.FlowThread is { } thread
            ? $"{LockCatalogEntry.OwnerText(e.ThreadId, e.ThreadName)} (on thread {thread})"
            : LockCatalogEntry.OwnerText(e.ThreadId, e.ThreadName)));

    // The cycle's steps without DeadlockCycle.ToString()'s "Deadlock: " and full stop, which the line's own words frame.
    internal static string Steps(DeadlockCycle cycle) => string.Join("; ", cycle.Edges);

    internal static string Locks(DeadlockCycle cycle) => string.Join(", ", cycle.Edges.Select(static e => $"'{e.LockName}'"));
}
