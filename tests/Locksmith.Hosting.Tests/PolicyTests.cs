using System;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

public sealed class PolicyTests
{
    private const string Settings = """
        { "Locksmith": { "DefaultTimeout": "00:00:03", "OrderViolationAction": "Report", "LongWaitThreshold": "00:00:01", "WatchdogInterval": "00:00:00.001" } }
        """;

    [Fact]
    public async Task A_running_host_installs_its_policy_and_restores_what_it_found_on_stop()
    {
        var ct = TestContext.Current.CancellationToken;
        Action<LockTimeoutEvent> found = static _ => { };
        LocksmithPolicy.TimeoutOccurred = found;
        try
        {
            var before = PolicySnapshot.Take();
            using var host = TestHost.Build(Settings);

            await host.StartAsync(ct);
            var running = PolicySnapshot.Take();
            await host.StopAsync(ct);

            Assert.Equal(TimeSpan.FromSeconds(3), running.DefaultTimeout);
            Assert.Equal(OrderViolationAction.Report, running.OrderViolationAction);
            Assert.Equal(TimeSpan.FromSeconds(1), running.LongWaitThreshold);
            Assert.NotNull(running.LongWaitOccurred);
            Assert.NotNull(running.OrderViolationReported);
            Assert.NotSame(found, running.TimeoutOccurred);
            Assert.Equal(before, PolicySnapshot.Take());
            Assert.Single(host.Logs(LocksmithEventIds.PolicyInstalled));
            Assert.Single(host.Logs(LocksmithEventIds.PolicyRestored));
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = null;
        }
    }

    [Fact]
    public async Task The_callbacks_found_at_start_still_run_while_the_host_runs()
    {
        var ct = TestContext.Current.CancellationToken;
        int seen = 0;
        LocksmithPolicy.TimeoutOccurred = _ => Interlocked.Increment(ref seen);
        try
        {
            using var host = TestHost.Build(locks: l => l.AddExclusiveLock("ledger"));
            var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
            await host.StartAsync(ct);
            using (HeldOnOtherThread.Hold("holder", release =>
            {
                using var scope = ledger.Acquire();
                release.Wait();
            }))
            {
                Assert.False(ledger.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
            }

            await host.StopAsync(ct);

            Assert.Equal(1, seen);
            Assert.Single(host.Logs(LocksmithEventIds.LockTimeout));
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = null;
        }
    }

    [Fact]
    public async Task A_second_host_that_would_install_the_policy_fails_to_start_and_leaves_the_first_alone()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var first = TestHost.Build(Settings);
        using var second = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": "00:00:09" } }""");
        await first.StartAsync(ct);
        var installed = PolicySnapshot.Take();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(ct));
        var afterRefusal = PolicySnapshot.Take();
        await second.StopAsync(ct);
        var afterSecondStop = PolicySnapshot.Take();
        await first.StopAsync(ct);

        Assert.Contains("already installed by another running host ('", error.Message, StringComparison.Ordinal);
        Assert.Contains("InstallProcessPolicy", error.Message, StringComparison.Ordinal);
        Assert.Equal(installed, afterRefusal);
        Assert.Equal(installed, afterSecondStop);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_host_that_does_not_install_the_policy_runs_beside_one_that_does()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var first = TestHost.Build(Settings);
        using var side = TestHost.Build("""{ "Locksmith": { "InstallProcessPolicy": false, "DefaultTimeout": "00:00:09" } }""");

        await first.StartAsync(ct);
        var installed = PolicySnapshot.Take();
        await side.StartAsync(ct);
        var withSide = PolicySnapshot.Take();
        await side.StopAsync(ct);
        var afterSide = PolicySnapshot.Take();
        await first.StopAsync(ct);

        Assert.Equal(installed, withSide);
        Assert.Equal(installed, afterSide);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_host_disposed_without_stopping_restores_the_policy()
    {
        var before = PolicySnapshot.Take();
        var host = TestHost.Build(Settings);
        await host.StartAsync(TestContext.Current.CancellationToken);

        host.Dispose();

        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Fact]
    public async Task A_hundred_start_stop_cycles_leave_no_policy_watchdog_timer_meter_or_thread_behind()
    {
        const int Cycles = 100;
        var ct = TestContext.Current.CancellationToken;
        Action<LongWaitEvent> found = static _ => { };
        LocksmithPolicy.LongWaitOccurred = found;
        try
        {
            // Container meters: each host's lock records into a Locksmith meter from its IMeterFactory, which must be
            // disposed with the host (MeasurementsCompleted fires then). The package installs no listener of its own.
            int published = 0;
            int completed = 0;
            using var listener = new MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Meter.Scope is not null)
                    {
                        Interlocked.Increment(ref published);
                        l.EnableMeasurementEvents(instrument);
                    }
                },
                MeasurementsCompleted = (_, _) => Interlocked.Increment(ref completed),
            };
            listener.Start();

            var before = PolicySnapshot.Take();
            long timersBefore = Timer.ActiveCount;
            int threadsBefore = ThreadsOutsidePool();
            int leftRunning = 0;
            int leftInstalled = 0;
            int stoppedWithoutScan = 0;
            for (int i = 0; i < Cycles; i++)
            {
                using var host = TestHost.Build(Settings, l => l.AddExclusiveLock("ledger", 1));
                await host.StartAsync(ct);
                using (host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger").Acquire())
                {
                    // Resolving and taking the lock creates the container's meter and records into it.
                }

                var watchdog = host.Watchdog();
                Guard.SpinUntil(() => watchdog.Scans >= 1);
                await host.StopAsync(ct);
                leftRunning += DeadlockWatchdog.RunningCount;
                leftInstalled += LocksmithPolicyService.ActiveCount;
                stoppedWithoutScan += watchdog.Scans >= 1 ? 0 : 1;
            }

            long timersAfter = Timer.ActiveCount;
            int threadsAfter = ThreadsOutsidePool();

            Assert.Equal(before, PolicySnapshot.Take());
            Assert.Same(found, LocksmithPolicy.LongWaitOccurred);
            Assert.Equal(0, leftRunning);
            Assert.Equal(0, leftInstalled);
            Assert.Equal(0, stoppedWithoutScan);

            // Each host's watchdog had a periodic timer: a leak would show one per cycle. The slack is for timers the
            // runtime itself may start meanwhile (the thread pool's, a GC-triggered cleanup), which are few.
            Assert.True(timersAfter - timersBefore < Cycles / 10, $"{timersAfter - timersBefore} timers more after {Cycles} cycles");

            // Every container meter was created and disposed again: none is left for a listener to see.
            Assert.True(Volatile.Read(ref published) >= Cycles, $"{published} container instruments published in {Cycles} cycles");
            Assert.Equal(Volatile.Read(ref published), Volatile.Read(ref completed));

            // The package starts no thread (the watchdog runs on the pool): a leaked one per cycle would show here; the
            // slack is for the runtime's own (tiered compilation, GC), never near one per cycle.
            Assert.True(threadsAfter - threadsBefore < Cycles / 10, $"{threadsAfter - threadsBefore} threads more after {Cycles} cycles");
        }
        finally
        {
            LocksmithPolicy.LongWaitOccurred = null;
        }
    }

    /// <summary>The process's threads other than the thread pool's (which grows and shrinks on its own).</summary>
    private static int ThreadsOutsidePool()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.Threads.Count - ThreadPool.ThreadCount;
    }

    [Fact]
    public async Task A_host_whose_start_failed_does_not_keep_the_policy_from_the_next_host()
    {
        // The generic host does not stop the services that started when a later one fails (here: a port taken), so
        // before, the failed host kept the policy until disposed and the retry was refused as a second running host.
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var failed = TestHost.Build(Settings, services: static s => s.AddHostedService<FailingToStart>());
        using var retry = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": "00:00:09" } }""");

        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.StartAsync(ct));
        await retry.StartAsync(ct);
        var running = PolicySnapshot.Take();
        failed.Dispose();
        var afterFailedDisposed = PolicySnapshot.Take();
        await retry.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(9), running.DefaultTimeout);
        Assert.Equal(running, afterFailedDisposed);
        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Fact]
    public async Task A_host_still_starting_when_another_takes_the_policy_fails_its_start_naming_it()
    {
        // Taking over from a host that never finished starting must not leave two started owners: the first fails.
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        var slow = new SlowToStart();
        using var first = TestHost.Build(Settings, services: s => s.AddHostedService(_ => slow));
        using var second = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": "00:00:09" } }""");

        var firstStart = first.StartAsync(ct);
        await slow.Entered.Task.WaitAsync(Guard.HangLimit, ct);
        await second.StartAsync(ct);
        slow.Release.SetResult();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => firstStart);
        var afterFirstFailed = PolicySnapshot.Take();
        await first.StopAsync(ct);
        var afterFirstStopped = PolicySnapshot.Take();
        await second.StopAsync(ct);

        Assert.Contains("lost Locksmith's process-wide LocksmithPolicy while it was starting", error.Message, StringComparison.Ordinal);
        Assert.Contains("InstallProcessPolicy", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(9), afterFirstFailed.DefaultTimeout);
        Assert.Equal(afterFirstFailed, afterFirstStopped);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_host_whose_start_failed_ends_its_watchdog_and_statistics_when_the_next_host_takes_the_policy_over()
    {
        // Before, the failed host's watchdog loop and nesting recorder ran on beside the retry's until the failed host
        // was disposed: two watchdogs logging every deadlock, and nesting still recorded after the retry was disposed.
        var ct = TestContext.Current.CancellationToken;
        const string WithStatistics = """{ "Locksmith": { "StatisticsEnabled": true, "WatchdogInterval": "00:00:00.001" } }""";
        bool recordingBefore = LockNesting.IsRecording;
        using var failed = TestHost.Build(WithStatistics, services: static s => s.AddHostedService<FailingToStart>());
        var retry = TestHost.Build(WithStatistics);

        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.StartAsync(ct));
        var failedWatchdog = failed.Watchdog();
        await retry.StartAsync(ct);
        bool recordingWithRetry = LockNesting.IsRecording;
        await retry.StopAsync(ct);
        retry.Dispose();
        bool recordingAfterRetry = LockNesting.IsRecording;

        Assert.False(recordingBefore);
        Assert.True(recordingWithRetry);
        Assert.False(recordingAfterRetry);

        // The failed host's loop ends (the limit is a hang guard); then no watchdog runs, the retry's having stopped.
        await failedWatchdog.ExecuteTask!.WaitAsync(Guard.HangLimit, ct);
        Assert.Equal(0, DeadlockWatchdog.RunningCount);
    }

    [Fact]
    public async Task A_host_whose_later_service_fails_in_StartedAsync_does_not_keep_the_policy_from_the_next_host()
    {
        // Locksmith's StartedAsync ran (it is registered first), but the host's start failed after it: before, that
        // confirmed the failed host as the policy's owner, and the retry was refused as a second running host.
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var failed = TestHost.Build(Settings, services: static s => s.AddHostedService<FailingWhenStarted>());
        using var retry = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": "00:00:09" } }""");

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => failed.StartAsync(ct));
        await retry.StartAsync(ct);
        var running = PolicySnapshot.Take();
        await retry.StopAsync(ct);

        Assert.Equal(FailingWhenStarted.Message, failure.Message);
        Assert.Equal(TimeSpan.FromSeconds(9), running.DefaultTimeout);
        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Fact]
    public async Task A_host_taken_over_after_its_own_StartedAsync_completes_its_start_logging_that_it_lost_the_policy()
    {
        // The one case a takeover can no longer fail: Locksmith's StartedAsync ran, a later service's was still running.
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        var slow = new SlowWhenStarted();
        using var first = TestHost.Build(Settings, services: s => s.AddHostedService(_ => slow));
        using var second = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": "00:00:09" } }""");

        var firstStart = first.StartAsync(ct);
        await slow.Entered.Task.WaitAsync(Guard.HangLimit, ct);
        await second.StartAsync(ct);
        slow.Release.SetResult();
        await firstStart;
        var afterFirstStarted = PolicySnapshot.Take();
        await first.StopAsync(ct);
        var afterFirstStopped = PolicySnapshot.Take();
        await second.StopAsync(ct);

        var lost = Assert.Single(first.Logs(LocksmithEventIds.PolicyLost));
        Assert.Contains("installed its own while this one was finishing its start", lost.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(9), afterFirstStarted.DefaultTimeout);
        Assert.Equal(afterFirstStarted, afterFirstStopped);
        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Empty(second.Logs(LocksmithEventIds.PolicyLost));
    }

    // The PolicyLost log (14012) of a host reading no configuration told it to set Locksmith:InstallProcessPolicy, a key
    // it does not read.
    [Fact]
    public async Task A_host_reading_no_configuration_that_lost_the_policy_is_told_to_set_InstallProcessPolicy_in_code()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        var slow = new SlowWhenStarted();
        using var first = BuildWithoutConfiguration(s => s.AddHostedService(_ => slow));
        using var second = BuildWithoutConfiguration(static _ => { });

        var firstStart = first.StartAsync(ct);
        await slow.Entered.Task.WaitAsync(Guard.HangLimit, ct);
        await second.StartAsync(ct);
        slow.Release.SetResult();
        await firstStart;
        await first.StopAsync(ct);
        await second.StopAsync(ct);

        var lost = Assert.Single(first.Logs(LocksmithEventIds.PolicyLost));
        Assert.DoesNotContain("Locksmith:InstallProcessPolicy", lost.Message, StringComparison.Ordinal);
        Assert.Contains("options.InstallProcessPolicy = false", lost.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    private static IHost BuildWithoutConfiguration(Action<IServiceCollection> services)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddFakeLogging();
        builder.Services.AddLocksmith();
        services(builder.Services);
        return builder.Build();
    }

    /// <summary>A lifecycle service whose StartedAsync waits until the test lets it finish.</summary>
    private sealed class SlowWhenStarted : IHostedLifecycleService
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StartedAsync(CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
        }

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A lifecycle service whose StartedAsync fails, after Locksmith's StartedAsync ran.</summary>
    private sealed class FailingWhenStarted : IHostedLifecycleService
    {
        public const string Message = "Warm-up failed.";

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => throw new InvalidOperationException(Message);

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A service whose start fails after Locksmith's StartingAsync installed the policy.</summary>
    private sealed class FailingToStart : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("Failed to bind to address.");

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A service whose start waits until the test lets it finish.</summary>
    private sealed class SlowToStart : IHostedService
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

public sealed class RegistrationOrderTests
{
    [Fact]
    public async Task A_service_registered_before_AddLocksmith_starts_runs_and_stops_under_the_policy()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = LocksmithPolicy.DefaultTimeout;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<EarlyWorker>();
        builder.Services.AddHostedService(static p => p.GetRequiredService<EarlyWorker>());
        builder.Services.AddLocksmith(static o => o.DefaultTimeout = TimeSpan.FromMilliseconds(150));
        using var host = builder.Build();
        var early = host.Services.GetRequiredService<EarlyWorker>();

        await host.StartAsync(ct);
        var executed = await early.Executed.Task.WaitAsync(Guard.HangLimit, ct);
        await host.StopAsync(ct);

        var expected = TimeSpan.FromMilliseconds(150);
        Assert.Equal(expected, early.AtStart);
        Assert.Equal(expected, executed);
        Assert.Equal(expected, early.AtStop);
        Assert.Equal(before, LocksmithPolicy.DefaultTimeout);
    }

    /// <summary>A worker-template service: registered first, reads the policy at start, in ExecuteAsync and at stop.</summary>
    private sealed class EarlyWorker : BackgroundService
    {
        public TimeSpan AtStart { get; private set; }

        public TimeSpan AtStop { get; private set; }

        public TaskCompletionSource<TimeSpan> Executed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task StartAsync(CancellationToken cancellationToken)
        {
            AtStart = LocksmithPolicy.DefaultTimeout;
            return base.StartAsync(cancellationToken);
        }

        public override Task StopAsync(CancellationToken cancellationToken)
        {
            AtStop = LocksmithPolicy.DefaultTimeout;
            return base.StopAsync(cancellationToken);
        }

        protected override Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Executed.TrySetResult(LocksmithPolicy.DefaultTimeout);
            return Task.CompletedTask;
        }
    }
}
