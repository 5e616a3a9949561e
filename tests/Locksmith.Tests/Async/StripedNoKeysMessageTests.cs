using System;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>Asking a striped lock for no keys at all: the ArgumentException names the striped lock and who asked.</summary>
public sealed class StripedNoKeysMessageTests
{
    [Fact]
    public async Task AcquireManyAsync_WithNoKeys_NamesTheStripedLockAndTheFlow()
    {
        // Before: "At least one key is needed. (Parameter 'keys')", naming neither.
        var accounts = new AsyncStripedLock<int>(8, "accounts");
        foreach (var form in new Func<ValueTask<AsyncLockSetScope>>[]
        {
            () => accounts.AcquireManyAsync([]),
            () => accounts.AcquireManyAsync([], TimeSpan.FromSeconds(1)),
            () => accounts.TryAcquireManyAsync([], TimeSpan.Zero),
        })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(async () => await form());
            Assert.Equal("keys", error.ParamName);
            Assert.StartsWith("The current async flow", error.Message, StringComparison.Ordinal);
            Assert.Contains("asked striped lock 'accounts' for no keys", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AcquireMany_WithNoKeys_NamesTheStripedLockAndTheThread()
    {
        var accounts = new StripedLock<int>(8, "sync-accounts");
        var error = Assert.Throws<ArgumentException>(() => accounts.AcquireMany(ReadOnlySpan<int>.Empty));
        Assert.Equal("keys", error.ParamName);
        Assert.StartsWith("Thread ", error.Message, StringComparison.Ordinal);
        Assert.Contains("asked striped lock 'sync-accounts' for no keys", error.Message, StringComparison.Ordinal);
    }
}
