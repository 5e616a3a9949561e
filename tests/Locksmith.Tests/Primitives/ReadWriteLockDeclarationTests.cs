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

    // A registration's policy (AddAsyncReadWriteLock("prices", 10, Fair)) was silently replaced by the [ReadMostly]
    // attribute's default on the first wrapper call; like a level given twice, it is now an error naming both places.
    [Fact]
    public void APolicyChosenAtConstruction_IsNotReplacedByADeclaration_SyncAsyncAndStriped()
    {
        var rw = new ReadWriteLock("prices", null, ReadWritePolicy.Fair);
        var asyncRw = new AsyncReadWriteLock("async-prices", null, ReadWritePolicy.ReaderPreferred);
        var striped = new StripedReadWriteLock<int>(4, "striped-prices", policy: ReadWritePolicy.Fair);

        var sync = Assert.Throws<InvalidOperationException>(() => rw.EnsureDeclared("Prices._lock", null, ReadWritePolicy.WriterPreferred));
        var async = Assert.Throws<InvalidOperationException>(() => asyncRw.EnsureDeclared("Prices._lock", null, ReadWritePolicy.Fair));
        var stripes = Assert.Throws<InvalidOperationException>(() => striped.EnsureDeclared("Prices._stripes", null, ReadWritePolicy.WriterPreferred));

        Assert.Equal(
            "Lock 'prices' was constructed with ReadWritePolicy.Fair but 'Prices._lock' is in a [ReadMostly] type that declares " +
            "ReadWritePolicy.WriterPreferred (set explicitly, or the attribute's default when Policy is not set). Give the policy in one place only: " +
            "[ReadMostly(Policy = ReadWritePolicy.Fair)], or create the lock without a policy (its constructor, or its registration: " +
            "AddReadWriteLock, AddAsyncReadWriteLock or AddStripedReadWriteLock with no policy argument).",
            sync.Message);
        Assert.Contains("'async-prices' was constructed with ReadWritePolicy.ReaderPreferred but 'Prices._lock'", async.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("attribute's default", async.Message, StringComparison.Ordinal);
        Assert.Contains("'striped-prices' was constructed with ReadWritePolicy.Fair", stripes.Message, StringComparison.Ordinal);
        Assert.Equal((ReadWritePolicy.Fair, ReadWritePolicy.ReaderPreferred, ReadWritePolicy.Fair), (rw.Policy, asyncRw.Policy, striped.StripeAt(2).Policy));

        // The same policy declared again is no conflict, and a lock built with the default still takes the declared one.
        rw.EnsureDeclared("Prices._lock", null, ReadWritePolicy.Fair);
        var plain = new AsyncReadWriteLock("plain-prices");
        plain.EnsureDeclared("Prices._lock", null, ReadWritePolicy.Fair);
        Assert.Equal(ReadWritePolicy.Fair, plain.Policy);

        // A striped lock built with the default is judged by its constructor too, not by a policy declared since.
        var plainStripes = new StripedReadWriteLock<int>(4, "plain-stripes");
        plainStripes.EnsureDeclared("Prices._stripes", null, ReadWritePolicy.Fair);
        plainStripes.EnsureDeclared("Quotes._stripes", null, ReadWritePolicy.ReaderPreferred);
        Assert.Equal(ReadWritePolicy.ReaderPreferred, plainStripes.StripeAt(1).Policy);
    }
}
