using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// Issue 13: every async primitive has <c>AcquireAsync(ct)</c>, <c>AcquireAsync(TimeSpan, ct)</c> and
/// <c>TryAcquireAsync(TimeSpan, ct)</c> ("overload parity between timeout and token"), and a cancelled waiter leaves the
/// queue at once. The other tests cancel a queued wait through some forms and pass an already cancelled token to all;
/// here a live token cancels a queued wait in each form of each primitive, so a form that dropped its token would run
/// into its timeout (or the hang guard) instead.
/// </summary>
public sealed class Issue13TokenInEveryFormTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in new[] { "exclusive", "read", "write", "semaphore", "semaphore-2", "striped", "striped-many", "set" })
        {
            foreach (string form in new[] { "untimed", "timed", "try" })
            {
                data.Add(kind, form);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ALiveTokenCancelsAQueuedWait_InEveryForm_WhichLeavesTheQueueAtOnce_AndTheLockExact(string kind, string form)
    {
        var exclusive = new AsyncExclusiveLock("i13-token");
        var rw = new AsyncReadWriteLock("i13-token");
        var semaphore = new CountingSemaphore(2, 2, "i13-token");
        var striped = new AsyncStripedLock<int>(4, "i13-token");
        var free = new AsyncExclusiveLock("i13-token-free");
        // Longer than any stall of a loaded machine between queuing and cancelling: a form whose token is dropped fails
        // by this timeout (or the hang guard), never by the cancellation it did not see.
        var timeout = TimeSpan.FromMinutes(2);

        int Queued() => exclusive.WaitingCount + rw.WaitingCount + semaphore.QueuedWaiterCount + striped.StripeAt(striped.StripeOf(1)).WaitingCount;

        async Task<bool> Attempt(CancellationToken ct)
        {
            switch (kind)
            {
                case "striped-many":
                {
                    using var many = form switch
                    {
                        "untimed" => await striped.AcquireManyAsync([1], ct),
                        "timed" => await striped.AcquireManyAsync([1], timeout, ct),
                        _ => await striped.TryAcquireManyAsync([1], timeout, ct),
                    };
                    return many.IsAcquired;
                }

                case "set":
                {
                    using var set = form switch
                    {
                        "untimed" => await LockSet.AcquireAsync([free, exclusive], ct),
                        "timed" => await LockSet.AcquireAsync(timeout, [free, exclusive], ct),
                        _ => await LockSet.TryAcquireAsync(timeout, [free, exclusive], ct),
                    };
                    return set.IsAcquired;
                }

                default:
                {
                    using var scope = (kind, form) switch
                    {
                        ("exclusive", "untimed") => await exclusive.AcquireAsync(ct),
                        ("exclusive", "timed") => await exclusive.AcquireAsync(timeout, ct),
                        ("exclusive", _) => await exclusive.TryAcquireAsync(timeout, ct),
                        ("read", "untimed") => await rw.AcquireReadAsync(ct),
                        ("read", "timed") => await rw.AcquireReadAsync(timeout, ct),
                        ("read", _) => await rw.TryAcquireReadAsync(timeout, ct),
                        ("write", "untimed") => await rw.AcquireWriteAsync(ct),
                        ("write", "timed") => await rw.AcquireWriteAsync(timeout, ct),
                        ("write", _) => await rw.TryAcquireWriteAsync(timeout, ct),
                        ("semaphore", "untimed") => await semaphore.AcquireAsync(ct),
                        ("semaphore", "timed") => await semaphore.AcquireAsync(timeout, ct),
                        ("semaphore", _) => await semaphore.TryAcquireAsync(timeout, ct),
                        ("semaphore-2", "untimed") => await semaphore.AcquireAsync(2, ct),
                        ("semaphore-2", "timed") => await semaphore.AcquireAsync(2, timeout, ct),
                        ("semaphore-2", _) => await semaphore.TryAcquireAsync(2, timeout, ct),
                        ("striped", "untimed") => await striped.AcquireAsync(1, ct),
                        ("striped", "timed") => await striped.AcquireAsync(1, timeout, ct),
                        _ => await striped.TryAcquireAsync(1, timeout, ct),
                    };
                    return scope.IsAcquired;
                }
            }
        }

        var release = await HoldElsewhere(async () => kind switch
        {
            "exclusive" or "set" => await exclusive.AcquireAsync(),
            // A writer keeps a read out; a reader keeps a write out.
            "read" => await rw.AcquireWriteAsync(),
            "write" => await rw.AcquireReadAsync(),
            // One permit of two out: one more is free, two are not; the one-permit form needs both out.
            "semaphore" => await semaphore.AcquireAsync(2),
            "semaphore-2" => await semaphore.AcquireAsync(),
            _ => await striped.AcquireAsync(1),
        });

        using var cancel = new CancellationTokenSource();
        Task<bool> waiting;
        // The waiter is a flow of its own, as a request's would be.
        using (ExecutionContext.SuppressFlow())
        {
            waiting = Task.Run(() => Attempt(cancel.Token));
        }

        if (kind == "set")
        {
            // A contended set may be backing off rather than queued; it must not have finished either way.
            Guard.SpinUntil(() => Queued() == 1 || free.IsHeld || waiting.IsCompleted);
        }
        else
        {
            Guard.SpinUntil(() => Queued() == 1 || waiting.IsCompleted);
        }

        Assert.False(waiting.IsCompleted, $"the {form} {kind} acquisition ended before its token was cancelled");

        await cancel.CancelAsync();
        var error = await Record.ExceptionAsync(() => waiting.WaitAsync(Guard.HangLimit));

        // Out of the queue once its cancellation is seen, before the holder lets go.
        Assert.Equal(0, Queued());
        Assert.False(free.IsHeld);
        release.SetResult();
        var canceled = Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Contains("i13-token", canceled.Message, StringComparison.Ordinal);

        // The holder's release finds no waiter to hand to: everything is free again, every permit back.
        Guard.SpinUntil(() => !exclusive.IsHeld && !rw.IsWriteHeld && rw.CurrentReaderCount == 0 && semaphore.CurrentCount == 2
            && !striped.StripeAt(striped.StripeOf(1)).IsHeld);
        Assert.Equal(0, Queued());
        using var again = await Task.Run(async () => await semaphore.TryAcquireAsync(2, TimeSpan.Zero));
        Assert.True(again.IsAcquired);
    }

    /// <summary>Takes a hold in a flow of its own (started with the flow suppressed) until the returned source is set.</summary>
    private static async Task<TaskCompletionSource> HoldElsewhere(Func<Task<AsyncLockScope>> take)
    {
        var holds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(async () =>
            {
                using var scope = await take();
                holds.SetResult();
                await release.Task;
            });
        }

        await holds.Task.WaitAsync(Guard.HangLimit);
        return release;
    }
}
