using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// A LockSet (async, or a thread's) whose semaphore member has free permits held back for an async waiter queued ahead: its timeout
/// says they were held back, as the semaphore's own timeout does, not that they were free.
/// </summary>
public sealed class AsyncSetSemaphoreHeldBackTests
{
    [Fact]
    public async Task ASetsTimeoutOnASemaphoreMember_WhosePermitsAreHeldForAWaiterAhead_SaysSo()
    {
        // Before, the set's try-once said "1 of its maximum 3 were free, given back only as it gave up.": a timeout with
        // its permit free, which only a race could explain. The permit was held for the waiter for three queued ahead.
        var pool = new CountingSemaphore(1, 3, "set-pool");
        var ledger = new AsyncExclusiveLock("set-ledger");
        using var cancelBig = new CancellationTokenSource();
        Task big;
        using (ExecutionContext.SuppressFlow())
        {
            big = Task.Run(async () =>
            {
                try
                {
                    (await pool.AcquireAsync(3, cancelBig.Token)).Dispose();
                }
                catch (OperationCanceledException)
                {
                }
            });
        }

        Guard.SpinUntil(() => pool.QueuedAsyncWaiterCount == 1);
        foreach (var timeout in new[] { TimeSpan.Zero, TimeSpan.FromMilliseconds(30) })
        {
            var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await LockSet.AcquireAsync(timeout, [ledger, pool]));
            Assert.Contains("waiting for 1 permit(s) of semaphore 'set-pool'", error.Message, StringComparison.Ordinal);
            Assert.Contains("1 of its maximum 3 were free but held for waiters queued ahead of it.", error.Message, StringComparison.Ordinal);
            Assert.False(ledger.IsHeld);
            Assert.Equal(1, pool.CurrentCount);
            Assert.Equal(1, pool.QueuedAsyncWaiterCount);
        }

        // A thread's set, the same: a thread takes no permit ahead of a queued async waiter either.
        var vault = new ExclusiveLock("set-vault");
        var syncError = await Task.Run(() => Assert.Throws<LockTimeoutException>(() =>
        {
            using var set = LockSet.Acquire(TimeSpan.Zero, vault, pool);
        }));
        Assert.Contains("1 of its maximum 3 were free but held for waiters queued ahead of it.", syncError.Message, StringComparison.Ordinal);
        Assert.False(vault.IsHeld);
        Assert.Equal(1, pool.CurrentCount);

        await cancelBig.CancelAsync();
        await big.WaitAsync(Guard.HangLimit);
        Assert.Equal(0, pool.QueuedAsyncWaiterCount);
        using (var set = await LockSet.AcquireAsync(TimeSpan.FromSeconds(30), [ledger, pool]))
        {
            Assert.Equal(0, pool.CurrentCount);
        }

        Assert.Equal(1, pool.CurrentCount);
        Assert.False(ledger.IsHeld);
    }
}
