using System;

namespace Locksmith.Tests.Primitives;

public sealed class LockDeclarationTests
{
    [Fact]
    public void EnsureDeclared_NamesAndOrdersAnUnnamedLock_Once()
    {
        var gate = new ExclusiveLock();
        Assert.Null(gate.Level);

        gate.EnsureDeclared("Account._lock", 10);
        gate.EnsureDeclared("Other._lock", null);

        Assert.Equal("Account._lock", gate.Name);
        Assert.Equal(10, gate.Level);
        Assert.True(gate.IsOrdered);
    }

    /// <summary>
    /// A second member declaring the same instance (a container lock two generated classes receive) is recorded once,
    /// after the first, so hosting's catalog can list the lock once with both; the first keeps the name and level.
    /// </summary>
    [Fact]
    public void EnsureDeclared_ByASecondMember_RecordsItOnce_AndTheFirstKeepsNameAndLevel()
    {
        var gate = new ExclusiveLock();
        Assert.Null(gate.DeclaredBy);
        Assert.Empty(gate.Declarers);

        gate.EnsureDeclared("Till._lock", 15);
        gate.EnsureDeclared("Drawer._lock", 15);
        gate.EnsureDeclared("Drawer._lock", 15);
        gate.EnsureDeclared(string.Concat("Till.", "_lock"), 15);

        Assert.Equal("Till._lock", gate.DeclaredBy);
        Assert.Equal(["Till._lock", "Drawer._lock"], gate.Declarers);

        // The catalog reads it on every /locks request: the same view until a declarer is added, nothing allocated per read.
        Assert.Same(gate.Declarers, gate.Declarers);
        Assert.Equal("Till._lock", gate.Name);
        Assert.Equal(15, gate.Level);
    }

    /// <summary>
    /// A second declarer giving the instance a different [LockOrder] level used to be silently ignored; it now throws at
    /// that declaration, naming the lock, both members and both levels, and is not recorded.
    /// </summary>
    [Fact]
    public void EnsureDeclared_ByASecondMemberAtAnotherLevel_Throws_NamingBothMembersAndLevels()
    {
        var gate = new ExclusiveLock();
        gate.EnsureDeclared("Till._lock", 15);

        var ex = Assert.Throws<InvalidOperationException>(() => gate.EnsureDeclared("Drawer._lock", 20));
        Assert.Contains("'Till._lock' with level 15", ex.Message);
        Assert.Contains("'Drawer._lock' with [LockOrder(20)]", ex.Message);
        Assert.Contains("same [LockOrder] level", ex.Message);
        Assert.Equal(["Till._lock"], gate.Declarers);
        Assert.Equal(15, gate.Level);

        // Again on the next call, not only the first.
        Assert.Throws<InvalidOperationException>(() => gate.EnsureDeclared("Drawer._lock", 20));

        var unordered = new ExclusiveLock();
        unordered.EnsureDeclared("Till._lock", null);
        var late = Assert.Throws<InvalidOperationException>(() => unordered.EnsureDeclared("Drawer._lock", 20));
        Assert.Contains("'Till._lock' with no level", late.Message);
    }

    [Fact]
    public void EnsureDeclared_KeepsAConstructorName_AndRejectsAConflictingLevel()
    {
        var named = new ExclusiveLock("ledger");
        named.EnsureDeclared("Account._lock", null);
        Assert.Equal("ledger", named.Name);
        Assert.Null(named.Level);

        var leveled = new ExclusiveLock("ledger", level: 5);
        var ex = Assert.Throws<InvalidOperationException>(() => leveled.EnsureDeclared("Account._lock", 10));
        Assert.Contains("'ledger'", ex.Message);
        Assert.Contains("[LockOrder(10)]", ex.Message);
    }

    [Fact]
    public void DeclarationWhileAnotherThreadHoldsTheLock_LetsThatHolderRelease()
    {
        var exclusive = new ExclusiveLock();
        var reentrant = new ReentrantLock();
        var gate = new SpinGate();
        var rw = new ReadWriteLock();
        using var holder = new HeldOnOtherThread("early-holder", release =>
        {
            using var a = exclusive.Acquire();
            using var b = reentrant.Acquire();
            using var c = gate.Acquire();
            using var d = rw.AcquireRead();
            release.Wait();
        });
        holder.WaitUntilHeld(() => exclusive.IsHeld && reentrant.IsHeld && gate.IsHeld && rw.CurrentReaderCount == 1);

        exclusive.EnsureDeclared("A._exclusive", 1);
        reentrant.EnsureDeclared("A._reentrant", 2);
        gate.EnsureDeclared("A._gate", 3);
        rw.EnsureDeclared("A._rw", 4);
        holder.Release();

        Assert.False(exclusive.IsHeld);
        Assert.False(reentrant.IsHeld);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, rw.CurrentReaderCount);
        using var again = exclusive.Acquire();
        Assert.Equal(1, exclusive.Level);
    }

    [Fact]
    public void StripedReadWriteDeclaration_AppliesThePolicyToEveryStripe()
    {
        var striped = new StripedReadWriteLock<int>(4);
        striped.EnsureDeclared("Cache._stripes", 5, ReadWritePolicy.Fair);
        Assert.Equal(ReadWritePolicy.Fair, striped.Policy);
        Assert.Equal(ReadWritePolicy.Fair, striped.StripeAt(3).Policy);
        Assert.Equal("Cache._stripes[3]", striped.StripeAt(3).Name);
        Assert.Equal(5, striped.StripeAt(3).Level);
    }
}
