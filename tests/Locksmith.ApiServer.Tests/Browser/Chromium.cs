using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.ApiServer.Tests.Browser;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c> package) as a child process: a DOM dump or a screenshot of a page after
/// its scripts ran for a virtual 5 seconds. Each launch gets a fresh profile folder. A launch that has not exited
/// after <see cref="ExitPolls"/> polls is killed and fails the test.
/// </summary>
internal static class Chromium
{
    /// <summary>Set to use another binary than <see cref="DefaultPath"/>.</summary>
    public const string PathVariable = "LOCKSMITH_CHROMIUM";

    public const string DefaultPath = "/usr/bin/chromium";

    // 240 polls of half a second: generous for a 2-core machine under other builds; a normal launch takes 2-4 s.
    private const int ExitPolls = 240;
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(500);

    /// <summary>The binary, or a failed test saying how to install it (never a skip).</summary>
    public static string RequirePath()
    {
        string path = Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } custom ? custom : DefaultPath;
        if (!File.Exists(path))
        {
            Assert.Fail($"Chromium is not installed at {path}: run .ci/prerequisites (it installs Debian's chromium package), or set {PathVariable} to a Chromium binary.");
        }

        return path;
    }

    /// <summary>
    /// The page's DOM after its scripts ran (<c>--dump-dom</c>), in a 1280×900 window as the screenshot: the graph wraps a
    /// level's nodes to the window's width, and the default 800 px would wrap the seed's 8 accounts.
    /// </summary>
    public static Task<string> DumpDomAsync(Uri page) => RunAsync(["--dump-dom", "--window-size=1280,900", page.AbsoluteUri]);

    /// <summary>Saves a 1280×900 screenshot of the page to <paramref name="pngPath"/>.</summary>
    public static Task<string> ScreenshotAsync(Uri page, string pngPath) =>
        RunAsync(["--screenshot=" + pngPath, "--window-size=1280,900", page.AbsoluteUri]);

    /// <summary>
    /// Opens the page in real time (no virtual time: a virtual-time budget pauses the page's timers while a fetch is
    /// pending, which hides what the page does while an answer is slow) and kills Chromium once <paramref name="until"/>
    /// completes; a page still running after <see cref="ExitPolls"/> polls fails the test.
    /// </summary>
    public static async Task RunUntilAsync(Uri page, Task until)
    {
        string binary = RequirePath();
        var profile = Directory.CreateTempSubdirectory("locksmith-chromium-");
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };

        // A remote-debugging port keeps headless Chromium running after the page loaded, until it is killed.
        foreach (string argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=" + profile.FullName, "--remote-debugging-port=0", page.AbsoluteUri])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
            Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            Task<string> errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            Task exit = process.WaitForExitAsync(CancellationToken.None);
            for (int poll = 0; poll < ExitPolls && !until.IsCompleted && !exit.IsCompleted; poll++)
            {
                await Task.WhenAny(until, exit, Task.Delay(s_poll, CancellationToken.None));
            }

            bool exited = exit.IsCompleted;
            if (!exited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }

            string stderr = await errors;
            _ = await output;
            Assert.False(exited, $"Chromium exited with {process.ExitCode} before the page was done: {binary} {string.Join(' ', start.ArgumentList)}\n{stderr}");
            Assert.True(until.IsCompleted, $"the page was not done after {ExitPolls} polls of {s_poll.TotalMilliseconds} ms; Chromium was killed");
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A helper process may still hold a file for a moment; the temp folder is cleaned later anyway.
            }
        }
    }

    private static async Task<string> RunAsync(IReadOnlyList<string> arguments)
    {
        string binary = RequirePath();
        var profile = Directory.CreateTempSubdirectory("locksmith-chromium-");
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Root (CI containers) needs --no-sandbox; a small /dev/shm in containers needs --disable-dev-shm-usage.
        foreach (string argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=" + profile.FullName, "--virtual-time-budget=5000"])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var errors = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };
        try
        {
            process.Start();
            process.BeginErrorReadLine();
            Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            Task exit = process.WaitForExitAsync(CancellationToken.None);
            for (int poll = 0; poll < ExitPolls && !exit.IsCompleted; poll++)
            {
                await Task.WhenAny(exit, Task.Delay(s_poll, CancellationToken.None));
            }

            if (!exit.IsCompleted)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                Assert.Fail($"Chromium did not exit after {ExitPolls} polls of {s_poll.TotalMilliseconds} ms and was killed: {binary} {string.Join(' ', start.ArgumentList)}\n{Tail(errors)}");
            }

            await exit;
            string dom = await output;
            Assert.True(process.ExitCode == 0, $"Chromium exited with {process.ExitCode}: {binary} {string.Join(' ', start.ArgumentList)}\n{Tail(errors)}");
            return dom;
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A helper process may still hold a file for a moment; the temp folder is cleaned later anyway.
            }
        }
    }

    private static string Tail(StringBuilder errors)
    {
        lock (errors)
        {
            string text = errors.ToString();
            return text.Length <= 4_000 ? text : text[^4_000..];
        }
    }
}
