using System;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The timed multi-key forms of <see cref="PostgresKeyedLock{TKey}"/>, which every single-key form and
/// <see cref="AsyncStripedLock{TKey}"/>'s multi-key forms have: all or nothing within the timeout.
/// </summary>
public sealed class PostgresKeyedTimedManyTests
{
    [Fact]
    public async Task TimedAcquireMany_GivesUpWhileAKeyIsHeldElsewhere_HoldingNone_AndTakesAllOnceFree()
    {
        // Warmed: opening the first session must not spend the 100 ms budgets below.
        await using var first = await PostgresServer.WarmedProviderAsync();
        await using var second = PostgresServer.Provider();
        string lockClass = PostgresServer.Unique("timed_many");
        var here = first.CreateKeyedLock<int>(lockClass, level: 10);
        var there = second.CreateKeyedLock<int>(lockClass, level: 10);

        // Another process (its own provider and sessions) holds key 2.
        var elsewhere = await KeyHeldElsewhere.HoldAsync(there, 2);

        var tried = await here.TryAcquireManyAsync([1, 2], TimeSpan.FromMilliseconds(100));
        var thrown = await Assert.ThrowsAsync<LockTimeoutException>(async () => await here.AcquireManyAsync([2, 1], TimeSpan.FromMilliseconds(100)));

        // All or nothing: key 1, free all along, is not left held by either attempt.
        Assert.False(tried.IsAcquired);
        Assert.Equal(0, tried.Count);
        Assert.Contains($"'{lockClass}'[2]", thrown.Message, StringComparison.Ordinal);
        Assert.False(here.IsHeldByCurrentFlow(1));
        Assert.Equal(0, first.HeldCount);
        Assert.Equal(0, first.ConnectionsInUse);
        var keyOne = await there.TryAcquireAsync(1, TimeSpan.Zero);
        Assert.True(keyOne.IsAcquired);
        await keyOne.DisposeAsync();

        await elsewhere.DisposeAsync();

        await using (var both = await here.TryAcquireManyAsync([2, 1, 2], TimeSpan.FromSeconds(30)))
        {
            Assert.True(both.IsAcquired);
            Assert.Equal(2, both.Count);
            Assert.True(here.IsHeldByCurrentFlow(1) && here.IsHeldByCurrentFlow(2));
        }

        await using (var both = await here.AcquireManyAsync([1, 2], TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(2, both.Count);
        }

        Assert.Equal(0, first.HeldCount);
        Assert.Equal(0, first.ConnectionsInUse);
    }

    [Fact]
    public async Task TimedAcquireMany_ANegativeTimeout_IsRefusedAtOnce_NamingTheLock_AndTakesNothing()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("timed_many_bad"));

        var acquire = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await accounts.AcquireManyAsync([1, 2], TimeSpan.FromMilliseconds(-5)));
        var tryAcquire = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await accounts.TryAcquireManyAsync([1, 2], TimeSpan.FromMilliseconds(-5)));

        foreach (var refused in new[] { acquire, tryAcquire })
        {
            Assert.Contains(accounts.Name, refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
