using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// A token cancelled before the call takes nothing, not even a free lock (as <c>SemaphoreSlim</c> does): the
/// acquisition is a cancelled task (or, synchronously, an exception) that names the lock, and the lock stays free.
/// </summary>
public sealed class CancelledTokenAcquisitionTests
{
    private static readonly CancellationToken s_cancelled = new(canceled: true);

    public static TheoryData<string> AsyncAcquisitions() =>
    [
        "AsyncExclusiveLock.AcquireAsync", "AsyncExclusiveLock.AcquireAsync(timeout)", "AsyncExclusiveLock.TryAcquireAsync",
        "AsyncReadWriteLock.AcquireReadAsync", "AsyncReadWriteLock.AcquireWriteAsync", "AsyncReadWriteLock.TryAcquireReadAsync",
        "CountingSemaphore.AcquireAsync", "CountingSemaphore.AcquireAsync(2)", "AsyncStripedLock.AcquireAsync",
        "LockSet.AcquireAsync",
    ];

    [Theory]
    [MemberData(nameof(AsyncAcquisitions))]
    public async Task AsyncAcquisition_WithACancelledToken_IsACancelledTaskNamingTheLock_AndTakesNothing(string call)
    {
        var exclusive = new AsyncExclusiveLock("precancelled-async-exclusive");
        var readWrite = new AsyncReadWriteLock("precancelled-async-rw");
        var semaphore = new CountingSemaphore(2, 2, "precancelled-async-semaphore");
        var striped = new AsyncStripedLock<string>(4, "precancelled-async-striped");
        Task task = AcquireWithTheCancelledToken(call, exclusive, readWrite, semaphore, striped);
        string name = call.Split('.')[0] switch
        {
            "AsyncExclusiveLock" or "LockSet" => exclusive.Name,
            "AsyncReadWriteLock" => readWrite.Name,
            "CountingSemaphore" => semaphore.Name,
            _ => striped.Name,
        };

        var canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(task.IsCanceled, call + " completed as " + task.Status);
        Assert.Contains(name, canceled.Message, StringComparison.Ordinal);
        Assert.Contains("already cancelled", canceled.Message, StringComparison.Ordinal);
        Assert.StartsWith("The current async flow (on thread ", canceled.Message, StringComparison.Ordinal);

        // Nothing was taken: every lock is free and every permit is back.
        Assert.False(exclusive.IsHeld);
        Assert.False(readWrite.IsWriteHeld);
        Assert.Equal(0, readWrite.CurrentReaderCount);
        Assert.Equal(2, semaphore.CurrentCount);
        using (var again = await exclusive.TryAcquireAsync(TimeSpan.Zero))
        {
            Assert.True(again.IsAcquired);
        }

        using (var stripe = await striped.TryAcquireAsync("sku-1", TimeSpan.Zero))
        {
            Assert.True(stripe.IsAcquired);
        }
    }

    /// <summary>
    /// An async acquisition's refusal names the flow that asked, not just its thread: a flow holding nothing yet has no
    /// record (so no id) and is "the current async flow", with its Activity's name when one is current; a flow that holds
    /// a lock is named by its record, as timeouts name it.
    /// </summary>
    [Theory]
    [MemberData(nameof(AsyncAcquisitions))]
    public async Task AsyncAcquisition_WithACancelledToken_NamesTheFlow_NotOnlyTheThread(string call)
    {
        var exclusive = new AsyncExclusiveLock("precancelled-flow-exclusive");
        var readWrite = new AsyncReadWriteLock("precancelled-flow-rw");
        var semaphore = new CountingSemaphore(2, 2, "precancelled-flow-semaphore");
        var striped = new AsyncStripedLock<string>(4, "precancelled-flow-striped");
        var other = new AsyncExclusiveLock("precancelled-flow-other");
        Task Acquire() => AcquireWithTheCancelledToken(call, exclusive, readWrite, semaphore, striped);

        var holdingNothing = await Assert.ThrowsAnyAsync<OperationCanceledException>(Acquire);
        Assert.StartsWith("The current async flow (on thread ", holdingNothing.Message, StringComparison.Ordinal);

        using (var activity = new System.Diagnostics.Activity("reconcile-orders").Start())
        {
            var named = await Assert.ThrowsAnyAsync<OperationCanceledException>(Acquire);
            Assert.StartsWith("The current async flow ('reconcile-orders') (on thread ", named.Message, StringComparison.Ordinal);
        }

        using (await other.AcquireAsync())
        {
            var holding = await Assert.ThrowsAnyAsync<OperationCanceledException>(Acquire);
            Assert.Matches(@"^Flow #\d+ \(on thread ", holding.Message);
        }
    }

    /// <summary>Starts the async acquisition <paramref name="call"/> names, of one of the given locks, with the cancelled token.</summary>
    private static Task AcquireWithTheCancelledToken(
        string call, AsyncExclusiveLock exclusive, AsyncReadWriteLock readWrite, CountingSemaphore semaphore, AsyncStripedLock<string> striped) => call switch
    {
        "AsyncExclusiveLock.AcquireAsync" => exclusive.AcquireAsync(s_cancelled).AsTask(),
        "AsyncExclusiveLock.AcquireAsync(timeout)" => exclusive.AcquireAsync(TimeSpan.FromSeconds(30), s_cancelled).AsTask(),
        "AsyncExclusiveLock.TryAcquireAsync" => exclusive.TryAcquireAsync(TimeSpan.FromSeconds(30), s_cancelled).AsTask(),
        "AsyncReadWriteLock.AcquireReadAsync" => readWrite.AcquireReadAsync(s_cancelled).AsTask(),
        "AsyncReadWriteLock.AcquireWriteAsync" => readWrite.AcquireWriteAsync(s_cancelled).AsTask(),
        "AsyncReadWriteLock.TryAcquireReadAsync" => readWrite.TryAcquireReadAsync(TimeSpan.Zero, s_cancelled).AsTask(),
        "CountingSemaphore.AcquireAsync" => semaphore.AcquireAsync(s_cancelled).AsTask(),
        "CountingSemaphore.AcquireAsync(2)" => semaphore.AcquireAsync(2, s_cancelled).AsTask(),
        "AsyncStripedLock.AcquireAsync" => striped.AcquireAsync("sku-1", s_cancelled).AsTask(),
        "LockSet.AcquireAsync" => LockSet.AcquireAsync(exclusive, semaphore, s_cancelled).AsTask(),
        _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
    };

    public static TheoryData<string> SyncAcquisitions() =>
    [
        "ExclusiveLock.Acquire(token)", "ExclusiveLock.TryAcquire(timeout, token)", "ReentrantLock.Acquire(token)", "SpinGate.Acquire(token)",
        "ReadWriteLock.AcquireRead(token)", "ReadWriteLock.TryAcquireRead(timeout, token)", "ReadWriteLock.AcquireWrite(token)",
        "StripedLock.Acquire(key, token)", "StripedReadWriteLock.AcquireRead(key, timeout, token)",
    ];

    [Theory]
    [MemberData(nameof(SyncAcquisitions))]
    public void SyncAcquisition_WithACancelledToken_ThrowsNamingTheLock_AndTakesNothing(string call)
    {
        var exclusive = new ExclusiveLock("precancelled-sync-exclusive");
        var reentrant = new ReentrantLock("precancelled-sync-reentrant");
        var gate = new SpinGate("precancelled-sync-gate");
        var readWrite = new ReadWriteLock("precancelled-sync-rw");
        var striped = new StripedLock<string>(4, "precancelled-sync-striped");
        var stripedReadWrite = new StripedReadWriteLock<string>(4, "precancelled-sync-striped-rw");
        Action acquire = call switch
        {
            "ExclusiveLock.Acquire(token)" => () => exclusive.Acquire(s_cancelled),
            "ExclusiveLock.TryAcquire(timeout, token)" => () => exclusive.TryAcquire(TimeSpan.Zero, s_cancelled, out _),
            "ReentrantLock.Acquire(token)" => () => reentrant.Acquire(s_cancelled),
            "SpinGate.Acquire(token)" => () => gate.Acquire(s_cancelled),
            "ReadWriteLock.AcquireRead(token)" => () => readWrite.AcquireRead(s_cancelled),
            "ReadWriteLock.TryAcquireRead(timeout, token)" => () => readWrite.TryAcquireRead(TimeSpan.Zero, s_cancelled, out _),
            "ReadWriteLock.AcquireWrite(token)" => () => readWrite.AcquireWrite(s_cancelled),
            "StripedLock.Acquire(key, token)" => () => striped.Acquire("sku-1", s_cancelled),
            "StripedReadWriteLock.AcquireRead(key, timeout, token)" => () => stripedReadWrite.AcquireRead("sku-1", TimeSpan.FromSeconds(30), s_cancelled),
            _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
        };

        var canceled = Assert.ThrowsAny<OperationCanceledException>(acquire);

        Assert.Contains("'precancelled-sync-", canceled.Message, StringComparison.Ordinal);
        Assert.Contains("already cancelled", canceled.Message, StringComparison.Ordinal);
        Assert.True(canceled.Message.StartsWith("Flow #", StringComparison.Ordinal) || canceled.Message.StartsWith("Thread ", StringComparison.Ordinal), canceled.Message);
        Assert.False(exclusive.IsHeld);
        Assert.False(reentrant.IsHeld);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, readWrite.WriterThreadId);
        Assert.Equal(0, readWrite.CurrentReaderCount);
        Assert.True(striped.TryAcquire("sku-1", TimeSpan.Zero, out var stripe));
        stripe.Dispose();
    }

    /// <summary>Argument errors come first, as with SemaphoreSlim: a bad timeout with a cancelled token is the timeout's error.</summary>
    [Fact]
    public void ABadTimeout_IsReportedBeforeACancelledToken()
    {
        var exclusive = new ExclusiveLock("precancelled-bad-timeout");
        var semaphore = new CountingSemaphore(1, 1, "precancelled-bad-timeout-semaphore");

        Assert.Throws<ArgumentOutOfRangeException>(() => exclusive.Acquire(TimeSpan.FromMilliseconds(-5), s_cancelled));
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Acquire(1, TimeSpan.FromMilliseconds(-5), s_cancelled));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AsyncExclusiveLock("precancelled-bad-timeout-async").AcquireAsync(TimeSpan.FromMilliseconds(-5), s_cancelled));
    }

    [Fact]
    public void SemaphoreAndSetAcquisitions_WithACancelledToken_ThrowNamingTheirLocks_AndTakeNothing()
    {
        var semaphore = new CountingSemaphore(2, 2, "precancelled-sync-semaphore");
        var first = new ExclusiveLock("precancelled-set-first");
        var second = new ExclusiveLock("precancelled-set-second");

        var permit = Assert.ThrowsAny<OperationCanceledException>(() => semaphore.Acquire(s_cancelled));
        Assert.Contains("'precancelled-sync-semaphore'", permit.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<OperationCanceledException>(() => semaphore.TryAcquire(2, TimeSpan.Zero, s_cancelled, out _));
        Assert.Equal(2, semaphore.CurrentCount);

        var set = Assert.ThrowsAny<OperationCanceledException>(() => LockSet.Acquire(TimeSpan.FromSeconds(30), s_cancelled, first, second));
        Assert.Contains("'precancelled-set-first'", set.Message, StringComparison.Ordinal);
        Assert.Contains("'precancelled-set-second'", set.Message, StringComparison.Ordinal);
        Assert.False(first.IsHeld);
        Assert.False(second.IsHeld);
    }
}
