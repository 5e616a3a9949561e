using System;
using System.Threading.Tasks;
using Locksmith.Tests.Support;
using Xunit;

namespace Locksmith.Tests.Ordering;

/// <summary>
/// A synchronous lock and an async one taken against the order: the advice was "acquire 'x' first, or use LockSet to
/// take both in the global order", and no LockSet takes both (LockSet.Acquire takes synchronous locks only,
/// LockSet.AcquireAsync async ones and semaphores). It now says so, naming both locks and their types (found by a new
/// user's ASP.NET Core trial: a request holding an async lock called a service that takes a synchronous one). A thread's
/// synchronous lock in the way of its flow's async acquisition already had advice of its own.
/// </summary>
public sealed class MixedKindsAdviceTests
{
    private const string Sentence = "Locks must be acquired in increasing level order; acquire ";

    [Fact]
    public async Task AFlowHoldingAnAsyncLock_AskingForASyncLock_IsAdvisedToTakeItFirst_WithoutLockSet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var audit = new AsyncExclusiveLock("mixed-audit", level: 40);
        var requests = new ExclusiveLock("mixed-requests", level: 5);

        string message = await Task.Run(async () =>
        {
            using (await audit.AcquireAsync())
            {
                return Assert.Throws<LockOrderViolationException>(() => requests.Acquire().Dispose()).Message;
            }
        });

        Assert.EndsWith(
            ": acquiring 'mixed-requests' (level 5) while holding 'mixed-audit' (level 40). " + Sentence + "'mixed-requests' first " +
            "(no LockSet takes both 'mixed-audit' (AsyncExclusiveLock) and 'mixed-requests' (ExclusiveLock): LockSet.Acquire takes " +
            "synchronous locks only, LockSet.AcquireAsync async locks and semaphores only).",
            message,
            StringComparison.Ordinal);
        Assert.False(requests.IsHeld);
    }

    [Fact]
    public async Task AFlowHoldingAnAsyncWriteLock_AskingForASyncWriteLock_IsAdvisedToTakeItFirst_WithoutLockSet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outbox = new AsyncReadWriteLock("mixed-outbox", level: 20);
        var ledger = new ReadWriteLock("mixed-ledger", level: 10);

        string message = await Task.Run(async () =>
        {
            using (await outbox.AcquireWriteAsync())
            {
                return Assert.Throws<LockOrderViolationException>(() => ledger.AcquireWrite().Dispose()).Message;
            }
        });

        Assert.EndsWith(
            Sentence + "'mixed-ledger' first (no LockSet takes both 'mixed-outbox' (AsyncReadWriteLock) and 'mixed-ledger' " +
            "(ReadWriteLock): LockSet.Acquire takes synchronous locks only, LockSet.AcquireAsync async locks and semaphores only).",
            message,
            StringComparison.Ordinal);
        Assert.False(ledger.IsWriteLockHeldByCurrentThread);
        Assert.Equal(0, ledger.WriterThreadId);
    }

    [Fact]
    public async Task ASemaphoreWithAnAsyncLock_KeepsTheLockSetAdvice_WhichLockSetAcquireAsyncCanFollow()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var pool = new CountingSemaphore(2, 2, "mixed-pool", level: 30);
        var outbox = new AsyncExclusiveLock("mixed-outbox-2", level: 10);

        string message = await Task.Run(async () =>
        {
            using (await pool.AcquireAsync())
            {
                return Assert.Throws<LockOrderViolationException>(() => { _ = outbox.AcquireAsync(); }).Message;
            }
        });

        Assert.EndsWith(Sentence + "'mixed-outbox-2' first, or use LockSet to take both in the global order.", message, StringComparison.Ordinal);

        // The advice can be followed: an async set takes both.
        await Task.Run(async () =>
        {
            using var both = await LockSet.AcquireAsync(pool, outbox);
            Assert.True(outbox.IsHeldByCurrentFlow);
        });
    }
}
