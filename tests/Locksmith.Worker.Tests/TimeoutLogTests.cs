using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Worker.Tests;

/// <summary>The worker's console log as <see cref="Program.BuildHost"/> writes it, with a lock wait that times out.</summary>
public sealed class TimeoutLogTests
{
    [Fact]
    public async Task Each_timed_out_thread_logs_one_line_naming_the_lock_the_holder_and_the_time_waited()
    {
        // Before, the console logger wrote each 14001 warning on two lines: "warn: Locksmith[14001]", then the message
        // indented below it, so a reader (or grep) of the log saw the lock on one line and the severity on another.
        var output = new StringWriter();
        var (consoleOut, consoleError) = (Console.Out, Console.Error);
        int failedThreads;
        Console.SetOut(output);
        Console.SetError(TextWriter.Null);
        try
        {
            var host = Program.BuildHost(["--Locksmith:DefaultTimeout=00:00:00.001", "--items", "100", "--rounds", "5"]);
            try
            {
                var queueLock = host.Services.GetRequiredKeyedService<ExclusiveLock>(WorkerRegistration.QueueLockName);
                var outcome = host.Services.GetRequiredService<WorkOutcome>();

                // Held by a named thread for the whole run: every producer's and consumer's first wait times out.
                using (HeldOnOtherThread.Hold("holder", release =>
                {
                    using var scope = queueLock.Acquire();
                    release.Wait();
                }))
                {
                    using var hang = new CancellationTokenSource(Guard.HangLimit);
                    await host.StartAsync(hang.Token);
                    await host.WaitForShutdownAsync(hang.Token);
                }

                Assert.Equal(1, outcome.ExitCode);
                failedThreads = int.Parse(System.Text.RegularExpressions.Regex.Match(outcome.Failure!, @"\((\d+) threads failed").Groups[1].Value,
                    System.Globalization.CultureInfo.InvariantCulture);
            }
            finally
            {
                // Disposing the host drains the console logger's queue.
                host.Dispose();
            }
        }
        finally
        {
            Console.SetOut(consoleOut);
            Console.SetError(consoleError);
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] timeouts = lines.Where(static l => l.Contains("[14001]", StringComparison.Ordinal)).ToArray();
        Assert.Equal(failedThreads, timeouts.Length);
        Assert.All(timeouts, static line =>
        {
            Assert.StartsWith("warn: Locksmith[14001] ", line, StringComparison.Ordinal);
            Assert.Matches(@"Lock 'work-queue' \(level 10, Exclusive\) timed out after [0-9.]+ ms for thread \d+ \('seed-worker-\d+'\); held by thread \d+ \('holder'\)", line);
        });
        // No message left on a line of its own, apart from its severity and event id.
        Assert.DoesNotContain(lines, static l => l.StartsWith("Lock 'work-queue'", StringComparison.Ordinal));
    }
}
