using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Worker.Tests;

/// <summary>The totals table comes after every log line, however late the logger writes its lines.</summary>
public sealed class ReportOrderTests
{
    [Fact]
    public async Task The_totals_table_follows_every_progress_line()
    {
        // The console logger writes on a thread of its own and drains its queue when the host is disposed. The table
        // was written by the service while the work's last progress lines ("check on one thread: round …") could still
        // be queued, and 3 runs in 10 printed one of them inside the table. This logger holds its lines until it is
        // disposed, the latest the console logger may write them, so the order is the same on every run.
        var output = new StringWriter();
        var consoleOut = Console.Out;
        int exitCode;
        Console.SetOut(output);
        try
        {
            exitCode = await Program.RunAsync(["--items", "100", "--rounds", "3", "--participants", "2", "--rows", "4", "--columns", "4"],
                static builder =>
                {
                    builder.Logging.ClearProviders();
                    // Made by the container, which disposes it with the host (an instance given to AddProvider it would not).
                    builder.Services.AddSingleton<ILoggerProvider, WrittenOnDisposeLoggerProvider>();
                }).WaitAsync(Guard.HangLimit);
        }
        finally
        {
            Console.SetOut(consoleOut);
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        int table = Array.FindIndex(lines, static l => l.StartsWith("total ", StringComparison.Ordinal));
        int lastLog = Array.FindLastIndex(lines, static l => l.StartsWith("log: ", StringComparison.Ordinal));
        Assert.True(table >= 0, $"no table:\n{output}");
        Assert.Contains(lines, static l => l.Contains("check on one thread: round 3 of 3", StringComparison.Ordinal));
        Assert.True(lastLog < table, $"a log line after the table's first line:\n{output}");
        Assert.Equal("every total is exact", lines[^1]);
    }

    [Fact]
    public async Task The_failure_line_follows_the_timeout_warnings_it_sums_up()
    {
        // README: before "the work failed: lock 'work-queue' timed out …" each thread that timed out logs its 14001
        // warning. Standard output and error captured into one writer, as a terminal shows them.
        var output = new StringWriter();
        var (consoleOut, consoleError) = (Console.Out, Console.Error);
        int exitCode;
        Console.SetOut(output);
        Console.SetError(output);
        try
        {
            exitCode = await Program.RunAsync(["--Locksmith:DefaultTimeout=00:00:00.0000001", "--items", "2000", "--rounds", "5"],
                static builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Services.AddSingleton<ILoggerProvider, WrittenOnDisposeLoggerProvider>();

                    // Started before the worker: every producer's and consumer's first wait times out, on every run
                    // (without a holder, a run with no contended wait could finish).
                    builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, QueueLockHolder>());
                }).WaitAsync(Guard.HangLimit);
        }
        finally
        {
            Console.SetOut(consoleOut);
            Console.SetError(consoleError);
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{output}");
        int failed = Array.FindIndex(lines, static l => l.StartsWith("the work failed: lock 'work-queue' timed out", StringComparison.Ordinal));
        int lastWarning = Array.FindLastIndex(lines, static l => l.StartsWith("log: Lock 'work-queue'", StringComparison.Ordinal));
        Assert.True(failed >= 0 && lastWarning >= 0, $"no failure line or no warning:\n{output}");
        Assert.True(lastWarning < failed, $"a timeout warning after the failure line:\n{output}");
        Assert.Equal(failed, lines.Length - 1);
    }

    // Holds the worker's queue lock on a thread of its own from the host's start until its stop.
    private sealed class QueueLockHolder([FromKeyedServices(WorkerRegistration.QueueLockName)] ExclusiveLock queueLock) : IHostedService
    {
        private HeldOnOtherThread? _held;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _held = HeldOnOtherThread.Hold("queue-holder", release =>
            {
                using var scope = queueLock.Acquire();
                release.Wait();
            });
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            _held?.Dispose();
            return Task.CompletedTask;
        }
    }

    // Keeps every line until it is disposed with the host's services, then writes them to the console at once.
    private sealed class WrittenOnDisposeLoggerProvider : ILoggerProvider
    {
        private readonly TextWriter _console = Console.Out;
        private readonly List<string> _lines = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
            lock (_lines)
            {
                foreach (string line in _lines)
                {
                    _console.WriteLine(line);
                }

                _lines.Clear();
            }
        }

        private sealed class Logger(WrittenOnDisposeLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (provider._lines)
                {
                    provider._lines.Add("log: " + formatter(state, exception));
                }
            }
        }
    }
}
