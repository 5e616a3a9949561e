using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

public sealed class PostgresKeyedAndReadWriteTests
{
    [Fact]
    public async Task Readers_ShareTheLock_AndAWriterWaitsForThemAll()
    {
        // Three providers: three sessions, as if three processes (one flow never asks twice for the same lock).
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string name = PostgresServer.Unique("catalog");
        var here = first.CreateReadWriteLock(name);
        var there = second.CreateReadWriteLock(name);
        var writer = third.CreateReadWriteLock(name);

        var readerHere = await here.AcquireReadAsync();
        var readerThere = await there.TryAcquireReadAsync(TimeSpan.Zero);
        var writerWhileRead = await writer.TryAcquireWriteAsync(TimeSpan.FromMilliseconds(50));
        Assert.True(readerHere.IsAcquired);
        Assert.True(readerThere.IsAcquired);
        Assert.False(writerWhileRead.IsAcquired);

        await readerThere.DisposeAsync();
        var writerWhileOneRead = await writer.TryAcquireWriteAsync(TimeSpan.Zero);
        Assert.False(writerWhileOneRead.IsAcquired);

        await readerHere.DisposeAsync();
        await using var written = await writer.AcquireWriteAsync(TimeSpan.FromSeconds(30));
        var readerWhileWritten = await here.TryAcquireReadAsync(TimeSpan.Zero);
        Assert.True(written.IsAcquired);
        Assert.False(readerWhileWritten.IsAcquired);
        Assert.True(writer.IsHeldByCurrentFlow);
        Assert.False(there.IsHeldByCurrentFlow);
    }

    [Fact]
    public async Task KeyedLocks_AreIndependentPerKey_AndPerClass()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        string accounts = PostgresServer.Unique("accounts");
        string orders = PostgresServer.Unique("orders");
        var accountsHere = first.CreateKeyedLock<int>(accounts);
        var accountsThere = second.CreateKeyedLock<int>(accounts);
        var ordersThere = second.CreateKeyedLock<int>(orders);

        await using var held = await accountsHere.AcquireAsync(1);
        var sameKey = await accountsThere.TryAcquireAsync(1, TimeSpan.FromMilliseconds(50));
        await using var otherKey = await accountsThere.TryAcquireAsync(2, TimeSpan.Zero);
        await using var otherClass = await ordersThere.TryAcquireAsync(1, TimeSpan.Zero);

        Assert.False(sameKey.IsAcquired);
        Assert.True(otherKey.IsAcquired);
        Assert.True(otherClass.IsAcquired);
        Assert.NotEqual(accountsHere.ClassId, ordersThere.ClassId);
        Assert.True(accountsHere.IsHeldByCurrentFlow(1));
        Assert.False(accountsHere.IsHeldByCurrentFlow(3));
    }

    [Fact]
    public async Task KeyedTimeout_NamesTheLockAndTheKey()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        string accounts = PostgresServer.Unique("accounts");
        await using var held = await first.CreateKeyedLock<long>(accounts).AcquireAsync(42L);

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await second.CreateKeyedLock<long>(accounts).AcquireAsync(42L, TimeSpan.FromMilliseconds(100)));

        Assert.Equal(accounts, error.LockName);
        Assert.Contains($"'{accounts}'[42]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OppositeOrderOutsideTheLockOrder_OneSessionGetsTheDeadlockException_NamingBothKeys()
    {
        // Unordered (no level): nothing stops the cycle before the server sees it.
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        string accounts = PostgresServer.Unique("accounts");
        var here = first.CreateKeyedLock<int>(accounts);
        var there = second.CreateKeyedLock<int>(accounts);
        var bothHoldOne = new CountdownEvent(2);

        async Task<DeadlockException?> Transfer(PostgresKeyedLock<int> gate, int from, int to)
        {
            await using var source = await gate.AcquireAsync(from);
            bothHoldOne.Signal();
            if (!bothHoldOne.Wait(TimeSpan.FromMinutes(2)))
            {
                throw new TimeoutException("The other transfer never took its first account (a hang guard, not a measurement).");
            }

            try
            {
                await using var target = await gate.AcquireAsync(to, TimeSpan.FromSeconds(60));
                return null;
            }
            catch (DeadlockException e)
            {
                return e;
            }
        }

        var results = await Task.WhenAll(
            Task.Run(() => Transfer(here, 1, 2)),
            Task.Run(() => Transfer(there, 2, 1)));

        var victim = Assert.Single(results, r => r is not null)!;
        Assert.Contains($"'{accounts}'[1]", victim.Message, StringComparison.Ordinal);
        Assert.Contains($"'{accounts}'[2]", victim.Message, StringComparison.Ordinal);
        Assert.Equal(2, victim.LockNames.Count);
        Assert.IsType<Npgsql.PostgresException>(victim.InnerException);
        Assert.Equal(0, first.ConnectionsInUse);
        Assert.Equal(0, second.ConnectionsInUse);
    }
}
