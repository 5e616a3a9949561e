using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace Locksmith.ApiServer.MainJob;

/// <summary>The server's own totals, from <c>/totals</c>; a field the server does not report is null.</summary>
internal sealed record ServerTotals(
    long? GuardedHits,
    long? UnguardedHits,
    int? Accounts,
    decimal? TotalBalance,
    decimal? ExpectedTotal,
    long? Transfers,
    int? PoolSize,
    int? PoolInUse,
    int? PoolIdle,
    long? PoolBorrows,
    long? ConnectionCollisions,
    long? LimiterAllowed,
    long? LimiterRefused,
    long? PriceWrites);

/// <summary>One lock's row of <c>/locks.json</c>; a statistic the server does not report is null.</summary>
internal sealed record LockFigures(
    string Name, int? Level, string? Kind, long? Acquisitions, long? Contentions, long? Waits, double? P99WaitMilliseconds, bool? Held);

/// <summary>
/// Every read of the server's JSON (<c>/totals</c> and <c>/locks.json</c>) in one place, and defensive: a missing or
/// differently typed field reads as null rather than failing, so the table shows "–" for it.
/// </summary>
internal static class ServerReadings
{
    public static ServerTotals ReadTotals(JsonElement totals) => new(
        Long(totals, "guardedHits"),
        Long(totals, "unguardedHits"),
        Int(totals, "accounts"),
        Decimal(totals, "totalBalance"),
        Decimal(totals, "expectedTotal"),
        Long(totals, "transfers"),
        Int(totals, "poolSize"),
        Int(totals, "poolInUse"),
        Int(totals, "poolIdle"),
        Long(totals, "poolBorrows"),
        Long(totals, "connectionCollisions"),
        Long(totals, "limiterAllowed"),
        Long(totals, "limiterRefused"),
        Long(totals, "priceWrites"));

    /// <summary>The locks of <c>/locks.json</c> (its <c>locks</c> array), in the order the server lists them.</summary>
    public static IReadOnlyList<LockFigures> ReadLocks(JsonElement report)
    {
        if (!report.TryGetProperty("locks", out var locks) || locks.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        return locks.EnumerateArray()
            .Where(static l => l.ValueKind == JsonValueKind.Object && String(l, "name") is not null)
            .Select(static l => new LockFigures(
                String(l, "name")!,
                Int(l, "level"),
                String(l, "kind"),
                Long(l, "acquisitions"),
                Long(l, "contentions"),
                Long(l, "waits"),
                Double(l, "p99WaitMs"),
                l.TryGetProperty("held", out var held) && held.ValueKind is JsonValueKind.True or JsonValueKind.False ? held.GetBoolean() : null))
            .ToArray();
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x) ? x : null;

    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x) ? x : null;

    private static double? Double(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double x) ? x : null;

    private static decimal? Decimal(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out decimal x) ? x : null;
}
