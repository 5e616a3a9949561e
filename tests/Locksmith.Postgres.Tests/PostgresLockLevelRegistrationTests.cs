using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Two lock objects of one provider for one advisory lock at two levels: each checked the order with its own level, so
/// two flows could take the one lock in opposite orders without an order violation. The second is now refused at
/// creation; objects at the same level are one lock, as before.
/// </summary>
public sealed class PostgresLockLevelRegistrationTests
{
    [Theory]
    [InlineData(3, 5, "at level 3", "at level 5")]
    [InlineData(null, 5, "unordered", "at level 5")]
    [InlineData(3, null, "at level 3", "unordered")]
    public async Task ASecondObjectForANameAtAnotherLevel_IsRefused_NamingBothLevels(int? first, int? second, string firstText, string secondText)
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("ledger");
        var made = provider.CreateExclusiveLock(name, first);

        var error = Assert.Throws<InvalidOperationException>(() => provider.CreateReadWriteLock(name, second));
        var again = Assert.Throws<InvalidOperationException>(() => provider.CreateExclusiveLock(name, second));

        Assert.Equal(
            $"The distributed lock '{name}' was created on this provider {firstText}; another object for it {secondText} would let " +
            "flows take it in opposite orders without an order violation. Give every object for it the same level, or create it once and share it.",
            error.Message);
        Assert.Equal(error.Message, again.Message);

        // The refused objects left the first one as it was.
        await using (var scope = await made.AcquireAsync())
        {
            Assert.True(made.IsHeldByCurrentFlow);
        }

        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task ASecondKeyedLockForAClassAtAnotherLevel_IsRefused()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("accounts");
        _ = provider.CreateKeyedLock<int>(name, level: 10);

        var error = Assert.Throws<InvalidOperationException>(() => provider.CreateKeyedLock<int>(name, level: 20));

        Assert.StartsWith($"The keyed distributed lock '{name}' was created on this provider at level 10; another object for it at level 20 ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ObjectsForANameAtTheSameLevel_AreOneLock()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("prices");
        var first = provider.CreateExclusiveLock(name, level: 5);
        var second = provider.CreateExclusiveLock(name, level: 5);

        await using var scope = await first.AcquireAsync();

        Assert.True(second.IsHeldByCurrentFlow);
        await Assert.ThrowsAsync<LockRecursionException>(async () => await second.TryAcquireAsync(TimeSpan.Zero));
    }
}
