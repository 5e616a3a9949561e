using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace Locksmith.Tests.Metrics;

/// <summary>A real <see cref="MeterListener"/> on one of Locksmith's instruments, for the listener tests' probes.</summary>
internal static class LockInstrumentListener
{
    /// <summary>Starts a listener that calls <paramref name="onMeasurement"/> with the <c>lock.name</c> of each measurement <paramref name="instrument"/> records.</summary>
    public static MeterListener Start(string instrument, Action<string?> onMeasurement)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (published, l) =>
            {
                if (published.Meter.Name == LocksmithMetrics.MeterName && published.Name == instrument)
                {
                    l.EnableMeasurementEvents(published);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => onMeasurement(LockNameOf(tags)));
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) => onMeasurement(LockNameOf(tags)));
        listener.Start();
        return listener;
    }

    private static string? LockNameOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "lock.name")
            {
                return (string?)tag.Value;
            }
        }

        return null;
    }
}
