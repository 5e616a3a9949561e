using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Locksmith.ApiServer.MainJob;

/// <summary>
/// The main job's command line: <c>--requests N</c>, <c>--concurrency C</c>, <c>--connections K</c>, <c>--port P</c>,
/// <c>--keep-running</c>. Anything else goes to the server's configuration (e.g. <c>--ApiServer:Accounts=16</c>).
/// </summary>
internal sealed record MainJobOptions(int Requests, int Concurrency, int Connections, int Port, bool KeepRunning, string[] ServerArgs)
{
    /// <summary>Whether the command line gave <c>--port</c> (with <c>--serve</c>, the server otherwise keeps its configured URLs).</summary>
    public bool PortGiven { get; init; }

    public const int DefaultRequests = 10_000;

    // The client's sockets to the server: every request is in flight at once, but 10,000 sockets would measure the
    // kernel, not the locks. Requests beyond this wait in the client for a connection (and that wait is in p99).
    public const int DefaultConnections = 256;

    public const string Usage =
        "usage: Locksmith.ApiServer [--requests N (10000)] [--concurrency C (= N: all at once)] [--connections K (256)] " +
        "[--port P (0: any free port)] [--keep-running] [--serve (the server alone, on http://127.0.0.1:5080 unless --port P)] " +
        "[server configuration, e.g. --ApiServer:Accounts=16]";

    /// <summary>Reads <paramref name="args"/>; on a bad value returns null and says why in <paramref name="error"/>.</summary>
    public static MainJobOptions? Parse(string[] args, out string? error)
    {
        int requests = DefaultRequests, connections = DefaultConnections, port = 0;
        int? concurrency = null;
        bool keepRunning = false, portGiven = false;
        var serverArgs = new List<string>();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--requests":
                    if (!TryCount(args, ref i, 1, out requests, ref error))
                    {
                        return null;
                    }

                    break;
                case "--concurrency":
                    if (!TryCount(args, ref i, 1, out int c, ref error))
                    {
                        return null;
                    }

                    concurrency = c;
                    break;
                case "--connections":
                    if (!TryCount(args, ref i, 1, out connections, ref error))
                    {
                        return null;
                    }

                    break;
                case "--port":
                    if (!TryCount(args, ref i, 0, out port, ref error) || port > 65_535)
                    {
                        error ??= $"--port must be 0..65535, not {port}.";
                        return null;
                    }

                    portGiven = true;

                    break;
                case "--keep-running":
                    keepRunning = true;
                    break;
                case "--serve":
                    // The mode, read by Program.cs; not a configuration key.
                    break;
                default:
                    if (IsUnknownSwitch(args, i))
                    {
                        // Handed to the server's configuration it would bind to nothing, and the job would run its defaults.
                        error = $"Unknown switch '{args[i]}'.";
                        return null;
                    }

                    serverArgs.Add(args[i]);
                    break;
            }
        }

        int inFlight = Math.Min(concurrency ?? requests, requests);
        return new MainJobOptions(requests, inFlight, Math.Min(connections, inFlight), port, keepRunning, serverArgs.ToArray()) { PortGiven = portGiven };
    }

    /// <summary>
    /// A switch that is neither the job's, a configuration key (<c>--ApiServer:Accounts</c>), nor the host's own, and is
    /// not the value of the key before it (<c>--ApiServer:Seed -1</c>).
    /// </summary>
    private static bool IsUnknownSwitch(string[] args, int i)
    {
        string arg = args[i];
        if (!arg.StartsWith('-') || arg.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        string name = arg.Split('=', 2)[0];
        if (s_hostSwitches.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        string previous = i == 0 ? "" : args[i - 1];
        bool valueOfPrevious = previous.StartsWith("--", StringComparison.Ordinal)
            && !previous.Contains('=', StringComparison.Ordinal)
            && (previous.Contains(':', StringComparison.Ordinal) || s_hostSwitches.Contains(previous, StringComparer.OrdinalIgnoreCase));
        return !valueOfPrevious;
    }

    /// <summary>The generic host's and ASP.NET Core's own command-line keys (HostDefaults, WebHostDefaults).</summary>
    private static readonly string[] s_hostSwitches =
    [
        "--urls", "--environment", "--contentRoot", "--applicationName", "--webroot", "--http_ports", "--https_ports", "--https_port",
        "--detailedErrors", "--shutdownTimeoutSeconds", "--pathbase", "--hostingStartupAssemblies", "--hostingStartupExcludeAssemblies",
        "--preventHostingStartup", "--captureStartupErrors", "--suppressStatusMessages", "--server.urls", "--preferHostingUrls",
        "--startupAssembly", "--staticWebAssets",
    ];

    private static bool TryCount(string[] args, ref int i, int minimum, out int value, ref string? error)
    {
        string flag = args[i];
        if (i + 1 >= args.Length
            || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out value)
            || value < minimum)
        {
            error = $"{flag} needs a whole number of at least {minimum.ToString(CultureInfo.InvariantCulture)}.";
            value = 0;
            return false;
        }

        i++;
        return true;
    }
}
