using System;
using System.Threading;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// The <see cref="LocksmithOptions"/> in force in this container: those the host started with, then each configuration
/// reload <see cref="LocksmithOptionsReloader"/> applied. The watchdog, the shutdown reporter and the health check read
/// their settings here, not from <see cref="IOptions{TOptions}"/>, which keeps the first values for the container's life.
/// </summary>
/// <remarks>
/// Each value is a copy no one changes after it is published, so a reader sees one reload's settings together.
/// </remarks>
internal sealed class RunningOptions(IOptions<LocksmithOptions> options)
{
    private LocksmithOptions? _current;

    /// <summary>Raised after <see cref="Current"/> changed, with the new value, on the thread that applied the reload.</summary>
    public event Action<LocksmithOptions>? Applied;

    /// <summary>The settings in force.</summary>
    public LocksmithOptions Current
    {
        get
        {
            if (Volatile.Read(ref _current) is { } current)
            {
                return current;
            }

            // The first read takes the values the container's IOptions holds, which the host validated at start.
            var started = options.Value;
            return Interlocked.CompareExchange(ref _current, started, null) ?? started;
        }
    }

    /// <summary>Publishes <paramref name="applied"/> as the settings in force and tells the listeners.</summary>
    public void Apply(LocksmithOptions applied)
    {
        Volatile.Write(ref _current, applied);
        Applied?.Invoke(applied);
    }
}
