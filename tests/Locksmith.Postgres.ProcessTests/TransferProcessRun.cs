using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.ProcessTests;

/// <summary>
/// One run of tests/Locksmith.Postgres.TransferProcess as a process of its own (<c>dotnet &lt;dll&gt; …</c>), its
/// output collected line by line. Every wait is bounded: past its generous limit the process is killed and the test
/// fails as a hang.
/// </summary>
internal sealed class TransferProcessRun : IDisposable
{
    /// <summary>How long a process may take before it counts as hung (far beyond a slow run of 1,000 transfers).</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(300);

    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly List<string> _errors = [];
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (string Prefix, TaskCompletionSource<string> Found)? _awaited;

    private TransferProcessRun(Process process) => _process = process;

    public int ProcessId => _process.Id;

    /// <summary>Starts <c>dotnet Locksmith.Postgres.TransferProcess.dll</c> with the arguments.</summary>
    public static TransferProcessRun Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ProgramPath());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var run = new TransferProcessRun(process);
        process.OutputDataReceived += (_, e) => run.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (run._errors)
                {
                    run._errors.Add(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Waits for an output line starting with <paramref name="prefix"/>; fails if the process ends first or hangs.</summary>
    public async Task<string> WaitForLineAsync(string prefix)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            _awaited = (prefix, found);
        }

        var first = await Task.WhenAny(found.Task, _outputClosed.Task, Task.Delay(HangLimit));
        if (first == found.Task)
        {
            return await found.Task;
        }

        bool hung = first != _outputClosed.Task;
        Kill();
        Assert.Fail($"Process {ProcessId} {(hung ? "printed no" : "ended without a")} line '{prefix}'{(hung ? $" within {HangLimit.TotalSeconds} s (a hang)" : string.Empty)}.\n{Describe()}");
        return string.Empty;
    }

    /// <summary>Waits for the process to exit; past <see cref="HangLimit"/> kills it and fails. Returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var limit = new CancellationTokenSource(HangLimit);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"Process {ProcessId} did not exit within {HangLimit.TotalSeconds} s: a hang. Killed.\n{Describe()}");
        }

        // The last lines arrive after the exit; the stream's end says they are all in.
        await _outputClosed.Task.WaitAsync(HangLimit);
        return _process.ExitCode;
    }

    /// <summary>Tells a process started with <c>--wait-for-go</c> to begin its transfers.</summary>
    public async Task GoAsync()
    {
        await _process.StandardInput.WriteLineAsync("GO");
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>The number in the process's <c>TRANSFERS n</c> line.</summary>
    public int ReportedTransfers()
    {
        lock (_output)
        {
            string? line = _output.FirstOrDefault(static l => l.StartsWith("TRANSFERS ", StringComparison.Ordinal));
            Assert.True(line is not null, "No TRANSFERS line.\n" + Describe());
            return int.Parse(line!["TRANSFERS ".Length..], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Kills the process and everything it started, and waits for it to be gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
    }

    /// <summary>Its output and errors, for failure messages.</summary>
    public string Describe()
    {
        lock (_output)
        {
            lock (_errors)
            {
                return $"stdout of {ProcessId}:\n  {string.Join("\n  ", _output)}\nstderr:\n  {string.Join("\n  ", _errors)}";
            }
        }
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // Never started, or already disposed.
        }

        _process.Dispose();
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            _outputClosed.TrySetResult();
            return;
        }

        TaskCompletionSource<string>? found = null;
        lock (_output)
        {
            _output.Add(line);
            if (_awaited is { } awaited && line.StartsWith(awaited.Prefix, StringComparison.Ordinal))
            {
                found = awaited.Found;
                _awaited = null;
            }
        }

        found?.TrySetResult(line);
    }

    /// <summary>The host that runs the tests (dotnet test sets DOTNET_HOST_PATH), else dotnet from PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>The program's dll in its own output folder: this project's bin path with the other project's name.</summary>
    private static string ProgramPath()
    {
        const string Program = "Locksmith.Postgres.TransferProcess";
        string here = AppContext.BaseDirectory;
        string path = Path.Combine(
            here.Replace("Locksmith.Postgres.ProcessTests" + Path.DirectorySeparatorChar + "bin", Program + Path.DirectorySeparatorChar + "bin", StringComparison.Ordinal),
            Program + ".dll");
        Assert.True(File.Exists(path), $"The transfer program is not built at {path} (it is built with this project).");
        return path;
    }
}
