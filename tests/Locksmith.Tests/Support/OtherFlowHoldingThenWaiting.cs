using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Support;

/// <summary>
/// Another flow for the detector's cycle tests: it takes a hold (<c>takeHold</c>, given a timeout and a token), then waits for <c>thenWait</c>, and the task it runs
/// is returned once that wait is queued. Started under <see cref="ExecutionContext.SuppressFlow"/> so it is a flow of its
/// own, not a sharer of the test's holds.
/// </summary>
internal static class OtherFlowHoldingThenWaiting
{
    private static readonly TimeSpan s_acquireLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_awaitLimit = TimeSpan.FromSeconds(30);

    public static async Task<Task> StartAsync(Func<TimeSpan, CancellationToken, ValueTask<AsyncLockScope>> takeHold, AsyncExclusiveLock thenWait)
    {
        var holds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task flow;
        using (ExecutionContext.SuppressFlow())
        {
            flow = Task.Run(async () =>
            {
                using var held = await takeHold(s_acquireLimit, CancellationToken.None);
                holds.SetResult();
                using var waited = await thenWait.AcquireAsync(s_acquireLimit);
            });
        }

        await holds.Task.WaitAsync(s_awaitLimit);
        Guard.SpinUntil(() => thenWait.WaitingCount == 1);
        return flow;
    }
}
