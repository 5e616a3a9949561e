using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>Async lock sets run by several tasks of one flow at once (tasks started inside a hold share the flow's record).</summary>
public sealed class AsyncLockSetOneFlowTests
{
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(30);

    // Each contended set kept what its member's timed-out wait saw on the flow's record, one per flow: a second set of the
    // same flow, waiting on the same member while the first set's timeout event ran, took the first set's report and left
    // none for it, so the first set's message named the holder of the later wait, not the one its own event named.
    [Fact]
    public async Task TwoSetsOfOneFlow_TimingOutOnOneMember_EachNameTheHolderTheirOwnWaitSaw()
    {
        using var policy = PolicyScope.Capture();
        var gate = new AsyncExclusiveLock("one-flow-sets-gate");
        var otherA = new AsyncExclusiveLock("one-flow-sets-a");
        var otherB = new AsyncExclusiveLock("one-flow-sets-b");
        var mine = new AsyncExclusiveLock("one-flow-sets-mine");
        await using var first = await NamedHolder.TakeAsync(gate, "Holder-1");
        await using var second = NamedHolder.Queue(gate, "Holder-2");
        Guard.SpinUntil(() => gate.WaitingCount == 1);

        var events = new ConcurrentQueue<LockTimeoutEvent>();
        var startB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<LockTimeoutException>? setB = null;
        int reports = 0;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName != gate.Name)
            {
                return;
            }

            events.Enqueue(e);
            if (Interlocked.Increment(ref reports) == 1)
            {
                // Set A's wait timed out naming Holder-1. Before set A reads its report, Holder-1 leaves, Holder-2 (queued
                // first) takes the gate, and set B of the same flow waits for it and times out too.
                first.Release();
                Assert.True(second.Holds.Wait(s_hangLimit), "Holder-2 never took the gate");
                startB.SetResult();
                Assert.True(SpinWait.SpinUntil(() => setB is { IsCompleted: true }, s_hangLimit), "set B never ended");
            }
        };

        LockTimeoutException a, b;
        using (await mine.AcquireAsync())
        {
            // Both tasks share this flow's record: it holds 'mine'.
            var setA = Task.Run(() => Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(TimeSpan.FromMilliseconds(50), [gate, otherA])));
            setB = Task.Run(async () =>
            {
                await startB.Task;
                return await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(TimeSpan.FromMilliseconds(50), [gate, otherB]));
            });
            a = await setA.WaitAsync(s_hangLimit);
            b = await setB.WaitAsync(s_hangLimit);
        }

        Assert.Equal(2, events.Count);
        Assert.True(events.TryDequeue(out var eventA));
        Assert.True(events.TryDequeue(out var eventB));
        Assert.Contains("('Holder-1')", eventA.OwnerThreadName, StringComparison.Ordinal);
        Assert.Contains("('Holder-2')", eventB.OwnerThreadName, StringComparison.Ordinal);
        Assert.Equal(eventA.OwnerThreadName, a.OwnerThreadName);
        Assert.Equal(eventA.OwnerThreadId, a.OwnerThreadId);
        Assert.Contains($"access to '{gate.Name}', held by {eventA.OwnerThreadName}.", a.Message, StringComparison.Ordinal);
        Assert.Equal(eventB.OwnerThreadName, b.OwnerThreadName);
        Assert.Contains($"access to '{gate.Name}', held by {eventB.OwnerThreadName}.", b.Message, StringComparison.Ordinal);
        Assert.False(otherA.IsHeld);
        Assert.False(otherB.IsHeld);
    }

    // The same, with the sets on different members: the later set's wait replaced the earlier one's on the flow's record,
    // so the earlier one's timeout recorded nothing and its message read the holder again, after the event's handler, in
    // which the holder had left ("held in a shared mode or released as the wait ended", flow id 0).
    [Fact]
    public async Task TwoSetsOfOneFlow_OnDifferentMembers_EachNameTheHolderTheirOwnWaitSaw_EvenIfItLeftDuringTheEvent()
    {
        // The case needs set B waiting when set A times out: on a loaded machine B's task may start after A's deadline,
        // so each round doubles A's timeout (500 ms up to 8 s), and the test fails unless one round saw B waiting then.
        bool bWaitedAtTheTimeout = false;
        for (int round = 0; round < 5 && !bWaitedAtTheTimeout; round++)
        {
            bWaitedAtTheTimeout = await TwoSetsOnDifferentMembersAsync(TimeSpan.FromMilliseconds(500 << round), round);
        }

        Assert.True(bWaitedAtTheTimeout, "in no round was set B waiting when set A timed out");
    }

    /// <summary>One round of the test above; whether set B was waiting when set A's timeout was reported.</summary>
    private static async Task<bool> TwoSetsOnDifferentMembersAsync(TimeSpan setATimeout, int round)
    {
        using var policy = PolicyScope.Capture();
        var gate = new AsyncExclusiveLock($"one-flow-sets-left-gate-{round}");
        var otherGate = new AsyncExclusiveLock($"one-flow-sets-left-other-gate-{round}");
        var free = new AsyncExclusiveLock($"one-flow-sets-left-free-{round}");
        var mine = new AsyncExclusiveLock($"one-flow-sets-left-mine-{round}");
        var holder = await HolderLeavingOnTimeout.TakeAsync(gate);
        bool bWaiting = false;
        var leave = LocksmithPolicy.TimeoutOccurred!;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName == gate.Name && holder.Timeout is null)
            {
                bWaiting = otherGate.WaitingCount == 1;
            }

            leave(e);
        };
        await using var otherHolder = await NamedHolder.TakeAsync(otherGate, "Holder-2");

        LockTimeoutException timedOut;
        using (var cancel = new CancellationTokenSource())
        using (await mine.AcquireAsync())
        {
            // Set A waits first; set B of the same flow starts waiting after it and stays until A has timed out.
            var setA = Task.Run(() => Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(setATimeout, [gate, free])));
            Guard.SpinUntil(() => gate.WaitingCount == 1);
            var setB = Task.Run(() => Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await LockSet.AcquireAsync([otherGate, free], cancel.Token)));
            Guard.SpinUntil(() => otherGate.WaitingCount == 1);
            timedOut = await setA.WaitAsync(s_hangLimit);
            cancel.Cancel();
            await setB.WaitAsync(s_hangLimit);
        }

        var timeout = holder.Timeout;
        Assert.NotNull(timeout);
        Assert.Contains("('Holder')", timeout.OwnerThreadName, StringComparison.Ordinal);
        Assert.Equal(timeout.OwnerThreadId, timedOut.OwnerThreadId);
        Assert.Equal(timeout.OwnerThreadName, timedOut.OwnerThreadName);
        Assert.Contains($"access to '{gate.Name}', held by {timeout.OwnerThreadName}.", timedOut.Message, StringComparison.Ordinal);
        Assert.False(free.IsHeld);
        Assert.Equal(0, otherGate.WaitingCount);
        return bWaiting;
    }

    /// <summary>A flow of its own, named by its activity, that holds an async lock (or queues for it) until released.</summary>
    private sealed class NamedHolder : IAsyncDisposable
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task _flow = Task.CompletedTask;

        /// <summary>Set once the holder holds the lock.</summary>
        public ManualResetEventSlim Holds { get; } = new();

        public static async Task<NamedHolder> TakeAsync(AsyncExclusiveLock gate, string name)
        {
            var holder = Queue(gate, name);
            await Task.Run(() => Assert.True(holder.Holds.Wait(s_hangLimit), $"{name} never took '{gate.Name}'"));
            return holder;
        }

        public static NamedHolder Queue(AsyncExclusiveLock gate, string name)
        {
            var holder = new NamedHolder();
            using (ExecutionContext.SuppressFlow())
            {
                holder._flow = Task.Run(async () =>
                {
                    using var activity = new Activity(name).Start();
                    using var scope = await gate.AcquireAsync(s_hangLimit);
                    holder.Holds.Set();
                    await holder._release.Task;
                });
            }

            return holder;
        }

        public void Release() => _release.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            await _flow.WaitAsync(s_hangLimit);
            Holds.Dispose();
        }
    }
}
