using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// Two waits that share one pooled wait node, for tests of a late read of the first while the second is queued: run on a
/// thread of their own, with no scheduling context, both rent their node on it, so the first one's is the second one's.
/// </summary>
internal static class SharedNodeWaits
{
    /// <summary>Runs <paramref name="rounds"/> on a new thread and waits for it within <paramref name="limit"/>; rethrows what it threw.</summary>
    public static async Task OnAThreadOfItsOwnAsync(Action rounds, TimeSpan limit)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                rounds();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        thread.Start();
        await done.Task.WaitAsync(limit);
    }

    /// <summary>
    /// A wait of this thread, queued behind another flow's hold and read to its end here: its node is back in this thread's
    /// spare, which the thread's next wait takes. Returns its task and awaiter, stale from now on.
    /// </summary>
    public static (ValueTask<AsyncLockScope> Ended, ValueTaskAwaiter<AsyncLockScope> Awaiter) EndedWait(AsyncExclusiveLock gate)
    {
        var holder = HeldByAnotherFlow.StartAsync(gate).WaitAsync(Guard.HangLimit).GetAwaiter().GetResult();
        var ended = gate.AcquireAsync();
        var endedAwaiter = ended.GetAwaiter();
        using var completed = new ManualResetEventSlim();
        endedAwaiter.OnCompleted(completed.Set);
        holder.ReleaseAsync().WaitAsync(Guard.HangLimit).GetAwaiter().GetResult();
        Assert.True(completed.Wait(Guard.HangLimit));
        endedAwaiter.GetResult().Dispose();
        return (ended, endedAwaiter);
    }
}
