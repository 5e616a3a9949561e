using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// The instruments the container's locks record into: a <c>Locksmith</c> meter from the container's
/// <see cref="IMeterFactory"/>, so two hosts in one process never see each other's measurements, or
/// <see cref="LocksmithInstruments.Disabled"/> when <see cref="LocksmithOptions.MetricsEnabled"/> is false. Without an
/// <see cref="IMeterFactory"/> (a bare service collection with no <c>AddMetrics</c>) the locks keep the process-wide meter.
/// </summary>
internal sealed class ContainerInstruments
{
    // The factory owns the meter and disposes it with the container.
    public ContainerInstruments(IOptions<LocksmithOptions> options, IMeterFactory? meterFactory = null)
    {
        if (!options.Value.MetricsEnabled)
        {
            Instruments = LocksmithInstruments.Disabled;
        }
        else if (meterFactory is not null)
        {
            var meter = meterFactory.Create(new MeterOptions(LocksmithMetrics.MeterName)
            {
                Version = typeof(LockPrimitive).Assembly.GetName().Version?.ToString(),
            });
            Instruments = new LocksmithInstruments(meter);
        }
    }

    /// <summary>The set to bind each created lock to; null to leave it on the process-wide meter.</summary>
    public LocksmithInstruments? Instruments { get; }
}
