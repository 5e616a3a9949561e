using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.ApiServer.MainJob;

namespace Locksmith.ApiServer.Tests.MainJob;

/// <summary>
/// README's first command as a user runs it: the built sample in its own process with no arguments (the default
/// 10,000 requests), bounded by a hang guard, exiting 0 with every total exact.
/// </summary>
public sealed class MainJobProcessTests
{
    [Fact]
    public async Task The_built_sample_with_no_arguments_runs_ten_thousand_requests_and_exits_0()
    {
        var (exitCode, output) = await RunSampleAsync();

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Contains(MainJobReport.Pass, output, StringComparison.Ordinal);
        Assert.Contains("10,000 / 10,000 requests", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);

        // The job prints its report, not the host's chatter: its warnings-only log filter was replaced by the start's.
        Assert.DoesNotContain("dbug:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("info:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_on_a_taken_port_or_with_bad_settings_exits_2_with_one_line_and_no_stack_trace()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        string port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (portExit, portOutput) = await RunSampleAsync("--serve", "--port", port);
        var (settingsExit, settingsOutput) = await RunSampleAsync("--serve", "--port", "0", "--ApiServer:PoolSize=abc");

        Assert.True(portExit == 2, $"exit code {portExit}:\n{portOutput}");
        Assert.Contains("The server could not start: Failed to bind to address", portOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", portOutput, StringComparison.Ordinal);
        Assert.True(settingsExit == 2, $"exit code {settingsExit}:\n{settingsOutput}");
        Assert.Contains("The server's settings are invalid:", settingsOutput, StringComparison.Ordinal);
        Assert.Contains("'abc' at 'ApiServer:PoolSize'", settingsOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", settingsOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_prints_the_usage_and_exits_0()
    {
        // Before, --help was an unknown switch: the usage came after an error, with exit code 2.
        var (exitCode, output) = await RunSampleAsync("--help");

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Contains(MainJobOptions.Usage, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unknown switch", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Before, Ctrl+C and SIGTERM during the load were taken by the host's console lifetime, which stopped nothing the
    /// load watched: the job sent every request and exited 0. The signal comes once the job says its load begins.
    /// </summary>
    [Theory]
    [InlineData(Signal.Interrupt)]
    [InlineData(Signal.Terminate)]
    public async Task A_signal_during_the_load_stops_the_job_and_exits_1(Signal signal)
    {
        // Far more requests than a test could wait for: only the signal ends this run.
        var (exitCode, output) = await RunSampleAsync(signal, "--requests", "100000000");

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{output}");
        Assert.Contains("Stopped (Ctrl+C or SIGTERM) before the load finished: no totals were checked.", output, StringComparison.Ordinal);
        Assert.DoesNotContain(MainJobReport.Pass, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    /// <summary>A POSIX signal for the sample's process.</summary>
    public enum Signal
    {
        /// <summary>SIGINT, as Ctrl+C sends.</summary>
        Interrupt = 2,

        /// <summary>SIGTERM, as a service manager sends.</summary>
        Terminate = 15,
    }

    private static Task<(int ExitCode, string Output)> RunSampleAsync(params string[] args) => RunSampleAsync(null, args);

    private static async Task<(int ExitCode, string Output)> RunSampleAsync(Signal? signalOnceLoading, params string[] args)
    {
        // The referenced sample is built beside the tests; run it with the dotnet host that runs this test process.
        string app = typeof(MainJobRunner).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(app)!,
        };
        start.ArgumentList.Add(app);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
            }

            // The job's first line, written as its load begins.
            if (signalOnceLoading is { } signal && line.Data?.StartsWith("Locksmith API server on ", StringComparison.Ordinal) == true)
            {
                _ = Kill(process.Id, (int)signal);
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
            }
        };
        if (!StartWithSignalsDeliverable(process))
        {
            throw new InvalidOperationException($"Could not start {dotnet} {app}.");
        }

        // The child must not have SIGINT ignored (as a test run started in the background would give it): the Interrupt
        // case would then wait for the hang guard instead of testing the job. Read in the child, so a failure says why.
        if (signalOnceLoading == Signal.Interrupt && IgnoresSigInt(process.Id))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("The sample's process ignores SIGINT: the Interrupt case cannot reach it.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var hang = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        hang.CancelAfter(Guard.HangLimit);
        try
        {
            await process.WaitForExitAsync(hang.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Hang guard: the main job did not exit within {Guard.HangLimit}.");
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "signal")]
    private static extern nint SetSignalHandler(int signal, nint handler);

    private const nint DefaultHandler = 0;
    private const nint IgnoreHandler = 1;
    private static readonly Lock s_startGate = new();

    /// <summary>
    /// Starts the process with SIGINT deliverable: a process started in the background by a shell (a CI step run with
    /// <c>&amp;</c> or <c>nohup</c>) has SIGINT ignored, the child inherits that across exec, and .NET then installs no
    /// Ctrl+C handler. Only an ignored SIGINT is changed, and only for the start: a handler the runtime installed stays.
    /// </summary>
    private static bool StartWithSignalsDeliverable(Process process)
    {
        lock (s_startGate)
        {
            if (!IgnoresSigInt(Environment.ProcessId))
            {
                return process.Start();
            }

            SetSignalHandler((int)Signal.Interrupt, DefaultHandler);
            try
            {
                return process.Start();
            }
            finally
            {
                SetSignalHandler((int)Signal.Interrupt, IgnoreHandler);
            }
        }
    }

    /// <summary>Whether <paramref name="pid"/> ignores SIGINT (bit 1 of its <c>SigIgn</c> mask in <c>/proc/PID/status</c>).</summary>
    private static bool IgnoresSigInt(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
            {
                ulong mask = ulong.Parse(line.AsSpan("SigIgn:".Length).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                return (mask & (1UL << ((int)Signal.Interrupt - 1))) != 0;
            }
        }

        return false;
    }
}
