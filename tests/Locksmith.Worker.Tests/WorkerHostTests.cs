using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Worker.Tests;

/// <summary>The worker as it runs in production: a real generic host, started and awaited until the work stops it.</summary>
public sealed class WorkerHostTests
{
    [Fact]
    public async Task The_worker_runs_under_a_real_host_stops_it_and_every_total_is_exact()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Worker:Producers"] = "3",
            ["Worker:Consumers"] = "2",
            ["Worker:ItemsPerProducer"] = "2000",
            ["Worker:Capacity"] = "4",
            ["Worker:Participants"] = "3",
            ["Worker:Rows"] = "10",
            ["Worker:Columns"] = "16",
            ["Worker:Rounds"] = "50",
        });
        builder.Services.AddLocksmith(builder.Configuration.GetSection(LocksmithOptions.SectionName))
            .AddSeedWorker(builder.Configuration.GetSection(WorkerOptions.SectionName));
        using IHost host = builder.Build();
        var outcome = host.Services.GetRequiredService<WorkOutcome>();
        var queueLock = host.Services.GetRequiredKeyedService<ExclusiveLock>(WorkerRegistration.QueueLockName);

        // The service stops the host when the work ends; the token is only a hang guard.
        using var hang = new CancellationTokenSource(Guard.HangLimit);
        await host.StartAsync(hang.Token);
        await host.WaitForShutdownAsync(hang.Token);

        Assert.Null(outcome.Failure);
        var report = Assert.IsType<WorkReport>(outcome.Report);
        Assert.Equal(6_000, report.ItemsProduced);
        Assert.Equal(6_000, report.ItemsConsumed);
        Assert.Equal(SeedWork.ExpectedItemChecksum(3, 2000), report.ConsumedChecksum);
        Assert.Equal(report.ChecksumExpected, report.ProducedChecksum);
        Assert.InRange(report.MaxDepth, 1, 4);
        Assert.Equal(100, report.PhasesCompleted);
        Assert.Equal(MatrixPhases.ExpectedChecksum(10, 16, 50), report.MatrixChecksum);
        Assert.True(report.IsExact);
        Assert.Equal(0, outcome.ExitCode);
        // The guarded queue took the container's lock (its name and level), and nothing holds it afterwards.
        Assert.Equal((WorkerRegistration.QueueLockName, (int?)WorkerRegistration.QueueLevel), (queueLock.Name, queueLock.Level));
        Assert.False(queueLock.IsHeld);
    }

    [Fact]
    public async Task A_lock_timeout_prints_one_line_naming_the_lock_and_exits_1()
    {
        // Before, the aggregate of every thread that gave up was printed whole: about 30 lines of stack traces.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Locksmith:DefaultTimeout"] = "00:00:00.001",
            ["Worker:ItemsPerProducer"] = "100",
            ["Worker:Rounds"] = "5",
        });
        builder.Services.AddLocksmith(builder.Configuration.GetSection(LocksmithOptions.SectionName))
            .AddSeedWorker(builder.Configuration.GetSection(WorkerOptions.SectionName));
        using IHost host = builder.Build();
        var outcome = host.Services.GetRequiredService<WorkOutcome>();
        var queueLock = host.Services.GetRequiredKeyedService<ExclusiveLock>(WorkerRegistration.QueueLockName);

        // Held by another thread for the whole run: every producer's and consumer's first wait times out.
        using (var holder = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = queueLock.Acquire();
            release.Wait();
        }))
        {
            using var hang = new CancellationTokenSource(Guard.HangLimit);
            await host.StartAsync(hang.Token);
            await host.WaitForShutdownAsync(hang.Token);
            holder.Release();
        }

        // The line Program prints to standard error once the host is disposed (ReportOrderTests prints it so).
        string printed = outcome.ErrorLine ?? "";
        Assert.Equal(1, outcome.ExitCode);
        Assert.DoesNotContain('\n', printed);
        Assert.StartsWith("the work failed: lock 'work-queue' timed out", printed, StringComparison.Ordinal);
        Assert.Contains("Locksmith:DefaultTimeout", printed, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Locksmith", printed, StringComparison.Ordinal);
        Assert.Equal(printed["the work failed: ".Length..], outcome.Failure);
    }

    [Fact]
    public async Task Main_with_small_counts_returns_0()
    {
        int exitCode = await Program.Main(["--items", "500", "--capacity", "2", "--rounds", "20", "--rows", "7", "--columns", "8"]).WaitAsync(Guard.HangLimit);

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task Main_with_an_option_out_of_range_returns_1()
    {
        int exitCode = await Program.Main(["--items", "-1"]).WaitAsync(Guard.HangLimit);

        Assert.Equal(1, exitCode);
    }
}
