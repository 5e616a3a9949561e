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

    public static TheoryData<string> MisusesOfAHeldLock() =>
    [
        "AsyncExclusiveLock acquired again", "AsyncReadWriteLock read again", "AsyncReadWriteLock written again",
        "AsyncReadWriteLock upgraded", "LockSet.AcquireAsync of a held member", "AsyncStripedLock.AcquireManyAsync of a held key",
        "Pending acquisition blocked on", "CountingSemaphore async scope disposed into a full semaphore",
    ];

    /// <summary>
    /// A misuse thrown at once by a flow that holds a lock (it asked for it again, or blocked on its own wait) names the flow
    /// and the thread it ran on, as the misuse above does: "Flow #N ('name') (on thread T)", not "flow #N".
    /// </summary>
    [Theory]
    [MemberData(nameof(MisusesOfAHeldLock))]
    public async Task AsyncMisuse_OfAHeldLock_NamesTheFlowAndItsThread(string misuse)
    {
        string message = await Task.Run(async () =>
        {
            using var activity = new Activity("reconcile-orders").Start();
            return (await MisuseOfAHeldLock(misuse)).Message;
        });

        Assert.Matches(@"^Flow #\d+ \('reconcile-orders'\) \(on thread \d+", message);
    }

    private static async Task<Exception> MisuseOfAHeldLock(string misuse)
    {
        var gate = new AsyncExclusiveLock("misuse-held-gate");
        var rw = new AsyncReadWriteLock("misuse-held-rw");
        var striped = new AsyncStripedLock<int>(8, "misuse-held-striped");
        switch (misuse)
        {
            case "AsyncExclusiveLock acquired again":
                using (await gate.AcquireAsync())
                {
                    return await Assert.ThrowsAsync<LockRecursionException>(async () => await gate.AcquireAsync());
                }

            case "AsyncReadWriteLock read again":
                using (await rw.AcquireReadAsync())
                {
                    return await Assert.ThrowsAsync<LockRecursionException>(async () => await rw.AcquireReadAsync());
                }

            case "AsyncReadWriteLock written again":
                using (await rw.AcquireWriteAsync())
                {
                    return await Assert.ThrowsAsync<LockRecursionException>(async () => await rw.AcquireWriteAsync());
                }

            case "AsyncReadWriteLock upgraded":
                using (await rw.AcquireReadAsync())
                {
                    return await Assert.ThrowsAsync<LockRecursionException>(async () => await rw.AcquireWriteAsync());
                }

            case "LockSet.AcquireAsync of a held member":
                using (await gate.AcquireAsync())
                {
                    var other = new AsyncExclusiveLock("misuse-held-other");
                    return await Assert.ThrowsAsync<LockRecursionException>(async () => await LockSet.AcquireAsync(other, gate));
                }

            case "AsyncStripedLock.AcquireManyAsync of a held key":
                using (await striped.AcquireAsync(1))
                {
                    return await Assert.ThrowsAsync<LockRecursionException>(async () => await striped.AcquireManyAsync([1, 2]));
                }

            case "Pending acquisition blocked on":
            {
                var holder = await HeldByAnotherFlow.StartAsync(gate);
                using (await rw.AcquireReadAsync())
                {
                    var error = Assert.Throws<InvalidOperationException>(() => gate.AcquireAsync().GetAwaiter().GetResult());
                    Assert.Contains("before the wait completed", error.Message, StringComparison.Ordinal);
                    await holder.ReleaseAsync();
                    return error;
                }
            }

            case "CountingSemaphore async scope disposed into a full semaphore":
            {
                // A permit given back by hand as well as by the scope: the scope's give-back finds the semaphore full.
                var semaphore = new CountingSemaphore(1, 1, "misuse-held-full");
                var scope = await semaphore.AcquireAsync();
                semaphore.Release();
                var error = Assert.Throws<SemaphoreFullException>(scope.Dispose);
                Assert.Contains("1 permit(s) of semaphore 'misuse-held-full'", error.Message, StringComparison.Ordinal);
                return error;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(misuse), misuse, null);
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
