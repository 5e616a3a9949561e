using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// Storms of async sets (and a striped lock's several keys) that time out, are cancelled and succeed, from several flows
/// at once: every acquisition is all or nothing, the flow's holds are exact after each one, and at the end every member
/// is free with nobody queued.
/// </summary>
public sealed class AsyncLockSetStormTests
{
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TimeoutAndCancellationStorms_LeaveEveryMemberFree_AndEachFlowsHoldsExact()
    {
        var exclusive = Enumerable.Range(0, 3).Select(i => new AsyncExclusiveLock($"storm-x{i}")).ToArray();
        var permits = Enumerable.Range(0, 2).Select(i => new CountingSemaphore(1, 1, $"storm-s{i}")).ToArray();
        var readWrite = Enumerable.Range(0, 2).Select(i => new AsyncReadWriteLock($"storm-rw{i}")).ToArray();
        IAsyncLockSetMember[] members = [.. exclusive, .. permits, .. readWrite];
        var counters = new int[members.Length];
        var granted = new int[members.Length];
        var outcomes = new int[3];
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var flows = Enumerable.Range(0, 6).Select(seed => RunFlow(seed, async () =>
        {
            var random = new Random(seed);
            var anchor = new AsyncExclusiveLock($"storm-anchor-{seed}");
            // The flow holds a lock of its own throughout, so its record stays claimed and its hold count can be checked.
            using var held = await anchor.AcquireAsync();
            for (int i = 0; i < 200; i++)
            {
                var picked = Enumerable.Range(0, members.Length).OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToArray();
                IReadOnlyList<IAsyncLockSetMember> set = [.. picked.Select(p => members[p])];
                var scope = default(AsyncLockSetScope);
                int outcome = 0;
                try
                {
                    switch (random.Next(4))
                    {
                        case 0:
                            scope = await LockSet.TryAcquireAsync(TimeSpan.FromMilliseconds(random.Next(0, 3)), set);
                            break;
                        case 1:
                            scope = await LockSet.AcquireAsync(TimeSpan.FromMilliseconds(random.Next(0, 3)), set);
                            break;
                        case 2:
                            using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(1, 3))))
                            {
                                scope = await LockSet.AcquireAsync(set, cancel.Token);
                            }

                            break;
                        default:
                            using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(1, 3))))
                            {
                                scope = await LockSet.TryAcquireLocksOfAsync(TimeSpan.FromMilliseconds(random.Next(1, 3)), set, cancel.Token);
                            }

                            break;
                    }
                }
                catch (LockTimeoutException)
                {
                    outcome = 1;
                }
                catch (OperationCanceledException)
                {
                    outcome = 2;
                }

                if (scope.IsAcquired)
                {
                    if (scope.Count != picked.Length)
                    {
                        wrong.Enqueue($"a set of {picked.Length} held {scope.Count}");
                    }

                    foreach (int p in picked)
                    {
                        // A lost update here would mean two flows held the member at once.
                        int seen = counters[p];
                        await Task.Yield();
                        counters[p] = seen + 1;
                        Interlocked.Increment(ref granted[p]);
                    }

                    // Held a little while, so the other flows' sets wait, time out and are cancelled on it.
                    await Task.Delay(random.Next(0, 2));
                    scope.Dispose();
                }
                else if (outcome == 0)
                {
                    outcome = 1;
                }

                Interlocked.Increment(ref outcomes[outcome]);
                int holds = FlowOwnership.CurrentOrNull?.FlowHoldCount ?? 0;
                if (holds != 1)
                {
                    wrong.Enqueue($"after attempt {i} (outcome {outcome}) flow {seed} counted {holds} holds, not 1 (its anchor)");
                }

                foreach (var member in exclusive.Where(m => m.IsHeldByCurrentFlow))
                {
                    wrong.Enqueue($"after attempt {i} (outcome {outcome}) flow {seed} still held {member.Name}");
                }

                foreach (var member in readWrite.Where(m => m.IsWriteHeldByCurrentFlow))
                {
                    wrong.Enqueue($"after attempt {i} (outcome {outcome}) flow {seed} still held {member.Name}");
                }
            }
        }));

        await Task.WhenAll(flows).WaitAsync(s_hangLimit);

        Assert.Empty(wrong);
        Assert.Equal(granted, counters);
        Assert.Equal(6 * 200, outcomes.Sum());
        Assert.True(outcomes.All(n => n > 0), $"acquired, timed out, cancelled: {string.Join(", ", outcomes)}");
        Assert.All(exclusive, m => Assert.False(m.IsHeld, m.Name));
        Assert.All(exclusive, m => Assert.Equal(0, m.WaitingCount));
        Assert.All(permits, m => Assert.Equal(1, m.CurrentCount));
        Assert.All(readWrite, m => Assert.False(m.IsWriteHeld, m.Name));
        Assert.All(readWrite, m => Assert.Equal(0, m.CurrentReaderCount));
        Assert.All(readWrite, m => Assert.Equal(0, m.WaitingCount));
        using var all = await LockSet.TryAcquireAsync(TimeSpan.Zero, members);
        Assert.Equal(members.Length, all.Count);
    }

    [Fact]
    public async Task StripedStorms_LeaveEveryStripeFree_AndEachFlowsHoldsExact()
    {
        var striped = new AsyncStripedLock<int>(4, "storm-striped");
        var counters = new int[16];
        var granted = new int[16];
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var flows = Enumerable.Range(0, 6).Select(seed => RunFlow(seed, async () =>
        {
            var random = new Random(seed);
            var anchor = new AsyncExclusiveLock($"storm-striped-anchor-{seed}");
            using var held = await anchor.AcquireAsync();
            for (int i = 0; i < 200; i++)
            {
                int[] keys = [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(16)).Distinct()];
                var scope = default(AsyncLockSetScope);
                try
                {
                    using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(1, 4)));
                    scope = random.Next(3) switch
                    {
                        0 => await striped.TryAcquireManyAsync(keys, TimeSpan.FromMilliseconds(random.Next(0, 3))),
                        1 => await striped.AcquireManyAsync(keys, TimeSpan.FromMilliseconds(random.Next(0, 3))),
                        _ => await striped.AcquireManyAsync(keys, cancel.Token),
                    };
                }
                catch (LockTimeoutException)
                {
                }
                catch (OperationCanceledException)
                {
                }

                if (scope.IsAcquired)
                {
                    foreach (int key in keys)
                    {
                        int seen = counters[key];
                        await Task.Yield();
                        counters[key] = seen + 1;
                        Interlocked.Increment(ref granted[key]);
                    }

                    await Task.Delay(random.Next(0, 2));
                    scope.Dispose();
                }

                int holds = FlowOwnership.CurrentOrNull?.FlowHoldCount ?? 0;
                if (holds != 1)
                {
                    wrong.Enqueue($"after attempt {i} flow {seed} counted {holds} holds, not 1 (its anchor)");
                }

                foreach (int key in keys.Where(striped.IsHeldByCurrentFlow))
                {
                    wrong.Enqueue($"after attempt {i} flow {seed} still held key {key}");
                }
            }
        }));

        await Task.WhenAll(flows).WaitAsync(s_hangLimit);

        Assert.Empty(wrong);
        Assert.Equal(granted, counters);
        for (int stripe = 0; stripe < striped.StripeCount; stripe++)
        {
            Assert.False(striped.StripeAt(stripe).IsHeld);
            Assert.Equal(0, striped.StripeAt(stripe).WaitingCount);
        }

        using var all = await striped.TryAcquireManyAsync([.. Enumerable.Range(0, 16)], TimeSpan.Zero);
        Assert.Equal(4, all.Count);
    }

    // Tasks started inside a hold share the flow's record: their sets reserve, hold and give back on one count at once.
    [Fact]
    public async Task TasksOfOneFlow_StormingSetsAtOnce_LeaveTheFlowHoldingOnlyWhatItHeldBefore()
    {
        var members = Enumerable.Range(0, 5).Select(i => new AsyncExclusiveLock($"one-flow-storm-{i}")).ToArray();
        var anchor = new AsyncExclusiveLock("one-flow-storm-anchor");
        var outcomes = new int[4];
        int holdsAfter = -1;
        await RunFlow(0, async () =>
        {
            using (await anchor.AcquireAsync())
            {
                var tasks = Enumerable.Range(0, 4).Select(seed => Task.Run(async () =>
                {
                    var random = new Random(seed);
                    for (int i = 0; i < 150; i++)
                    {
                        IReadOnlyList<IAsyncLockSetMember> set = [.. members.OrderBy(_ => random.Next()).Take(random.Next(1, 3))];
                        try
                        {
                            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(1, 3)));
                            using var scope = random.Next(2) == 0
                                ? await LockSet.AcquireAsync(TimeSpan.FromMilliseconds(random.Next(0, 3)), set)
                                : await LockSet.AcquireAsync(set, cancel.Token);
                            await Task.Delay(random.Next(0, 2));
                            Interlocked.Increment(ref outcomes[0]);
                        }
                        catch (LockTimeoutException)
                        {
                            Interlocked.Increment(ref outcomes[1]);
                        }
                        catch (OperationCanceledException)
                        {
                            Interlocked.Increment(ref outcomes[2]);
                        }
                        catch (LockRecursionException)
                        {
                            // Another task of this flow held a member as the set began: the flow would wait for itself.
                            Interlocked.Increment(ref outcomes[3]);
                        }
                    }
                }));
                await Task.WhenAll(tasks);
                holdsAfter = FlowOwnership.CurrentOrNull?.FlowHoldCount ?? 0;
            }
        }).WaitAsync(s_hangLimit);

        Assert.Equal(1, holdsAfter);
        Assert.Equal(4 * 150, outcomes.Sum());
        Assert.True(outcomes[0] > 0, "no set was acquired");
        Assert.False(anchor.IsHeld);
        Assert.All(members, m => Assert.False(m.IsHeld, m.Name));
        Assert.All(members, m => Assert.Equal(0, m.WaitingCount));
    }

    /// <summary>A flow of its own (not a sharer of the test's), so each storm flow's holds are its own.</summary>
    private static Task RunFlow(int seed, Func<Task> body)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(body);
        }
    }
}
