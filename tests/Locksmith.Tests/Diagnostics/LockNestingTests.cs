using System;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// <see cref="LockNesting"/>: which ordered lock was held when another was taken, counted only while a recorder is
/// open, without allocating once an edge is known. The test project runs collections one at a time, so no other test
/// opens a recorder meanwhile.
/// </summary>
public sealed class LockNestingTests
{
    [Fact]
    public void Nested_acquisitions_record_the_latest_held_lock_as_outer_with_a_count_and_unnested_ones_record_nothing()
    {
        var outer = new ExclusiveLock("nest-outer", level: 10);
        var middle = new ReadWriteLock("nest-middle", level: 20);
        var inner = new ExclusiveLock("nest-inner", level: 30);

        using (LockNesting.BeginRecording())
        {
            Assert.True(LockNesting.IsRecording);
            for (int i = 0; i < 3; i++)
            {
                using var a = outer.Acquire();
                using var b = middle.AcquireRead();
                using var c = inner.Acquire();
            }

            using (inner.Acquire())
            {
            }

            using (outer.Acquire())
            using (inner.Acquire())
            {
            }
        }

        Assert.False(LockNesting.IsRecording);
        Assert.Empty(outer.GetObservedNesting());
        Assert.Equal([new LockNestingEdge("nest-outer", 10, "nest-middle", 20, 3)], middle.GetObservedNesting());
        Assert.Equal(
            [new LockNestingEdge("nest-middle", 20, "nest-inner", 30, 3), new LockNestingEdge("nest-outer", 10, "nest-inner", 30, 1)],
            inner.GetObservedNesting().OrderBy(static e => e.OuterName, StringComparer.Ordinal).ToArray());
    }

    // After a striped lock took several stripes at once, a lock taken inside counted one pair per stripe of the highest
    // index instead of one per acquisition (a trial saw stk[12] -> ledger and stk[15] -> ledger, 10 each, for 10).
    [Fact]
    public async Task A_lock_taken_after_several_keys_of_a_striped_lock_counts_one_pair_per_acquisition()
    {
        var stock = new AsyncStripedLock<int>(16, "nest-stock", level: 20);
        var ledger = new AsyncExclusiveLock("nest-ledger", level: 40);
        var syncLedger = new ExclusiveLock("nest-sync-ledger", level: 50);
        int[] keys = [.. Enumerable.Range(0, 20)];

        using (LockNesting.BeginRecording())
        {
            for (int i = 0; i < 10; i++)
            {
                await using (await stock.AcquireManyAsync(keys))
                {
                    using var inner = await ledger.AcquireAsync();
                }

                await using (await stock.AcquireManyAsync(keys))
                {
                    using var inner = syncLedger.Acquire();
                }
            }
        }

        Assert.Equal(10, ledger.GetObservedNesting().Sum(static e => e.Count));
        Assert.Equal(10, syncLedger.GetObservedNesting().Sum(static e => e.Count));
    }

    [Fact]
    public void Stripes_nest_as_their_striped_lock_as_outer_and_as_inner()
    {
        // Before, 'outer' -> 'orders' was kept on the stripes (a catalog of the registered locks never saw it), and
        // 'orders' -> 'after' came once per stripe as 'orders[0]' ... 'orders[3]'.
        var outer = new ExclusiveLock("nest-outer", level: 10);
        var orders = new StripedLock<int>(4, "nest-orders", level: 20);
        var after = new ExclusiveLock("nest-after", level: 30);

        using (LockNesting.BeginRecording())
        {
            for (int key = 0; key < 8; key++)
            {
                using (outer.Acquire())
                using (orders.Acquire(key))
                using (after.Acquire())
                {
                }
            }
        }

        Assert.Equal([new LockNestingEdge("nest-outer", 10, "nest-orders", 20, 8)], orders.GetObservedNesting());
        Assert.Equal([new LockNestingEdge("nest-orders", 20, "nest-after", 30, 8)], after.GetObservedNesting());
    }

    [Fact]
    public void Without_a_recorder_nothing_is_recorded_and_recorders_nest()
    {
        var outer = new ExclusiveLock("quiet-outer", level: 10);
        var inner = new ExclusiveLock("quiet-inner", level: 20);
        Nest(outer, inner);
        Assert.Empty(inner.GetObservedNesting());

        var first = LockNesting.BeginRecording();
        var second = LockNesting.BeginRecording();
        first.Dispose();
        first.Dispose();
        Nest(outer, inner);
        second.Dispose();
        Nest(outer, inner);

        Assert.False(LockNesting.IsRecording);
        Assert.Equal(1, Assert.Single(inner.GetObservedNesting()).Count);
    }

    [Fact]
    public void A_known_edge_counts_without_allocating()
    {
        var outer = new ExclusiveLock("alloc-outer", level: 10);
        var inner = new ExclusiveLock("alloc-inner", level: 20);
        long calls = 0;
        using (LockNesting.BeginRecording())
        {
            Assert.Equal(0, Allocations.FewestOfThreeWindows(() =>
            {
                calls++;
                Nest(outer, inner);
            }));
        }

        Assert.Equal(calls, Assert.Single(inner.GetObservedNesting()).Count);
    }

    [Fact]
    public void A_lock_set_records_its_second_member_under_its_first_and_a_later_lock_under_the_second()
    {
        var a = new ExclusiveLock("set-a", level: 30);
        var b = new ExclusiveLock("set-b", level: 30);
        var journal = new ExclusiveLock("set-journal", level: 40);
        using (LockNesting.BeginRecording())
        {
            using var both = LockSet.Acquire(b, a);
            using var inner = journal.Acquire();
        }

        // The set takes a (the lower id) first.
        Assert.Equal("set-a", Assert.Single(b.GetObservedNesting()).OuterName);
        Assert.Equal("set-b", Assert.Single(journal.GetObservedNesting()).OuterName);
    }

    [Fact]
    public async Task A_sync_lock_taken_while_the_flow_holds_an_async_one_records_the_async_one_as_outer()
    {
        var permits = new CountingSemaphore(2, 2, "flow-pool", level: 50);
        var asyncOuter = new AsyncExclusiveLock("flow-outer", level: 45);
        var list = new ExclusiveLock("flow-list", level: 55);
        using (LockNesting.BeginRecording())
        {
            using (await asyncOuter.AcquireAsync())
            using (await permits.AcquireAsync())
            {
                await Task.Yield();
                using (list.Acquire())
                {
                }
            }
        }

        Assert.Equal(new LockNestingEdge("flow-outer", 45, "flow-pool", 50, 1), Assert.Single(permits.GetObservedNesting()));
        Assert.Equal(new LockNestingEdge("flow-pool", 50, "flow-list", 55, 1), Assert.Single(list.GetObservedNesting()));
    }

    // Found by a trial and a review: an async lock taken while the thread held a sync one counted no pair (sync -> sync
    // and async -> async did), and a sync lock taken after the flow's async one counted the thread's older sync lock as
    // its outer; the order check sees both pairs.
    [Fact]
    public void Sync_and_async_locks_taken_in_turn_on_one_thread_record_the_one_taken_last_as_outer()
    {
        var syncOuter = new ExclusiveLock("thread-outer", level: 60);
        var orders = new AsyncStripedLock<string>(4, "thread-orders", level: 62);
        var asyncInner = new AsyncExclusiveLock("thread-inner", level: 64);
        var afterFlow = new AsyncExclusiveLock("thread-after", level: 66);
        var syncLast = new ExclusiveLock("thread-sync-last", level: 68);
        using (LockNesting.BeginRecording())
        using (syncOuter.Acquire())
        {
            // Uncontended, so each acquisition completes at once, on the thread that holds the sync lock.
            using (CompletedAtOnce(orders.AcquireAsync("a")))
            {
            }

            using (CompletedAtOnce(asyncInner.AcquireAsync()))
            using (CompletedAtOnce(afterFlow.AcquireAsync()))
            {
                // A sync lock now: the flow's async lock was taken after the thread's sync one, so it is the outer.
                using (syncLast.Acquire())
                {
                }
            }
        }

        Assert.Equal(new LockNestingEdge("thread-outer", 60, "thread-orders", 62, 1), Assert.Single(orders.GetObservedNesting()));
        Assert.Equal(new LockNestingEdge("thread-outer", 60, "thread-inner", 64, 1), Assert.Single(asyncInner.GetObservedNesting()));
        Assert.Equal(new LockNestingEdge("thread-inner", 64, "thread-after", 66, 1), Assert.Single(afterFlow.GetObservedNesting()));
        Assert.Equal(new LockNestingEdge("thread-after", 66, "thread-sync-last", 68, 1), Assert.Single(syncLast.GetObservedNesting()));
    }

    /// <summary>The scope of an acquisition that must not have waited (a sync lock's scope cannot cross an await).</summary>
    private static T CompletedAtOnce<T>(ValueTask<T> acquisition)
    {
        Assert.True(acquisition.IsCompletedSuccessfully);
        return acquisition.Result;
    }

    [Fact]
    public void Edges_into_one_lock_are_bounded()
    {
        var inner = new ExclusiveLock("bounded-inner", level: 100);
        using (LockNesting.BeginRecording())
        {
            for (int i = 0; i < LockNesting.MaxEdgesPerLock + 10; i++)
            {
                Nest(new ExclusiveLock("bounded-outer-" + i, level: 1), inner);
            }
        }

        Assert.Equal(LockNesting.MaxEdgesPerLock, inner.GetObservedNesting().Count);
    }

    private static void Nest(ExclusiveLock outer, ExclusiveLock inner)
    {
        using var a = outer.Acquire();
        using var b = inner.Acquire();
    }
}
