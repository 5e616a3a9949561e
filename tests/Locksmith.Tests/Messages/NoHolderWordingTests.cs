using System;
using System.Threading;

namespace Locksmith.Tests.Messages;

/// <summary>
/// The words a timeout uses when no holder was left to name as the wait gave up (the holder released just then, or
/// only readers hold): an exclusive lock has no shared mode, so its message must not offer one.
/// </summary>
public sealed class NoHolderWordingTests
{
    private static readonly TimeSpan s_waited = TimeSpan.FromMilliseconds(20);

    [Fact]
    public void AnExclusiveLocksTimeout_WithNoHolderLeft_SaysItWasReleased_NotHeldInASharedMode()
    {
        var gate = new ExclusiveLock("no-holder-left");

        var timeout = Assert.Throws<LockTimeoutException>(() => ThrowHelper.ThrowTimeout(gate, LockMode.Exclusive, 0, null, s_waited));

        Assert.Contains("'no-holder-left'", timeout.Message);
        Assert.EndsWith("released as the wait ended (its holder left just then).", timeout.Message);
        Assert.DoesNotContain("shared mode", timeout.Message);
        Assert.Equal(0, timeout.OwnerThreadId);
    }

    [Fact]
    public void AnAsyncExclusiveLocksTimeout_WithNoHolderLeft_SaysItWasReleased_NotHeldInASharedMode()
    {
        var gate = new AsyncExclusiveLock("async-no-holder-left");
        var waiter = LockOwner.CreateFlow();

        var timeout = Assert.Throws<LockTimeoutException>(() =>
            ThrowHelper.ThrowAsyncTimeout(gate, waiter, LockMode.Exclusive, new ReportedHolder(0, null), s_waited));

        Assert.StartsWith(ThrowHelper.FlowStartingASentence(waiter), timeout.Message);
        Assert.Contains("'async-no-holder-left'", timeout.Message);
        Assert.EndsWith("released as the wait ended (its holder left just then).", timeout.Message);
        Assert.DoesNotContain("shared mode", timeout.Message);
    }

    [Theory]
    [InlineData(LockMode.Read)]
    [InlineData(LockMode.Write)]
    public void AReadWriteLocksTimeout_WithNoSingleHolder_StillSaysItMayBeHeldByReaders(LockMode mode)
    {
        // Readers hold a read-write lock with no single owner, so "held in a shared mode" is the likely case there.
        var sync = Assert.Throws<LockTimeoutException>(() => ThrowHelper.ThrowTimeout(new ReadWriteLock("rw-no-holder"), mode, 0, null, s_waited));
        var async = Assert.Throws<LockTimeoutException>(() =>
            ThrowHelper.ThrowAsyncTimeout(new AsyncReadWriteLock("async-rw-no-holder"), LockOwner.CreateFlow(), mode, new ReportedHolder(0, null), s_waited));

        Assert.EndsWith("held in a shared mode or released as the wait ended.", sync.Message);
        Assert.EndsWith("held in a shared mode or released as the wait ended.", async.Message);
    }
}
