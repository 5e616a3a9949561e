using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Subjects;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The keyed set of <c>[AcquiresLocksOf]</c> (key parameters of an async keyed lock of the type), run through the
/// wrapper the real generator wrote into Subjects: both keys are held across the body's awaits, in key order.
/// </summary>
public sealed class KeySetRuntimeTests
{
    /// <summary>4 flows × 250 random moves among 6 shelves over 4 stripes, both directions: every count is exact.</summary>
    [Fact]
    public async Task KeySet_AsyncStripedLock_1000RandomMovesFrom4Flows_EveryCountExact()
    {
        const int Flows = 4;
        const int MovesPerFlow = 250;
        const long Initial = 1_000;
        string[] names = [.. Enumerable.Range(0, 6).Select(static i => "shelf-" + i)];
        var shelves = new AsyncShelves(Initial, names);
        long[] net = new long[names.Length];

        var flows = Enumerable.Range(0, Flows).Select(flow => Task.Run(async () =>
        {
            var random = new Random(flow);
            for (int i = 0; i < MovesPerFlow; i++)
            {
                int from = random.Next(names.Length);
                int to = (from + 1 + random.Next(names.Length - 1)) % names.Length;
                await shelves.MoveAsync(names[from], names[to]);
                Interlocked.Decrement(ref net[from]);
                Interlocked.Increment(ref net[to]);
            }
        }));
        await Task.WhenAll(flows);

        for (int i = 0; i < names.Length; i++)
        {
            Assert.Equal(Initial + net[i], await shelves.CountAsync(names[i]));
        }

        Assert.Equal(40, shelves.Lock.Level);
        Assert.All(names, name => Assert.False(shelves.Lock.IsHeldByCurrentFlow(name)));
    }
}
