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

    private static void AssertNamesTheStripedLock(LockRecursionException error, string stripedLock, string takeMany)
    {
        Assert.Contains($"a stripe of {stripedLock}", error.Message, StringComparison.Ordinal);
        Assert.Contains("every key that maps to it", error.Message, StringComparison.Ordinal);
        Assert.Contains(takeMany, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ExclusiveLock is not reentrant", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ReadWriteLock is not reentrant", error.Message, StringComparison.Ordinal);
    }
}
