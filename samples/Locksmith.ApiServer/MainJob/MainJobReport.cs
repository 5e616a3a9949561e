using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Spectre.Console;

namespace Locksmith.ApiServer.MainJob;

/// <summary>One line of the result table: a figure, what it should be (if it has to be exact) and whether it is.</summary>
internal sealed record ReportRow(string Figure, string Value, string Expected, string Result, bool Passed = true);

/// <summary>
/// The main job's verdict: the client's counts against the server's totals. Every check is exact; the unguarded twin
/// is shown beside the guarded counter (its lost updates) but is not a check, since losing is what it is for.
/// </summary>
internal sealed class MainJobReport
{
    public const string Exact = "exact";
    public const string Pass = "PASS: every total exact";
    public const string FailPrefix = "FAIL: ";
    public const int TopLocks = 6;

    private MainJobReport(IReadOnlyList<ReportRow> rows, IReadOnlyList<LockFigures> topLocks, IReadOnlyList<string> failures)
    {
        Rows = rows;
        TopContended = topLocks;
        Failures = failures;
    }

    public IReadOnlyList<ReportRow> Rows { get; }

    public IReadOnlyList<LockFigures> TopContended { get; }

    /// <summary>The client's first failed requests, if any.</summary>
    public IReadOnlyList<string> Failures { get; }

    public bool Passed => Rows.All(static r => r.Passed);

    public static MainJobReport Create(MainJobOptions options, LoadResult load, ServerTotals totals, IReadOnlyList<LockFigures> locks)
    {
        long hits = load.SucceededOf(RequestKind.Hit);
        long limited = load.SentOf(RequestKind.Limited);
        long writes = load.SucceededOf(RequestKind.PriceWrite);
        var rows = new List<ReportRow>
        {
            new("requests", N(load.Sent.Sum()), N(options.Requests), $"{N(options.Concurrency)} in flight, {N(options.Connections)} connections",
                load.Sent.Sum() == options.Requests),
            Check("errors (other than 429)", load.Errors, 0),
            Check("429s from /limited", totals.LimiterRefused, load.Refused),
            Check("/limited allowed", totals.LimiterAllowed, limited - load.Refused),
            Check("guarded counter (/hit)", totals.GuardedHits, hits),
            new("unguarded twin (/hit)", N(totals.UnguardedHits), N(hits), totals.UnguardedHits is long u ? $"{N(hits - u)} lost updates" : "–"),
            Check("transfers", totals.Transfers, load.Transferred),
            new("transfers declined (no funds)", N(load.Declined), string.Empty, string.Empty),
            Check("total balance (conserved)", totals.TotalBalance, totals.ExpectedTotal),
            Check("pool idle at the end", totals.PoolIdle, totals.PoolSize),
            Check("pool borrows (/io)", totals.PoolBorrows, load.SucceededOf(RequestKind.Io)),
            Check("connection collisions", totals.ConnectionCollisions, 0),
            Check("price writes", totals.PriceWrites, writes),
            new("p50 latency (client)", Ms(load.LatencyMilliseconds(50)), string.Empty, string.Empty),
            new("p99 latency (client)", Ms(load.LatencyMilliseconds(99)), string.Empty, string.Empty),
            new("requests per second", N((long)(options.Requests / Math.Max(load.Elapsed.TotalSeconds, 1e-3))), string.Empty,
                $"{load.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s in all"),
        };

        var top = locks
            .OrderByDescending(static l => l.Contentions ?? -1)
            .ThenByDescending(static l => l.Waits ?? -1)
            .ThenByDescending(static l => l.Acquisitions ?? -1)
            .Take(TopLocks)
            .ToArray();
        return new MainJobReport(rows, top, load.Failures.ToArray());
    }

    /// <summary>Prints both tables and the verdict line (<see cref="Pass"/> or <see cref="FailPrefix"/> and what failed).</summary>
    public void Write(IAnsiConsole console, bool plain)
    {
        var border = plain ? TableBorder.Ascii : TableBorder.Rounded;
        var totals = new Table().Border(border).Title("Locksmith API server: the seed's load over loopback HTTP");
        totals.AddColumn("figure").AddColumn(new TableColumn("value").RightAligned()).AddColumn(new TableColumn("expected").RightAligned()).AddColumn("result");
        foreach (var row in Rows)
        {
            string result = Markup.Escape(row.Result);
            totals.AddRow(
                Markup.Escape(row.Figure),
                Markup.Escape(row.Value),
                Markup.Escape(row.Expected),
                row.Passed ? (row.Result == Exact ? $"[green]{result}[/]" : result) : $"[red]{result}[/]");
        }

        console.Write(totals);

        var locks = new Table().Border(border).Title("Top contended locks (/locks.json)");
        locks.AddColumn("lock").AddColumn(new TableColumn("level").RightAligned()).AddColumn(new TableColumn("acquisitions").RightAligned())
            .AddColumn(new TableColumn("contentions").RightAligned()).AddColumn(new TableColumn("waits").RightAligned())
            .AddColumn(new TableColumn("p99 wait (ms)").RightAligned());
        foreach (var l in TopContended)
        {
            locks.AddRow(
                Markup.Escape(l.Name),
                l.Level is int level ? level.ToString(CultureInfo.InvariantCulture) : "–",
                N(l.Acquisitions),
                N(l.Contentions),
                N(l.Waits),
                l.P99WaitMilliseconds is double p99 ? p99.ToString("0.000", CultureInfo.InvariantCulture) : "–");
        }

        console.Write(locks);
        foreach (string failure in Failures)
        {
            console.MarkupLine("[red]failed request:[/] " + Markup.Escape(failure));
        }

        if (Passed)
        {
            console.MarkupLine("[green]" + Pass + "[/]");
        }
        else
        {
            string failed = string.Join(", ", Rows.Where(static r => !r.Passed).Select(static r => r.Figure));
            console.MarkupLine("[red]" + Markup.Escape(FailPrefix + failed) + "[/]");
        }
    }

    /// <summary>Invariant, grouped: 10,000.</summary>
    public static string N(long? value) => value is long v ? v.ToString("N0", CultureInfo.InvariantCulture) : "–";

    private static string N(decimal? value) => value is decimal v ? v.ToString("#,0.##", CultureInfo.InvariantCulture) : "–";

    private static string Ms(double ms) => ms.ToString("0.00", CultureInfo.InvariantCulture) + " ms";

    private static ReportRow Check(string figure, long? actual, long? expected)
    {
        bool exact = actual is not null && actual == expected;
        return new ReportRow(figure, N(actual), N(expected), exact ? Exact : actual is null ? "missing from the server" : "WRONG", exact);
    }

    private static ReportRow Check(string figure, decimal? actual, decimal? expected)
    {
        bool exact = actual is not null && actual == expected;
        return new ReportRow(figure, N(actual), N(expected), exact ? Exact : actual is null ? "missing from the server" : "WRONG", exact);
    }

    private static ReportRow Check(string figure, int? actual, int? expected) => Check(figure, (long?)actual, expected);
}
