using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace Locksmith.Postgres.Tests;

/// <summary>One log line as written: its id, level, rendered text and structured fields.</summary>
internal sealed record CapturedLine(int EventId, string EventName, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields, Exception? Exception);

/// <summary>A logger provider that keeps every line of every category, for a test to read.</summary>
internal sealed class CapturingLoggerProvider(int? throwOn = null) : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, CapturedLine Line)> _lines = new();
    private readonly int? _throwOn = throwOn;
    private int _thrown;

    /// <summary>How many lines of the <c>throwOn</c> event id the sink refused by throwing.</summary>
    public int Thrown => Volatile.Read(ref _thrown);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public CapturedLine[] Lines(string category, int eventId) =>
        [.. _lines.Where(l => l.Category == category && l.Line.EventId == eventId).Select(static l => l.Line)];

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == owner._throwOn)
            {
                Interlocked.Increment(ref owner._thrown);
                throw new InvalidOperationException("The log sink failed.");
            }

            var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(static p => p.Key, static p => p.Value)
                : new Dictionary<string, object?>();
            owner._lines.Enqueue((category, new CapturedLine(eventId.Id, eventId.Name ?? string.Empty, logLevel, formatter(state, exception), fields, exception)));
        }
    }
}

/// <summary>The measurements of one instrument of every <c>Locksmith</c> meter, with their tags and meter.</summary>
internal sealed class LostLockMeasurements : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<(long Value, Meter Meter, Dictionary<string, object?> Tags)> _seen = new();

    public LostLockMeasurements(string instrumentName)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == instrumentName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            _seen.Enqueue((value, instrument.Meter, copy));
        });
        _listener.Start();
    }

    /// <summary>The measurements tagged with one of <paramref name="lockNames"/> (other tests run beside this one).</summary>
    public (long Value, Meter Meter, Dictionary<string, object?> Tags)[] Of(params string[] lockNames) =>
        [.. _seen.Where(m => m.Tags.TryGetValue("lock.name", out var name) && lockNames.Contains(name as string))];

    public void Dispose() => _listener.Dispose();
}
