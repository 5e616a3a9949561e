using System;
using Locksmith.Testing.Scenarios.Subjects;

namespace Locksmith.Testing.Scenarios;

/// <summary>
/// Check-then-act across two guarded calls: <c>if (cache.Find(k) is null) cache.Set(k, v)</c> holds the lock for each
/// call but not between them, so two flows can both see "absent" and both write. Each call is correct on its own; the
/// pair is not. The fix does both under one lock (a guarded <c>GetOrAdd</c> core).
/// </summary>
public sealed class CheckThenActTests
{
    private const string Key = "EURUSD";

    /// <summary>Two pricers serve the quote for one key, computing and storing it if it is missing.</summary>
    private static void Pricers(Scenario scenario, bool atomic)
    {
        var cache = new QuoteCache();
        var served = new string?[2];
        for (int p = 0; p < served.Length; p++)
        {
            int pricer = p;
            string mine = $"quote from pricer {pricer}";
            scenario.Thread($"pricer{pricer}", () =>
            {
                if (atomic)
                {
                    served[pricer] = cache.GetOrAdd(Key, mine);
                    return;
                }

                // Broken: another pricer may store its quote between the Find and the Set.
                string? quote = cache.Find(Key);
                if (quote is null)
                {
                    quote = mine;
                    cache.Set(Key, quote);
                }

                served[pricer] = quote;
            });
        }

        scenario.Finally(() =>
        {
            Assert.Equal(0, cache.Overwrites());
            Assert.Equal(served[0], served[1]);
        });
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("random", 17)]
    [InlineData("random", 2026)]
    [InlineData("pct2", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct2", 2026)]
    public void FindThenSetIsFoundAsAnOverwrite(string strategy, int seed)
    {
        var report = Hunt.MustFind(s => Pricers(s, atomic: false), strategy, seed, ControlledFailureKind.Assertion);

        Assert.IsType<Xunit.Sdk.EqualException>(report.Exception);
        Assert.Null(report.Flow);

        // The trace names the lock (the generated wrapper declares it as the field it guards with) and both pricers'
        // calls on it: the interleaving is readable from the report alone.
        string lockName = report.Trace[Nth(report, "pricer0", "acquire", 0)].Target;
        Assert.EndsWith("QuoteCache._lock", lockName, StringComparison.Ordinal);
        Assert.Equal(2, Count(report, "pricer0", "acquire", lockName));
        Assert.Equal(2, Count(report, "pricer1", "acquire", lockName));
        Assert.Equal(2, Count(report, "pricer0", "release", lockName));
        Assert.Equal(2, Count(report, "pricer1", "release", lockName));

        // Both checks ran before the other's write: under one exclusive lock, a Find that ended (released) before a Set
        // ended ran wholly before it.
        Assert.True(Nth(report, "pricer0", "release", 0) < Nth(report, "pricer1", "release", 1), report.ToString());
        Assert.True(Nth(report, "pricer1", "release", 0) < Nth(report, "pricer0", "release", 1), report.ToString());
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void GetOrAddUnderOneLockIsNotFlagged(string strategy, int seed) =>
        Hunt.MustPass(s => Pricers(s, atomic: true), strategy, seed);

    /// <summary>The same race between two async flows, through the generated async wrappers of an <see cref="AsyncExclusiveLock"/>.</summary>
    private static void AsyncPricers(Scenario scenario, bool atomic)
    {
        var cache = new AsyncQuoteCache();
        var served = new string?[2];
        for (int p = 0; p < served.Length; p++)
        {
            int pricer = p;
            string mine = $"quote from pricer {pricer}";
            scenario.Flow($"pricer{pricer}", async () =>
            {
                if (atomic)
                {
                    served[pricer] = await cache.GetOrAddAsync(Key, mine);
                }
                else
                {
                    // Broken: the same check-then-act, across two awaited calls.
                    string? quote = await cache.FindAsync(Key);
                    if (quote is null)
                    {
                        quote = mine;
                        await cache.SetAsync(Key, quote);
                    }

                    served[pricer] = quote;
                }
            });
        }

        scenario.Finally(() =>
        {
            // The checks run on the test thread after the flows, outside the scheduler: the lock is free.
            Assert.Equal(0, cache.OverwritesAsync().GetAwaiter().GetResult());
            Assert.Equal(served[0], served[1]);
        });
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void FindThenSetAcrossAwaitsIsFound(string strategy, int seed)
    {
        var report = Hunt.MustFind(s => AsyncPricers(s, atomic: false), strategy, seed, ControlledFailureKind.Assertion);

        Assert.Contains(report.Trace, e => e is { Flow: "pricer0", Operation: "acquire", Target: "quotes.async" });
        Assert.Contains(report.Trace, e => e is { Flow: "pricer1", Operation: "release", Target: "quotes.async" });
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct3", 2026)]
    public void AsyncGetOrAddIsNotFlagged(string strategy, int seed) =>
        Hunt.MustPass(s => AsyncPricers(s, atomic: true), strategy, seed);

    private static int Count(ControlledTestReport report, string flow, string operation, string target)
    {
        int count = 0;
        foreach (var entry in report.Trace)
        {
            if (entry.Flow == flow && entry.Operation == operation && entry.Target == target)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The index in the trace of the flow's <paramref name="n"/>-th (0-based) such operation.</summary>
    private static int Nth(ControlledTestReport report, string flow, string operation, int n)
    {
        for (int i = 0; i < report.Trace.Count; i++)
        {
            if (report.Trace[i].Flow == flow && report.Trace[i].Operation == operation && n-- == 0)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"{flow} has no {operation} #{n} in the trace");
    }
}
