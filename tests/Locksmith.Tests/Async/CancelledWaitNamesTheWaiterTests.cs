using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Support;
using Locksmith.Tests.Support;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// A wait cancelled by its token while it was queued names the waiter at the start of the sentence, as timeouts and
/// misuse do: "Flow #N ('name') (on thread T) stopped waiting for …" for a flow (with the thread it resumed on), "Thread T
/// ('name') stopped waiting for …" for a thread; then the lock, and that nothing is held. It read "The wait of flow #N
/// ('name') for … was cancelled", with no thread. A semaphore's wait counts the permits it waited for as its timeout does
/// ("2 permit(s) of semaphore 'slots'"), where it read "permit access to 'slots'".
/// </summary>
public sealed class CancelledWaitNamesTheWaiterTests
{
    private const string OnThread = @"\(on thread \d+( \('[^']*'\))?\)";
    private const string Ending = ": its cancellation token was cancelled; nothing is held.";

    public static TheoryData<string> AsyncWaits() =>
        ["AsyncExclusiveLock", "AsyncReadWriteLock write", "CountingSemaphore", "LockSet.AcquireAsync", "LockSet.AcquireAsync semaphore"];

    [Theory]
    [MemberData(nameof(AsyncWaits))]
    public async Task ACancelledAsyncWait_StartsWithTheFlowAndItsThread(string wait)
    {
        var gate = new AsyncExclusiveLock("cancelled-wait-gate");
        var rw = new AsyncReadWriteLock("cancelled-wait-rw");
        var semaphore = new CountingSemaphore(0, 2, "cancelled-wait-slots");
        var free = new AsyncExclusiveLock("cancelled-wait-free");
        using var held = wait == "AsyncReadWriteLock write" ? await rw.AcquireReadAsync() : await gate.AcquireAsync();
        using var cancel = new CancellationTokenSource();

        // A flow of its own: one started from the holder's would share its holds.
        Task<string> waiting;
        using (ExecutionContext.SuppressFlow())
        {
            waiting = Task.Run(async () =>
            {
                using var activity = new Activity("reconcile-orders").Start();
                var canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
                {
                    switch (wait)
                    {
                        case "AsyncExclusiveLock":
                            using (await gate.AcquireAsync(cancel.Token)) { }
                            break;
                        case "AsyncReadWriteLock write":
                            using (await rw.AcquireWriteAsync(cancel.Token)) { }
                            break;
                        case "CountingSemaphore":
                            using (await semaphore.AcquireAsync(2, cancel.Token)) { }
                            break;
                        case "LockSet.AcquireAsync semaphore":
                            using (await LockSet.AcquireAsync(free, semaphore, cancel.Token)) { }
                            break;
                        default:
                            using (await LockSet.AcquireAsync(free, gate, cancel.Token)) { }
                            break;
                    }
                }).ConfigureAwait(false);
                return canceled.Message;
            });
        }

        Guard.SpinUntil(() => gate.WaitingCount + rw.WaitingCount + semaphore.QueuedWaiterCount == 1);
        cancel.Cancel();
        string message = await waiting;

        string what = wait switch
        {
            "AsyncReadWriteLock write" => "write access to 'cancelled-wait-rw'",
            "CountingSemaphore" => "2 permit(s) of semaphore 'cancelled-wait-slots'",
            "LockSet.AcquireAsync semaphore" => "1 permit(s) of semaphore 'cancelled-wait-slots'",
            _ => "'cancelled-wait-gate'",
        };
        Assert.Matches($@"^Flow #\d+ \('reconcile-orders'\) {OnThread} stopped waiting for ", message);
        Assert.EndsWith(what + Ending, message, StringComparison.Ordinal);
        Assert.False(free.IsHeld);
    }

    [Fact]
    public void ACancelledThreadWait_StartsWithTheThread()
    {
        var gate = new ExclusiveLock("cancelled-wait-sync");
        using var cancel = new CancellationTokenSource();
        string? message = null;
        using (gate.Acquire())
        {
            var waiter = Concurrently.Start("cancel-waiter", () =>
                message = Assert.ThrowsAny<OperationCanceledException>(() => gate.Acquire(cancel.Token)).Message);
            Blocked.OnLock(gate);
            cancel.Cancel();
            waiter.JoinGuarded();
        }

        Assert.Matches(@"^Thread \d+ \('cancel-waiter'\) stopped waiting for exclusive access to 'cancelled-wait-sync'", message!);
        Assert.EndsWith(Ending, message!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Acquire")]
    [InlineData("LockSet member")]
    public void ACancelledThreadWaitForPermits_CountsThemAsATimeoutDoes(string wait)
    {
        var semaphore = new CountingSemaphore(0, 2, "cancelled-wait-sync-slots");
        var free = new ExclusiveLock("cancelled-wait-sync-free");
        using var cancel = new CancellationTokenSource();
        string? message = null;
        var waiter = Concurrently.Start("cancel-waiter", () =>
            message = Assert.ThrowsAny<OperationCanceledException>(() =>
            {
                if (wait == "Acquire")
                {
                    using (semaphore.Acquire(2, cancel.Token)) { }
                }
                else
                {
                    using (LockSet.Acquire(Timeout.InfiniteTimeSpan, cancel.Token, semaphore, free)) { }
                }
            }).Message);
        Blocked.OnLock(semaphore);
        cancel.Cancel();
        waiter.JoinGuarded();

        string permits = wait == "Acquire" ? @"2 permit\(s\)" : @"1 permit\(s\)";
        Assert.Matches(
            $@"^Thread \d+ \('cancel-waiter'\) stopped waiting for {permits} of semaphore 'cancelled-wait-sync-slots'",
            message!);
        Assert.EndsWith(Ending, message!, StringComparison.Ordinal);
        Assert.False(free.IsHeld);
    }
}
