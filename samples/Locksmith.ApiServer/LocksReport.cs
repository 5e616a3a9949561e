using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Hosting;

namespace Locksmith.ApiServer;

/// <summary>
/// What <c>/locks.json</c> returns, all from the hosting catalog (<see cref="ILockCatalog"/>): the container's locks in
/// the global order (level, then name, numbers compared as numbers) with kind, live state, statistics and the
/// <c>[LockOrder]</c> members that declare it (once a wrapper used it: the first as <c>declaredBy</c>, all of them as
/// <c>declarers</c>, as one container lock may be given to several generated classes), and the holder both by id (<c>holder</c>:
/// <c>thread 12</c>, <c>flow #3</c>) and as the timeout log lines name it (<c>holderDescription</c>: <c>thread 12 ('worker')</c>,
/// <c>flow #3 ('GET /orders')</c>); the generator's declarations not matched to one; and the nestings seen at run time (outer → inner, with a count). A lock's <c>waiting</c> is what its kind
/// counts (the async locks' queues), or else the blocked waits under way for it (<see cref="DeadlockDetector.CurrentWaits"/>).
/// </summary>
internal static class LocksReport
{
    public static object Create(ILockCatalog catalog)
    {
        // The catalog's order (level, then name), with numbers in names read as numbers: account-2 before account-10.
        var entries = catalog.Snapshot()
            .OrderBy(static e => e.Level is null).ThenBy(static e => e.Level).ThenBy(static e => e.IsDeclared)
            .ThenBy(static e => e.Name, NaturalOrder.Instance)
            .ToArray();
        // The async locks and the semaphore count their waiters (their own queue: this lock's); for the rest (a lock
        // threads block on) count the process's waits under way by the lock instance they are for, so a same-named
        // lock of another container in this process adds nothing.
        var waitsFor = DeadlockDetector.CurrentWaits().CountBy(static w => w.LockId)
            .ToDictionary(static p => p.Key, static p => p.Value);
        var locks = entries.Where(static e => !e.IsDeclared).Select(e => new
        {
            name = e.Name,
            kind = e.Kind.ToString(),
            level = e.Level,
            held = e.State.IsHeld,
            holder = e.Holder,
            holderDescription = e.HolderDescription,
            holderId = e.State.HolderId,
            waiting = e.State.WaitingCount ?? waitsFor.GetValueOrDefault(e.LockId),
            shared = e.State.SharedCount,
            acquisitions = e.Statistics.Acquisitions,
            contentions = e.Statistics.Contentions,
            waits = e.Statistics.Waits,
            p99WaitMs = Math.Round(e.Statistics.P99WaitMilliseconds, 3),
            maxWaitMs = Math.Round(e.Statistics.MaxWaitMilliseconds, 3),
            timeouts = e.Statistics.Timeouts,
            declaredBy = e.DeclaringType is null ? null : e.DeclaringType + "." + e.DeclaredMember,
            declarers = e.Declarers,
        }).ToArray();
        var declarations = entries.Where(static e => e.IsDeclared)
            .Select(static e => new { name = e.Name, kind = e.Kind.ToString(), level = e.Level })
            .ToArray();
        var edges = catalog.NestingEdges()
            .Select(static e => new { outer = e.OuterName, outerLevel = e.OuterLevel, inner = e.InnerName, innerLevel = e.InnerLevel, count = e.Count })
            .ToArray();
        return new { generatedAt = DateTimeOffset.UtcNow, locks, declarations, edges };
    }
}

/// <summary>Orders names with their digit runs compared as numbers (<c>account-2</c> before <c>account-10</c>).</summary>
internal sealed class NaturalOrder : System.Collections.Generic.IComparer<string>
{
    public static readonly NaturalOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                int startX = i, startY = j;
                i = EndOfDigits(x, i);
                j = EndOfDigits(y, j);
                var digitsX = x.AsSpan(startX, i - startX).TrimStart('0');
                var digitsY = y.AsSpan(startY, j - startY).TrimStart('0');
                int byValue = digitsX.Length != digitsY.Length ? digitsX.Length.CompareTo(digitsY.Length) : digitsX.SequenceCompareTo(digitsY);
                if (byValue != 0)
                {
                    return byValue;
                }
            }
            else
            {
                if (x[i] != y[j])
                {
                    return x[i].CompareTo(y[j]);
                }

                i++;
                j++;
            }
        }

        int byRest = (x.Length - i).CompareTo(y.Length - j);
        return byRest != 0 ? byRest : string.CompareOrdinal(x, y);
    }

    private static int EndOfDigits(string text, int start)
    {
        while (start < text.Length && char.IsAsciiDigit(text[start]))
        {
            start++;
        }

        return start;
    }
}
