using System;

namespace Locksmith.Testing.Scenarios;

/// <summary>
/// A lost update through a hand-rolled read-then-write of an <see cref="AtomicCounter"/>: every call on the counter is
/// atomic, but <c>counter.Exchange(counter.Value + 1)</c> is two calls, and another flow's increment between them is
/// overwritten. <see cref="AtomicCounter.Increment"/> (or <see cref="AtomicCounter.Update(Func{long, long})"/>) is one.
/// </summary>
public sealed class LostUpdateTests
{
    private const int Workers = 2;
    private const int HitsEach = 2;

    private enum Counting
    {
        ReadThenExchange,
        Increment,
        Update,
    }

    private static void PageHits(Scenario scenario, Counting counting)
    {
        var hits = new AtomicCounter("page.hits");
        for (int w = 0; w < Workers; w++)
        {
            scenario.Thread($"worker{w}", () =>
            {
                for (int i = 0; i < HitsEach; i++)
                {
                    switch (counting)
                    {
                        case Counting.ReadThenExchange:
                            // Broken: another worker's hit between the read and the write is overwritten.
                            long seen = hits.Value;
                            hits.Exchange(seen + 1);
                            break;
                        case Counting.Increment:
                            hits.Increment();
                            break;
                        default:
                            hits.Update(static v => v + 1);
                            break;
                    }
                }
            });
        }

        scenario.Finally(() => Assert.Equal(Workers * HitsEach, hits.Value));
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("random", 17)]
    [InlineData("random", 2026)]
    [InlineData("pct2", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct2", 2026)]
    public void AReadThenExchangeIsFoundLosingAHit(string strategy, int seed)
    {
        var report = Hunt.MustFind(s => PageHits(s, Counting.ReadThenExchange), strategy, seed, ControlledFailureKind.Assertion);

        var equal = Assert.IsType<Xunit.Sdk.EqualException>(report.Exception);
        Assert.Contains($"Expected: {Workers * HitsEach}", equal.Message, StringComparison.Ordinal);

        // The trace names the counter: somewhere both workers read it before either wrote what it read.
        Assert.All(report.Trace, e => Assert.True(e.Target is "page.hits" or "", e.ToString()));
        Assert.True(HasInterleavedReads(report), report.ToString());
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void IncrementIsNotFlagged(string strategy, int seed) =>
        Hunt.MustPass(s => PageHits(s, Counting.Increment), strategy, seed);

    [Theory]
    [InlineData("pct3", 1)]
    public void UpdateIsNotFlagged(string strategy, int seed) =>
        Hunt.MustPass(s => PageHits(s, Counting.Update), strategy, seed);

    /// <summary>
    /// Whether one worker's read took effect, then the other worker's read, before the first one's update. Every entry
    /// is logged where its effect falls, so the trace's order is the order of the effects.
    /// </summary>
    private static bool HasInterleavedReads(ControlledTestReport report)
    {
        string? pending = null;
        foreach (var entry in report.Trace)
        {
            if (entry.Target != "page.hits")
            {
                continue;
            }

            if (entry.Operation == "read")
            {
                if (pending is not null && pending != entry.Flow)
                {
                    return true;
                }

                pending ??= entry.Flow;
            }
            else if (entry.Operation == "update" && entry.Flow == pending)
            {
                pending = null;
            }
        }

        return false;
    }
}
