using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A lost session's <c>LostToken</c> is cancelled only after every hold on it was reported, however many finders find the
/// loss while the report is being written, and each hold is reported once.
/// </summary>
public sealed class PostgresLostLockReportOrderTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A second finder of the loss while the first one writes its lines (here the report's own log sink, which finds it
    /// again on the same thread; another thread waits for the report instead). Before, the second finder saw the report
    /// claimed, skipped it and cancelled the token at once: code watching the token ran while the first line was still being
    /// written and before the second hold's line. Now the token is cancelled after both lines, by the first finder.
    /// </summary>
    [Fact]
    public async Task ASecondFinderDuringTheReport_DoesNotCancelTheTokenBeforeEveryHoldIsReported()
    {
        string name = PostgresServer.Unique("lostorder");
        await using var provider = PostgresServer.Provider(checkInterval: TimeSpan.FromHours(1));
        var first = provider.CreateExclusiveLock(name + "_1");
        var second = provider.CreateExclusiveLock(name + "_2");
        var a = await first.AcquireAsync();
        var b = await second.AcquireAsync();
        var session = PostgresSession.OfBackend(provider.ServerIdentity, a.SessionProcessId);
        Assert.NotNull(session);

        var sink = new FindingAgainSink(session!, a);
        provider.Logger = sink;
        int linesWhenCancelled = -1;
        using (a.LostToken.Register(() => linesWhenCancelled = sink.Lines.Count))
        {
            session!.MarkLost(LossCauses.CheckFoundGone);

            Assert.True(a.IsLost);
            Assert.Equal(2, sink.Lines.Count);
            Assert.Equal(new[] { false, false }, sink.LostWhileWriting);
            Assert.Equal(2, linesWhenCancelled);
        }

        // Found once more afterwards (a release's failing unlock, the check): nothing more is reported.
        session!.MarkLost(LossCauses.UnlockFailed);
        Assert.Equal(2, sink.Lines.Count);
        Assert.Contains(sink.Lines, l => l.Contains(a.LockDescription, StringComparison.Ordinal));
        Assert.Contains(sink.Lines, l => l.Contains(b.LockDescription, StringComparison.Ordinal));
        await a.DisposeAsync().AsTask().WaitAsync(s_guard);
        await b.DisposeAsync().AsTask().WaitAsync(s_guard);
        Assert.Equal(0, provider.HeldCount);
    }

    /// <summary>Finds the loss again as it writes the first line, and notes whether the token was cancelled while it wrote.</summary>
    private sealed class FindingAgainSink(PostgresSession session, PostgresLockScope watched) : ILogger
    {
        public List<string> Lines { get; } = [];

        public List<bool> LostWhileWriting { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (Lines.Count == 0)
            {
                session.MarkLost(LossCauses.ConnectionBroke);
            }

            LostWhileWriting.Add(watched.IsLost);
            Lines.Add(formatter(state, exception));
        }
    }
}
