using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// Misuse of an async primitive names the flow that misused it, as a cancelled token's refusal does: "Flow #N (on thread
/// T)" while the flow holds async locks, else "The current async flow (on thread T)" (with its Activity's name when one is
/// current), never just "thread T" or "Thread T", which reads as if a thread-affine lock were misused.
/// </summary>
public sealed class AsyncMisuseNamesTheFlowTests
{
    public static TheoryData<string> Misuses() =>
    [
        "AsyncExclusiveLock scope disposed again", "AsyncReadWriteLock write scope disposed again",
        "AsyncReadWriteLock read scope disposed again",
        "CountingSemaphore async scope disposed again", "Acquisition ValueTask read again",
        "CountingSemaphore.AcquireAsync(0)", "LockSet.AcquireAsync listing a lock twice",
    ];

    [Theory]
    [MemberData(nameof(Misuses))]
    public async Task AsyncMisuse_NamesTheFlow_NotTheThread(string misuse)
    {
        var other = new AsyncExclusiveLock("misuse-flow-other");

        var holdingNothing = await Misuse(misuse);
        Assert.StartsWith("The current async flow (on thread ", holdingNothing.Message, StringComparison.Ordinal);

        using (var activity = new Activity("reconcile-orders").Start())
        {
            var named = await Misuse(misuse);
            Assert.StartsWith("The current async flow ('reconcile-orders') (on thread ", named.Message, StringComparison.Ordinal);
        }

        using (await other.AcquireAsync())
        {
            var holding = await Misuse(misuse);
            Assert.Matches(@"^Flow #\d+ \(on thread ", holding.Message);
        }
    }

    private static async Task<Exception> Misuse(string misuse)
    {
        switch (misuse)
        {
            case "AsyncExclusiveLock scope disposed again":
            {
                var scope = await new AsyncExclusiveLock("misuse-exclusive").AcquireAsync();
                scope.Dispose();
                return Assert.Throws<SynchronizationLockException>(scope.Dispose);
            }

            case "AsyncReadWriteLock write scope disposed again":
            {
                var scope = await new AsyncReadWriteLock("misuse-write").AcquireWriteAsync();
                scope.Dispose();
                return Assert.Throws<SynchronizationLockException>(scope.Dispose);
            }

            case "AsyncReadWriteLock read scope disposed again":
            {
                var rw = new AsyncReadWriteLock("misuse-read");
                var scope = await rw.AcquireReadAsync();
                scope.Dispose();
                var error = Assert.Throws<SynchronizationLockException>(scope.Dispose);
                Assert.Contains("'misuse-read'", error.Message, StringComparison.Ordinal);
                return error;
            }

            case "CountingSemaphore async scope disposed again":
            {
                var scope = await new CountingSemaphore(2, 2, "misuse-permits").AcquireAsync(2);
                scope.Dispose();
                return Assert.Throws<SynchronizationLockException>(scope.Dispose);
            }

            case "Acquisition ValueTask read again":
            {
                var gate = new AsyncExclusiveLock("misuse-read-twice");
                var holder = await HeldByAnotherFlow.StartAsync(gate);
                var queued = gate.AcquireAsync();
                await holder.ReleaseAsync();
                (await queued).Dispose();
                return await Assert.ThrowsAsync<InvalidOperationException>(async () => await queued);
            }

            case "CountingSemaphore.AcquireAsync(0)":
            {
                var semaphore = new CountingSemaphore(2, 2, "misuse-count");
                var error = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = semaphore.AcquireAsync(0); });
                Assert.Contains("0 permit(s) of semaphore 'misuse-count'", error.Message, StringComparison.Ordinal);
                return error;
            }

            case "LockSet.AcquireAsync listing a lock twice":
            {
                var a = new AsyncExclusiveLock("misuse-set-a");
                var pool = new CountingSemaphore(3, 3, "misuse-set-pool");
                var error = Assert.Throws<ArgumentException>(() => { _ = LockSet.AcquireAsync([a, pool, a]); });
                Assert.Contains("listed 'misuse-set-a' twice", error.Message, StringComparison.Ordinal);
                return error;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(misuse), misuse, null);
        }
    }
}
