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

    private static async Task<(int ExitCode, string Output)> RunSampleAsync(params string[] args)
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

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {dotnet} {app}.");
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
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

        return (process.ExitCode, await stdout + await stderr);
    }
}
