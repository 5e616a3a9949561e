using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// Tasks of one flow that begin their waits on different threads: each wait is named with the thread it began on.
/// Before, an in-process wait kept no thread of its own, and every queued wait of the flow was named with the thread
/// of the flow's latest wait.
/// </summary>
public sealed class SiblingWaitThreadTests
{
    private static readonly TimeSpan s_acquireLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_awaitLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EachSiblingsWait_IsNamedWithTheThreadItBeganOn_NotTheFlowsLatest()
    {
        var x = new AsyncExclusiveLock("wait-thread-x");
        var permits = new CountingSemaphore(0, 1, "wait-thread-permits");
        var keep = new AsyncExclusiveLock("wait-thread-keep");
        Task<AsyncLockScope> otherFlow;
        using (ExecutionContext.SuppressFlow())
        {
            otherFlow = Task.Run(async () => await x.AcquireAsync(s_acquireLimit));
        }

        var xHold = await otherFlow.WaitAsync(s_awaitLimit);

        // Held by this flow: threads started now run in its context, so their waits are its siblings'.
        using var kept = await keep.AcquireAsync(s_acquireLimit);
        Task<AsyncLockScope>? onX = null;
        Task<AsyncLockScope>? onPermits = null;
        var first = new Thread(() => onX = x.AcquireAsync(s_acquireLimit).AsTask()) { Name = "wait-thread-first" };
        first.Start();
        first.JoinGuarded();
        var second = new Thread(() => onPermits = permits.AcquireAsync(1, s_acquireLimit).AsTask()) { Name = "wait-thread-second" };
        second.Start();
        second.JoinGuarded();
        Assert.False(onX!.IsCompleted);
        Assert.False(onPermits!.IsCompleted);

        var waits = DeadlockDetector.CurrentWaits().Where(w => w.LockName.StartsWith("wait-thread-", StringComparison.Ordinal)).ToList();
        xHold.Dispose();
        permits.Release();
        (await onX.WaitAsync(s_awaitLimit)).Dispose();
        (await onPermits.WaitAsync(s_awaitLimit)).Dispose();

        var waitOnX = Assert.Single(waits, w => w.LockName == x.Name);
        var waitOnPermits = Assert.Single(waits, w => w.LockName == permits.Name);
        Assert.Equal(waitOnX.WaiterId, waitOnPermits.WaiterId);
        string firstThread = $"{first.ManagedThreadId} ('wait-thread-first')";
        string secondThread = $"{second.ManagedThreadId} ('wait-thread-second')";
        Assert.Equal(firstThread, waitOnX.FlowThread);
        Assert.EndsWith($"(on thread {firstThread})", waitOnX.Waiter, StringComparison.Ordinal);
        Assert.Equal(secondThread, waitOnPermits.FlowThread);
        Assert.EndsWith($"(on thread {secondThread})", waitOnPermits.Waiter, StringComparison.Ordinal);
    }
}
