using System;
using System.Threading.Tasks;
using Locksmith.Tests.Support;
using Xunit;

namespace Locksmith.Tests.Ordering;

/// <summary>
/// A read of a read-write lock taken against the order was advised "acquire 'x' first, or use LockSet to take both in the
/// global order", and a LockSet takes a read-write lock in write mode only (LockSet.Acquire and AcquireAsync have no read
/// member), so following it turns the read into a write (found by a hosting trial). A read's advice now names what works
/// for it: acquire it first, or give the locks levels that match the nesting.
/// </summary>
public sealed class ReadAdviceTests
{
    private const string ReadAdvice = "Locks must be acquired in increasing level order; acquire 'radv-ledger' first, or give the locks " +
        "levels that match this nesting (a LockSet cannot take 'radv-ledger' for reading: it takes a read-write lock in write mode).";

    [Fact]
    public void ASyncRead_IsNotAdvisedToUseLockSet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new ExclusiveLock("radv-outer", level: 20);
        var ledger = new ReadWriteLock("radv-ledger", level: 10);

        LockOrderViolationException error;
        using (outer.Acquire())
        {
            error = Assert.Throws<LockOrderViolationException>(() => ledger.AcquireRead().Dispose());
        }

        Assert.EndsWith(": acquiring 'radv-ledger' (level 10) while holding 'radv-outer' (level 20). " + ReadAdvice, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, ledger.CurrentReaderCount);
    }

    [Fact]
    public async Task AnAsyncRead_IsNotAdvisedToUseLockSet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new AsyncExclusiveLock("radv-outer-async", level: 20);
        var ledger = new AsyncReadWriteLock("radv-ledger", level: 10);

        string message = await Task.Run(async () =>
        {
            using (await outer.AcquireAsync())
            {
                return (await Assert.ThrowsAsync<LockOrderViolationException>(async () => (await ledger.AcquireReadAsync()).Dispose())).Message;
            }
        });

        Assert.EndsWith(ReadAdvice, message, StringComparison.Ordinal);
        Assert.Equal(0, ledger.CurrentReaderCount);
    }

    [Fact]
    public void AWrite_KeepsTheLockSetAdvice_WhichLockSetAcquireCanFollow()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new ExclusiveLock("radv-outer-w", level: 20);
        var ledger = new ReadWriteLock("radv-ledger-w", level: 10);

        LockOrderViolationException error;
        using (outer.Acquire())
        {
            error = Assert.Throws<LockOrderViolationException>(() => ledger.AcquireWrite().Dispose());
        }

        Assert.EndsWith("acquire 'radv-ledger-w' first, or use LockSet to take both in the global order.", error.Message, StringComparison.Ordinal);
        using (LockSet.Acquire(outer, ledger))
        {
            Assert.True(ledger.IsWriteLockHeldByCurrentThread);
        }
    }

    [Fact]
    public void TwoLocksOfOneLevel_AReadIsAdvisedToGiveThemDifferentLevels_NotLockSet()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var first = new ReadWriteLock("radv-account:1", level: 10);
        var second = new ReadWriteLock("radv-account:2", level: 10);

        LockOrderViolationException error;
        using (first.AcquireRead())
        {
            error = Assert.Throws<LockOrderViolationException>(() => second.AcquireRead().Dispose());
        }

        Assert.EndsWith(
            "'radv-account:1' and 'radv-account:2' share level 10, so acquiring either first cannot help: give them different levels.",
            error.Message,
            StringComparison.Ordinal);
    }
}
