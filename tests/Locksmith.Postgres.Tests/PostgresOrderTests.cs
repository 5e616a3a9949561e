using System;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

public sealed class PostgresOrderTests
{
    [Fact]
    public async Task ADistributedLockAtOrBelowAHeldLevel_ViolatesTheOrder_LikeAnInProcessLock()
    {
        await using var provider = PostgresServer.Provider();
        var high = provider.CreateExclusiveLock(PostgresServer.Unique("high"), level: 20);
        var low = provider.CreateExclusiveLock(PostgresServer.Unique("low"), level: 10);
        await using var held = await high.AcquireAsync();

        var error = Assert.Throws<LockOrderViolationException>(() => { _ = low.AcquireAsync(); });

        Assert.Equal(high.Name, error.Violation.HeldLockName);
        Assert.Equal(low.Name, error.Violation.RequestedLockName);
        Assert.EndsWith($"acquire '{low.Name}' first, or take both with a PostgresLockSet (LockSet takes in-process locks only).", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task InProcessAndDistributedLocks_ShareOneGlobalOrder()
    {
        await using var provider = PostgresServer.Provider();
        var inProcess = new AsyncExclusiveLock(PostgresServer.Unique("cache"), level: 30);
        var distributed = provider.CreateKeyedLock<int>(PostgresServer.Unique("accounts"), level: 10);
        using var held = await inProcess.AcquireAsync();

        var error = Assert.Throws<LockOrderViolationException>(() => { _ = distributed.AcquireAsync(1); });
        var setError = Assert.Throws<LockOrderViolationException>(() => { _ = PostgresLockSet.AcquireAsync(distributed.Request(1), distributed.Request(2)); });

        Assert.Equal(inProcess.Name, error.Violation.HeldLockName);
        Assert.Equal(distributed.Name, setError.Violation.RequestedLockName);
        Assert.EndsWith($"acquire '{distributed.Name}' first (a lock set cannot mix in-process and distributed locks).", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task ASecondKeyOfAnOrderedKeyedLock_TakenAlone_ViolatesTheOrder()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("accounts"), level: 10);
        await using var one = await accounts.AcquireAsync(1);

        var error = Assert.Throws<LockOrderViolationException>(() => { _ = accounts.AcquireAsync(2); });

        Assert.Equal(accounts.Name, error.Violation.RequestedLockName);
        Assert.Contains("take them together, with AcquireManyAsync or a PostgresLockSet", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LockSet to take both", error.Message, StringComparison.Ordinal);
        Assert.False(accounts.IsHeldByCurrentFlow(2));
    }

    [Fact]
    public async Task HigherLevels_AfterLowerOnes_AreInOrder()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("accounts"), level: 10);
        var audit = provider.CreateExclusiveLock(PostgresServer.Unique("audit"), level: 20);
        var cache = new AsyncExclusiveLock(PostgresServer.Unique("cache"), level: 30);

        await using var both = await accounts.AcquireManyAsync([1, 2]);
        await using var log = await audit.AcquireAsync();
        using var local = await cache.AcquireAsync();

        Assert.True(audit.IsHeldByCurrentFlow);
        Assert.Equal(1, provider.ConnectionsInUse);
    }
}
