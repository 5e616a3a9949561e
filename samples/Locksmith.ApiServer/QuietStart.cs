using Microsoft.Extensions.Logging;

namespace Locksmith.ApiServer;

/// <summary>
/// Keeps the host's own log of a failed start (a stack trace of, say, a taken port) off the console while the server
/// starts, because the program reports that failure in one line; once started, the host's warnings and errors show.
/// </summary>
internal sealed class QuietStart
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    private volatile bool _started;

    /// <summary>
    /// Adds the filter, for the host's category only: a filter without a category would replace the program's own (the
    /// main job's warnings-only one), and let even Debug messages through. It is read on every log call, so
    /// <see cref="Started"/> takes effect at once; once started, the host's warnings and errors show.
    /// </summary>
    public void AttachTo(ILoggingBuilder logging) =>
        logging.AddFilter(HostCategory, level => _started && level >= LogLevel.Warning);

    /// <summary>The server is up: the host's warnings and errors show.</summary>
    public void Started() => _started = true;
}
