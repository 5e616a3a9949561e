using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Messages;

/// <summary>
/// Taking a key's stripe again while holding it, by that key or another key that maps to the same stripe, is refused
/// with a message about the striped lock the user built: its type and name, and that keys share a stripe. It named the
/// stripe's own type (ExclusiveLock, AsyncExclusiveLock, ReadWriteLock), which the user never made, and suggested
/// ReentrantLock, which a striped lock cannot use.
/// </summary>
public sealed class StripeReentryMessageTests
{
    [Fact]
    public void StripedLock_TheSameKeyTwice_NamesTheStripedLock()
    {
        var striped = new StripedLock<string>(8, "accounts-sync");
        using (striped.Acquire("alice"))
        {
            var error = Assert.Throws<LockRecursionException>(() => striped.Acquire("alice"));
            AssertNamesTheStripedLock(error, "StripedLock<string> 'accounts-sync'", "AcquireMany");
            Assert.DoesNotContain("ReentrantLock", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StripedLock_AnotherKeyOfTheSameStripe_SaysKeysShareIt()
    {
        var striped = new StripedLock<int>(4, "slots-sync");
        int other = Enumerable.Range(1, 1_000).First(k => striped.StripeOf(k) == striped.StripeOf(0));
        using (striped.Acquire(0))
        {
            var error = Assert.Throws<LockRecursionException>(() => striped.Acquire(other));
            AssertNamesTheStripedLock(error, "StripedLock<int> 'slots-sync'", "AcquireMany");
        }
    }

    [Fact]
    public async Task AsyncStripedLock_TheSameKeyTwice_NamesTheStripedLock()
    {
        var striped = new AsyncStripedLock<string>(8, "accounts-async");
        using (await striped.AcquireAsync("alice"))
        {
            var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await striped.AcquireAsync("alice"));
            AssertNamesTheStripedLock(error, "AsyncStripedLock<string> 'accounts-async'", "AcquireManyAsync");
            Assert.StartsWith("Flow #", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StripedReadWriteLock_AWriteTwice_NamesTheStripedLock()
    {
        var striped = new StripedReadWriteLock<string>(8, "catalog-sync");
        using (striped.AcquireWrite("books"))
        {
            var error = Assert.Throws<LockRecursionException>(() => striped.AcquireWrite("books"));
            AssertNamesTheStripedLock(error, "StripedReadWriteLock<string> 'catalog-sync'", "AcquireManyWrite");
        }
    }

    // The same re-entry through the calls that take several keys, and through the read-write stripe's other modes: each
    // named the stripe's own type (ExclusiveLock, AsyncExclusiveLock, ReadWriteLock), which the user never made.
    [Fact]
    public void StripedLock_SeveralKeysWhileHoldingOneOfTheirStripes_NamesTheStripedLock()
    {
        var striped = new StripedLock<int>(4, "slots-many");
        int other = Enumerable.Range(1, 1_000).First(k => striped.StripeOf(k) == striped.StripeOf(0));
        using (striped.Acquire(0))
        {
            var error = Assert.Throws<LockRecursionException>(() => striped.AcquireMany(other));
            AssertNamesTheStripedLockOnly(error, "StripedLock<int> 'slots-many'");
        }
    }

    [Fact]
    public async Task AsyncStripedLock_SeveralKeysWhileHoldingOneOfTheirStripes_NamesTheStripedLock()
    {
        var striped = new AsyncStripedLock<int?>(4, "slots-many-async");
        using (await striped.AcquireAsync(0))
        {
            var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await striped.AcquireManyAsync(new int?[] { 0 }));
            AssertNamesTheStripedLockOnly(error, "AsyncStripedLock<int?> 'slots-many-async'");
        }
    }

    [Fact]
    public void StripedReadWriteLock_SeveralWritesWhileReadingOneOfTheirStripes_NamesTheStripedLock()
    {
        var striped = new StripedReadWriteLock<string>(8, "catalog-many");
        using (striped.AcquireRead("books"))
        {
            var error = Assert.Throws<LockRecursionException>(() => striped.AcquireManyWrite("books"));
            AssertNamesTheStripedLockOnly(error, "StripedReadWriteLock<string> 'catalog-many'");
        }
    }

    [Fact]
    public void StripedReadWriteLock_ReadWhileWritingUpgradeAndNestedRead_NameTheStripedLock()
    {
        var striped = new StripedReadWriteLock<string>(8, "catalog-modes");
        using (striped.AcquireWrite("books"))
        {
            AssertNamesTheStripedLockOnly(Assert.Throws<LockRecursionException>(() => striped.AcquireRead("books")), "StripedReadWriteLock<string> 'catalog-modes'");
        }

        using (striped.AcquireRead("books"))
        {
            AssertNamesTheStripedLockOnly(Assert.Throws<LockRecursionException>(() => striped.AcquireWrite("books")), "StripedReadWriteLock<string> 'catalog-modes'");
            AssertNamesTheStripedLockOnly(Assert.Throws<LockRecursionException>(() => striped.AcquireRead("books")), "StripedReadWriteLock<string> 'catalog-modes'");
        }
    }

    private static void AssertNamesTheStripedLockOnly(LockRecursionException error, string stripedLock)
    {
        Assert.Contains($"a stripe of {stripedLock}", error.Message, StringComparison.Ordinal);
        Assert.Contains("every key that maps to it", error.Message, StringComparison.Ordinal);
        foreach (string own in new[] { "ExclusiveLock", "ReadWriteLock" })
        {
            Assert.DoesNotContain($" {own} ", error.Message, StringComparison.Ordinal);
        }
    }

    private static void AssertNamesTheStripedLock(LockRecursionException error, string stripedLock, string takeMany)
    {
        Assert.Contains($"a stripe of {stripedLock}", error.Message, StringComparison.Ordinal);
        Assert.Contains("every key that maps to it", error.Message, StringComparison.Ordinal);
        Assert.Contains(takeMany, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ExclusiveLock is not reentrant", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ReadWriteLock is not reentrant", error.Message, StringComparison.Ordinal);
    }
}
