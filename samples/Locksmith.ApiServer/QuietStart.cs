using Microsoft.Extensions.Logging;

namespace Locksmith.ApiServer;

/// <summary>
/// Keeps the host's own log of a failed start (a stack trace of, say, a taken port) off the console while the server
/// starts, because the program reports that failure in one line; once started, the host logs as usual.
/// </summary>
internal sealed class QuietStart
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    private volatile bool _started;

    /// <summary>Adds the filter; it is read on every log call, so <see cref="Started"/> takes effect at once.</summary>
    public void AttachTo(ILoggingBuilder logging) =>
        logging.AddFilter((_, category, _) => _started || category != HostCategory);

    /// <summary>The server is up: the host's messages show again.</summary>
    public void Started() => _started = true;
}
