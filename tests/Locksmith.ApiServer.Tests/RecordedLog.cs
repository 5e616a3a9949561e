using System;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Locksmith.ApiServer.Tests;

/// <summary>A logger provider that keeps each entry's category, level and message, for tests of what the server logs.</summary>
internal sealed class RecordedLog : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
