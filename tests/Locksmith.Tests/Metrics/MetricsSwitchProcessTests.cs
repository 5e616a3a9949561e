using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace Locksmith.Tests.Metrics;

/// <summary>
/// The <c>Locksmith.Metrics.IsSupported</c> switch, as a trimmed or AOT app sets it (in its runtimeconfig.json), turns
/// the recording off: tests/Locksmith.MetricsSwitchProbe runs in a process of its own (the switch is read once per
/// process), listens to the Locksmith meter, and takes locks in every recorded way (acquisitions, holds, a contended
/// wait, a timeout, an order violation). With the switch as its runtimeconfig sets it nothing is recorded; switched
/// back on, the same operations record, so the probe's listener and operations are shown to work.
/// </summary>
public sealed class MetricsSwitchProcessTests
{
    [Fact]
    public async Task TheSwitchOff_RecordsNothing_WhereTheSameOperationsRecordWithItOn()
    {
        var off = await RunProbeAsync();
        var on = await RunProbeAsync("on");

        Assert.Equal(("False", 302), (off.Supported, off.Operations));
        Assert.Equal(0, off.Measurements);
        Assert.Equal(("True", 302), (on.Supported, on.Operations));
        Assert.True(on.Measurements >= 300, $"the control run recorded {on.Measurements} measurements");
    }

    private static async Task<(string Supported, int Operations, long Measurements)> RunProbeAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ProbePath());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();

        // Bounded only so a hung probe cannot hang the run; nothing here measures time. A hung probe is ended, not left behind.
        try
        {
            await process.WaitForExitAsync().WaitAsync(Guard.HangLimit);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        Assert.True(process.ExitCode == 0, $"the probe exited with {process.ExitCode}: {await errors}");

        // "supported=False operations=302 measurements=0"
        var fields = (await output).Trim().Split(' ');
        Assert.Equal(3, fields.Length);
        return (Value(fields[0], "supported"), int.Parse(Value(fields[1], "operations"), System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(Value(fields[2], "measurements"), System.Globalization.CultureInfo.InvariantCulture));

        static string Value(string field, string key)
        {
            Assert.StartsWith(key + "=", field, StringComparison.Ordinal);
            return field[(key.Length + 1)..];
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>The probe's dll in its own output folder: this project's bin path with the probe's name.</summary>
    private static string ProbePath()
    {
        const string Probe = "Locksmith.MetricsSwitchProbe";
        string path = Path.Combine(
            AppContext.BaseDirectory.Replace("Locksmith.Tests" + Path.DirectorySeparatorChar + "bin", Probe + Path.DirectorySeparatorChar + "bin", StringComparison.Ordinal),
            Probe + ".dll");
        Assert.True(File.Exists(path), $"The probe is not built at {path} (it is built with this project).");
        return path;
    }
}
