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

    // Locks made with new and registered as instances keep recording into the process-wide meter: their names, and that
    // meter's instruments, enabled only once such a lock is adopted (so a host without one leaves them as it found them).
    private readonly ConcurrentDictionary<string, bool> _processWideNames = new(StringComparer.Ordinal);
    private readonly List<Instrument> _processWideInstruments = [];
    private readonly Lock _processWideGate = new();
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
                if (!IsMeasured(instrument.Name))
                {
                    return;
                }

                if (IsOurs(instrument.Meter))
                {
                    l.EnableMeasurementEvents(instrument, this);
                }
                else if (IsProcessWide(instrument.Meter))
                {
                    lock (_processWideGate)
                    {
                        _processWideInstruments.Add(instrument);
                        if (!_processWideNames.IsEmpty)
                        {
                            l.EnableMeasurementEvents(instrument, this);
                        }
                    }
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(static (instrument, value, tags, state) => ((LockStatisticsCollector)state!).OnCount(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>(static (instrument, value, tags, state) => ((LockStatisticsCollector)state!).OnWait(instrument, value, tags));
        lock (_processWideGate)
        {
            _listener = listener;
        }

        listener.Start();
    }

    /// <summary>
    /// Counts the lock named <paramref name="name"/> from the process-wide meter too: a lock made with <c>new</c> that the
    /// container adopted as an instance records there, not into the container's meter. Another lock of that name made with
    /// <c>new</c> in the process is counted with it (a name is a lock's identity in the catalog).
    /// </summary>
    public void CountProcessWide(string name)
    {
        if (_meter is null || !_processWideNames.TryAdd(name, true))
        {
            // Without a container's meter, the process-wide one is already the one listened to.
            return;
        }

        lock (_processWideGate)
        {
            if (_listener is { } listener && _state == 1)
            {
                foreach (var instrument in _processWideInstruments)
                {
                    listener.EnableMeasurementEvents(instrument, this);
                }
            }
        }
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
        _meter is not null ? ReferenceEquals(meter, _meter) : IsProcessWide(meter);

    private static bool IsProcessWide(Meter meter) => meter.Name == LocksmithMetrics.MeterName && meter.Scope is null;

    private static bool IsMeasured(string instrument) => instrument is
        "locksmith.lock.acquisitions" or "locksmith.lock.contentions" or "locksmith.lock.timeouts" or "locksmith.lock.wait.duration";

    private void OnCount(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (FiguresOf(instrument, tags) is not { } figures)
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
        FiguresOf(instrument, tags)?.Waits.Record(seconds);

    private Figures? FiguresOf(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "lock.name" && tag.Value is string name)
            {
                if (_meter is not null && !ReferenceEquals(instrument.Meter, _meter) && !_processWideNames.ContainsKey(name))
                {
                    // The process-wide meter: only the container's locks made with new count.
                    return null;
                }

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
