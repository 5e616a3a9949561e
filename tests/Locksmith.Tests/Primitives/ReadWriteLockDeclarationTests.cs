using System;

namespace Locksmith.Tests.Primitives;

public sealed class ReadWriteLockDeclarationTests
{
    [Fact]
    public void DeclaredPolicy_IsApplied_WhileIdle()
    {
        var rw = new ReadWriteLock();
        rw.EnsureDeclared("PriceCache._lock", 20, ReadWritePolicy.Fair);

        Assert.Equal(ReadWritePolicy.Fair, rw.Policy);
        Assert.Equal("PriceCache._lock", rw.Name);
        Assert.Equal(20, rw.Level);
    }

    [Fact]
    public void DeclaredPolicy_CannotChangeALockInUse()
    {
        var rw = new ReadWriteLock("prices");
        using var read = rw.AcquireRead();
        var ex = Assert.Throws<InvalidOperationException>(() => rw.EnsureDeclared("PriceCache._lock", null, ReadWritePolicy.ReaderPreferred));
        Assert.Contains("'prices'", ex.Message);
        Assert.Equal(ReadWritePolicy.WriterPreferred, rw.Policy);
    }
}
