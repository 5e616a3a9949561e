using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Postgres.Tests;

public sealed class PostgresKeyedAndReadWriteTests
{
    [Fact]
    public async Task Readers_ShareTheLock_AndAWriterWaitsForThemAll()
    {
        // Three providers: three sessions, as if three processes; each other process's request from a flow of its own (a
        // flow asking through a second provider for a lock it holds through the first is a recursion).
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string name = PostgresServer.Unique("catalog");
        var here = first.CreateReadWriteLock(name);
        var there = second.CreateReadWriteLock(name);
        var writer = third.CreateReadWriteLock(name);

        // The other two processes' first uses are a try-once and a 50 ms try: their pools are opened first.
        await Task.WhenAll(PostgresServer.WarmUpAsync(second), PostgresServer.WarmUpAsync(third));
        var readerHere = await here.AcquireReadAsync();
        var readerThere = await PostgresServer.InAFlowOfItsOwn(async () => await there.TryAcquireReadAsync(TimeSpan.Zero));
        bool writerWhileRead = await PostgresServer.TakenAtOnceElsewhereAsync(() => writer.TryAcquireWriteAsync(TimeSpan.FromMilliseconds(50)));
        Assert.True(readerHere.IsAcquired);
        Assert.True(readerThere.IsAcquired);
        Assert.False(writerWhileRead);

        await readerThere.DisposeAsync();
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => writer.TryAcquireWriteAsync(TimeSpan.Zero)));

        await readerHere.DisposeAsync();
        await using var written = await writer.AcquireWriteAsync(TimeSpan.FromSeconds(30));
        bool readerWhileWritten = await PostgresServer.TakenAtOnceElsewhereAsync(() => here.TryAcquireReadAsync(TimeSpan.Zero));
        Assert.True(written.IsAcquired);
        Assert.False(readerWhileWritten);
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

        // The second provider's first use is a 50 ms try: its pool is opened first.
        await PostgresServer.WarmUpAsync(second);

        await using var held = await accountsHere.AcquireAsync(1);
        bool sameKey = await PostgresServer.TakenAtOnceElsewhereAsync(() => accountsThere.TryAcquireAsync(1, TimeSpan.FromMilliseconds(50)));
        await using var otherKey = await accountsThere.TryAcquireAsync(2, TimeSpan.Zero);
        await using var otherClass = await ordersThere.TryAcquireAsync(1, TimeSpan.Zero);

        Assert.False(sameKey);
        Assert.True(otherKey.IsAcquired);
        Assert.True(otherClass.IsAcquired);
        Assert.NotEqual(accountsHere.ClassId, ordersThere.ClassId);
        Assert.True(accountsHere.IsHeldByCurrentFlow(1));
        Assert.False(accountsHere.IsHeldByCurrentFlow(3));
    }

    [Fact]
    public async Task TwoKeysSharingAnAdvisoryLock_TakenOneAfterTheOther_AreRefusedNamingBothKeys()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<long>(PostgresServer.Unique("gB-accounts"));

        // 4294967296 (2^32) folds its halves to 1: the same advisory lock as account 1.
        await using var one = await accounts.AcquireAsync(1L);
        var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await accounts.AcquireAsync(4294967296L));
        var inASet = await Assert.ThrowsAsync<LockRecursionException>(async () => await accounts.AcquireManyAsync([4294967296L, 7L]));

        // Before, both said the flow tried to acquire 'accounts'[4294967296], "which it already holds": it holds account 1.
        foreach (var refused in new[] { error, inASet })
        {
            Assert.Contains($"acquire '{accounts.Name}'[4294967296] while it holds '{accounts.Name}'[1]", refused.Message, StringComparison.Ordinal);
            Assert.Contains("same advisory lock", refused.Message, StringComparison.Ordinal);
            Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) tried to acquire ", refused.Message);
            Assert.Contains("keyMap", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, provider.HeldCount);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    /// <summary>
    /// The refusal above tells the user to "give the keyed lock a keyMap", which only its constructor took: a lock made
    /// with CreateKeyedLock or registered with AddPostgresKeyedLock (what README shows) could not have one.
    /// </summary>
    [Fact]
    public async Task AKeyMap_GivenToCreateKeyedLockOrTheBuilder_KeepsFoldedKeysApart()
    {
        static int KeyMap(long key) => key == 4294967296L ? 2 : (int)key;

        await using var provider = PostgresServer.Provider();
        var created = provider.CreateKeyedLock<long>(PostgresServer.Unique("gB-mapped"), keyMap: KeyMap);

        string registeredName = PostgresServer.Unique("gB-mapped-registered");
        var services = new ServiceCollection();
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString).AddPostgresKeyedLock<long>(registeredName, keyMap: KeyMap);
        await using var container = services.BuildServiceProvider();
        var registered = container.GetRequiredKeyedService<PostgresKeyedLock<long>>(registeredName);

        foreach (var accounts in new[] { created, registered })
        {
            // Without the map, 2^32 folds to 1 and is refused while 1 is held (the test above). Unordered, so one
            // flow may take two keys one after the other.
            await using var one = await accounts.AcquireAsync(1L);
            await using var wide = await accounts.AcquireAsync(4294967296L);
            Assert.True(accounts.IsHeldByCurrentFlow(1L));
            Assert.True(accounts.IsHeldByCurrentFlow(4294967296L));
        }
    }

    [Fact]
    public async Task AFlowAskingForTheOtherModeOfAReadWriteLockItHolds_IsToldWhichModeItHolds()
    {
        await using var provider = PostgresServer.Provider();
        var prices = provider.CreateReadWriteLock(PostgresServer.Unique("gB-prices"));
        var catalog = provider.CreateReadWriteLock(PostgresServer.Unique("gB-catalog"));

        // Before, each said only that the flow tried to acquire the lock "which it already holds", in no mode.
        await using (var read = await prices.AcquireReadAsync())
        {
            var upgrade = await Assert.ThrowsAsync<LockRecursionException>(async () => await prices.AcquireWriteAsync(TimeSpan.FromSeconds(5)));
            var inASet = await Assert.ThrowsAsync<LockRecursionException>(async () => await PostgresLockSet.AcquireAsync(prices.WriteRequest(), catalog.ReadRequest()));
            foreach (var refused in new[] { upgrade, inASet })
            {
                Assert.Contains($"tried to acquire write access to '{prices.Name}' while it holds read access", refused.Message, StringComparison.Ordinal);
                Assert.Contains("does not upgrade", refused.Message, StringComparison.Ordinal);
                Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) tried to acquire ", refused.Message);
            }
        }

        await using (var write = await prices.AcquireWriteAsync())
        {
            var downgrade = await Assert.ThrowsAsync<LockRecursionException>(async () => await prices.AcquireReadAsync(TimeSpan.FromSeconds(5)));
            Assert.Contains($"tried to acquire read access to '{prices.Name}' while it holds write access", downgrade.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task KeyedTimeout_NamesTheLockAndTheKey()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        string accounts = PostgresServer.Unique("accounts");
        await using var held = await KeyHeldElsewhere.HoldAsync(first.CreateKeyedLock<long>(accounts), 42L);

        // The 100 ms go to the wait, not to opening the second provider's first session.
        await PostgresServer.WarmUpAsync(second);
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
