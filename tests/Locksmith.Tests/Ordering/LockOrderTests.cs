using System;
using System.Collections.Generic;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Ordering;

public sealed class LockOrderTests
{
    [Fact]
    public void SeedInversion_ThrowsViolation_BeforeBlocking_NeverHangs()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var x = new ExclusiveLock("X", level: 1);
        var y = new ExclusiveLock("Y", level: 2);
        int violations = 0, completedA = 0;

        Concurrently.Run(2, index =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                if (index == 0)
                {
                    using var first = x.Acquire();
                    using var second = y.Acquire();
                    completedA++;
                }
                else
                {
                    using var first = y.Acquire();
                    var ex = Assert.Throws<LockOrderViolationException>(() => x.Acquire());
                    Assert.Equal("Y", ex.Violation.HeldLockName);
                    Interlocked.Increment(ref violations);
                }
            }
        });

        Assert.Equal(20_000, completedA);
        Assert.Equal(20_000, violations);
        Assert.False(x.IsHeld);
        Assert.False(y.IsHeld);
    }

    [Fact]
    public void ViolationMessage_NamesBothLocks_TheirLevels_AndTheThread()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var accounts = new ExclusiveLock("accounts", level: 20);
        var audit = new ExclusiveLock("audit", level: 10);

        using var held = accounts.Acquire();
        var ex = Assert.Throws<LockOrderViolationException>(() => audit.Acquire());

        Assert.Contains("'audit' (level 10)", ex.Message);
        Assert.Contains("'accounts' (level 20)", ex.Message);
        Assert.Contains($"thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Equal(Environment.CurrentManagedThreadId, ex.Violation.ThreadId);
        Assert.False(audit.IsHeld);
    }

    [Fact]
    public void EqualLevels_AreAViolation_WhenNestedByHand()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var a = new ExclusiveLock("a", level: 10);
        var b = new ExclusiveLock("b", level: 10);
        using var first = a.Acquire();
        Assert.Throws<LockOrderViolationException>(() => b.Acquire());
    }

    [Fact]
    public void ReportPolicy_CallsBackAndAcquires()
    {
        var seen = new List<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Report, seen.Add);
        var high = new ExclusiveLock("high", level: 5);
        var low = new ExclusiveLock("low", level: 1);

        using (high.Acquire())
        using (low.Acquire())
        {
            Assert.True(low.IsHeldByCurrentThread);
        }

        var violation = Assert.Single(seen);
        Assert.Equal("low", violation.RequestedLockName);
        Assert.Equal(1, violation.RequestedLevel);
        Assert.Equal("high", violation.HeldLockName);
        Assert.Equal(5, violation.HeldLevel);
    }

    [Fact]
    public void IgnorePolicy_DoesNotCheck()
    {
        var seen = new List<LockOrderViolation>();
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore, seen.Add);
        var high = new ExclusiveLock("high", level: 5);
        var low = new ExclusiveLock("low", level: 1);
        using (high.Acquire())
        using (low.Acquire())
        {
            Assert.True(low.IsHeldByCurrentThread);
        }

        Assert.Empty(seen);
    }

    [Fact]
    public void ReleasingOutOfOrder_KeepsTheHeldRecordRight()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var a = new ExclusiveLock("a", level: 1);
        var b = new ExclusiveLock("b", level: 2);
        var c = new ExclusiveLock("c", level: 3);

        a.Acquire();
        b.Acquire();
        a.Release();           // out of order: b (2) is still the highest held
        Assert.Throws<LockOrderViolationException>(() => a.Acquire());
        c.Acquire();
        c.Release();
        b.Release();
        using var again = a.Acquire();  // nothing held: any level is fine
    }

    [Fact]
    public void UnorderedLocks_AreNotChecked()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var ordered = new ExclusiveLock("ordered", level: 5);
        var plain = new ExclusiveLock("plain");
        using var first = ordered.Acquire();
        using var second = plain.Acquire();
        Assert.True(plain.IsHeldByCurrentThread);
    }
}
