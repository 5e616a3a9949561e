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
        gate.EnsureDeclared("Other._lock", 99);

        Assert.Equal("Account._lock", gate.Name);
        Assert.Equal(10, gate.Level);
        Assert.True(gate.IsOrdered);
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
}
