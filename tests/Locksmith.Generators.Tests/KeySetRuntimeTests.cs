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

    /// <summary>
    /// The timed form of a keyed set (the lock, an AsyncStripedLock, has TryAcquireManyAsync): before, none was generated.
    /// While another flow holds one key, TryMoveAsync gives up at its timeout without moving; once free, it moves.
    /// </summary>
    [Fact]
    public async Task KeySet_TimedForm_GivesUpWhileAKeyIsHeld_AndMovesOnceFree()
    {
        var shelves = new AsyncShelves(10, "left", "right");
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = Task.Run(async () =>
        {
            using var scope = await shelves.Lock.AcquireAsync("right");
            held.SetResult();
            await release.Task;
        });
        await held.Task;

        bool movedWhileHeld = await Task.Run(async () => await shelves.TryMoveAsync(TimeSpan.FromMilliseconds(20), "left", "right"));
        release.SetResult();
        await holder;

        Assert.False(movedWhileHeld);
        Assert.Equal(10, await shelves.CountAsync("left"));
        Assert.True(await shelves.TryMoveAsync(TimeSpan.FromMinutes(1), "left", "right"));
        Assert.Equal(9, await shelves.CountAsync("left"));
        Assert.Equal(11, await shelves.CountAsync("right"));
        Assert.False(shelves.Lock.IsHeldByCurrentFlow("left"));
    }
}
