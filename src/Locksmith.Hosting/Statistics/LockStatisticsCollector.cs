using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Listens to the container's <c>Locksmith</c> meter and keeps, per lock name, the figures of
/// <see cref="LockStatistics"/>; while started it also keeps a <see cref="LockNesting"/> recorder open. Started by
/// the host (and by the catalog), stopped when the host stops, with the container, or when the host's start failed
/// (<see cref="StartFailure"/>).
/// </summary>
internal sealed class LockStatisticsCollector : IDisposable
{
    private readonly ConcurrentDictionary<string, Figures> _byName = new(StringComparer.Ordinal);
    private readonly Meter? _meter;
    private readonly bool _enabled;
    private readonly bool _metrics;
    private MeterListener? _listener;
    private IDisposable? _nesting;
    private int _state;

    public LockStatisticsCollector(IOptions<LocksmithOptions> options, ContainerInstruments instruments)
    {
        _enabled = options.Value.StatisticsEnabled;
        _metrics = options.Value.MetricsEnabled;
        _meter = instruments.Instruments?.Meter;
    }

    /// <summary>Starts listening, once; later calls do nothing.</summary>
    public void Start()
    {
        if (!_enabled || Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            return;
        }

        _nesting = LockNesting.BeginRecording();
        if (!_metrics)
        {
            return;
        }

        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (IsOurs(instrument.Meter) && IsMeasured(instrument.Name))
                {
                    l.EnableMeasurementEvents(instrument, this);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(static (instrument, value, tags, state) => ((LockStatisticsCollector)state!).OnCount(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>(static (instrument, value, tags, state) => ((LockStatisticsCollector)state!).OnWait(instrument, value, tags));
        _listener = listener;
        listener.Start();
    }

    /// <summary>The figures of the lock named <paramref name="name"/>, plus those of its stripes (<c>name[i]</c>).</summary>
    public LockStatistics Read(string name)
    {
        long acquisitions = 0, contentions = 0, timeouts = 0;
        long[]? waits = null;
        foreach (var (key, figures) in _byName)
        {
            bool match = key.Length == name.Length
                ? string.Equals(key, name, StringComparison.Ordinal)
                : key.Length > name.Length && key[name.Length] == '[' && key.StartsWith(name, StringComparison.Ordinal);
            if (!match)
            {
                continue;
            }

            acquisitions += Interlocked.Read(ref figures.Acquisitions);
            contentions += Interlocked.Read(ref figures.Contentions);
            timeouts += Interlocked.Read(ref figures.Timeouts);
            waits ??= WaitHistogram.NewTotals();
            figures.Waits.AddTo(waits);
        }

        var (count, p99, max) = waits is null ? (0, 0, 0) : WaitHistogram.Summarize(waits);
        return new LockStatistics(acquisitions, contentions, count, p99, max, timeouts);
    }

    /// <summary>
    /// Stops listening for good (the host stopped or its start failed, or the container is disposed); the figures stay
    /// readable and a later <see cref="Start"/> does nothing.
    /// </summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _state, 2) == 1)
        {
            _listener?.Dispose();
            _nesting?.Dispose();
        }
    }

    public void Dispose() => Stop();

    // The container's own meter, or without one (no IMeterFactory) the process-wide meter its locks then record into.
    private bool IsOurs(Meter meter) =>
        _meter is not null ? ReferenceEquals(meter, _meter) : meter.Name == LocksmithMetrics.MeterName && meter.Scope is null;

    private static bool IsMeasured(string instrument) => instrument is
        "locksmith.lock.acquisitions" or "locksmith.lock.contentions" or "locksmith.lock.timeouts" or "locksmith.lock.wait.duration";

    private void OnCount(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (FiguresOf(tags) is not { } figures)
        {
            return;
        }

        switch (instrument.Name)
        {
            case "locksmith.lock.acquisitions":
                Interlocked.Add(ref figures.Acquisitions, value);
                break;
            case "locksmith.lock.contentions":
                Interlocked.Add(ref figures.Contentions, value);
                break;
            case "locksmith.lock.timeouts":
                Interlocked.Add(ref figures.Timeouts, value);
                break;
        }
    }

    private void OnWait(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        FiguresOf(tags)?.Waits.Record(seconds);

    private Figures? FiguresOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "lock.name" && tag.Value is string name)
            {
                // A lookup without allocation once the name is known; the first measurement of a lock adds it.
                return _byName.TryGetValue(name, out var figures) ? figures : _byName.GetOrAdd(name, static _ => new Figures());
            }
        }

        return null;
    }

    private sealed class Figures
    {
        public long Acquisitions;
        public long Contentions;
        public long Timeouts;
        public readonly WaitHistogram Waits = new();
    }
}
