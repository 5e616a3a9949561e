using System;
using System.Linq;
using System.Threading;
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

    /// <summary>
    /// Two providers in one process (a test standing in for two instances) each make a lock of one name. A flow holding
    /// it through one and asking through the other was told to "acquire 'prices' first" while holding 'prices', advice
    /// that cannot help: on one server both objects are one advisory lock, held by the flow already. Then it was told so
    /// as an order violation; now, checked before the order as one provider checks it, it is the recursion it is.
    /// </summary>
    [Fact]
    public async Task TheSameNameThroughASecondProvider_InOneFlow_SaysTheFlowHoldsItThroughTheOther()
    {
        await using var provider = PostgresServer.Provider();
        await using var other = PostgresServer.Provider();
        string accountsName = PostgresServer.Unique("accounts"), pricesName = PostgresServer.Unique("prices");
        var accounts = provider.CreateKeyedLock<int>(accountsName, level: 10);
        var prices = provider.CreateReadWriteLock(pricesName, level: 5);

        await using (await accounts.AcquireAsync(1))
        {
            var keyed = Assert.Throws<LockRecursionException>(() => { _ = other.CreateKeyedLock<int>(accountsName, level: 10).AcquireAsync(1); });
            Assert.Contains($"'{accountsName}'[1] (level 10), which it already holds through another PostgresLockProvider of this process", keyed.Message, StringComparison.Ordinal);
            Assert.DoesNotContain($"acquire '{accountsName}' first", keyed.Message, StringComparison.Ordinal);
        }

        await using (await prices.AcquireReadAsync())
        {
            var readWrite = Assert.Throws<LockRecursionException>(() => { _ = other.CreateReadWriteLock(pricesName, level: 5).AcquireReadAsync(); });
            Assert.EndsWith(
                "Use one provider per server; to stand in for a second process (in a test), acquire from a flow of its own, started under ExecutionContext.SuppressFlow().",
                readWrite.Message,
                StringComparison.Ordinal);
        }

        Assert.Equal(0, other.ConnectionsInUse);
    }

    /// <summary>
    /// Another key of an ordered keyed lock, asked through a second provider's object of the same name, breaks the order
    /// as a second key through one object does. Its advice said the two were "one advisory lock" and that "a provider sees
    /// only its own holds": neither is so (two keys are two advisory locks, and the providers now see each other's holds).
    /// </summary>
    [Fact]
    public async Task AnotherKeyThroughASecondProvidersObjectOfTheSameName_ViolatesTheOrder_AndSaysToTakeTheKeysTogether()
    {
        await using var provider = PostgresServer.Provider();
        await using var other = PostgresServer.Provider();
        string name = PostgresServer.Unique("accounts");
        await using var one = await provider.CreateKeyedLock<int>(name, level: 10).AcquireAsync(1);

        var error = Assert.Throws<LockOrderViolationException>(() => { _ = other.CreateKeyedLock<int>(name, level: 10).AcquireAsync(2); });

        Assert.Contains($"acquiring '{name}[2]' (level 10) while holding '{name}[1]' (level 10)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{name}' is held by this flow through another lock object of the same name", error.Message, StringComparison.Ordinal);
        Assert.Contains("take the keys together through one object, with AcquireManyAsync or a PostgresLockSet", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("one advisory lock", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sees only its own holds", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(
            "Use one provider per server; to stand in for a second process (in a test), acquire from a flow of its own, started under ExecutionContext.SuppressFlow().",
            error.Message,
            StringComparison.Ordinal);
        Assert.Equal(0, other.ConnectionsInUse);
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
        Assert.Equal($"{distributed.Name}[1]", setError.Violation.RequestedLockName);
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

        Assert.Equal($"{accounts.Name}[2]", error.Violation.RequestedLockName);
        Assert.Equal($"{accounts.Name}[1]", error.Violation.HeldLockName);
        // Both keys with their level, as an in-process striped lock names its stripes; before, 'accounts' twice.
        Assert.Contains($"acquiring '{accounts.Name}[2]' (level 10) while holding '{accounts.Name}[1]' (level 10)", error.Message, StringComparison.Ordinal);
        Assert.Contains("take them together, with AcquireManyAsync or a PostgresLockSet", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LockSet to take both", error.Message, StringComparison.Ordinal);
        Assert.False(accounts.IsHeldByCurrentFlow(2));
    }

    [Fact]
    public async Task KeyedLocksOutOfOrder_NameBothKeysAndLevels_AlsoInALockSet()
    {
        await using var provider = PostgresServer.Provider();
        var ledger = provider.CreateKeyedLock<int>(PostgresServer.Unique("ledger"), level: 20);
        var accounts = provider.CreateKeyedLock<string>(PostgresServer.Unique("accounts"), level: 10);
        await using var held = await ledger.AcquireAsync(7);

        var single = Assert.Throws<LockOrderViolationException>(() => { _ = accounts.AcquireAsync("gb-42"); });
        var set = Assert.Throws<LockOrderViolationException>(() => { _ = accounts.AcquireManyAsync(["gb-42", "fr-7"]); });
        var sameLock = Assert.Throws<LockOrderViolationException>(() => { _ = ledger.AcquireManyAsync([8, 9]); });

        Assert.Contains($"acquiring '{accounts.Name}[gb-42]' (level 10) while holding '{ledger.Name}[7]' (level 20)", single.Message, StringComparison.Ordinal);
        // The set names its first key in the global order (by advisory key), whichever of the two that is.
        Assert.Matches($@"acquiring '{accounts.Name}\[(gb-42|fr-7)\]' \(level 10\) while holding '{ledger.Name}\[7\]' \(level 20\)", set.Message);
        Assert.Contains($"acquiring '{ledger.Name}[8]' (level 20) while holding '{ledger.Name}[7]' (level 20)", sameLock.Message, StringComparison.Ordinal);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    /// <summary>
    /// Children a flow starts inside a hold take one key each of an ordered keyed lock at once: the first to ask takes its
    /// key and the others break the order, every round, as with in-process locks. Before, a sibling's acquisition counted
    /// only once its round trip ended, so how many children broke the order depended on timing (the trial: 4 to 16 rounds
    /// of 20 had all three succeed).
    /// </summary>
    [Fact]
    public async Task SiblingsTakingKeysOfAnOrderedKeyedLock_BreakTheOrder_EveryRound()
    {
        await using var provider = PostgresServer.Provider(budget: 8);
        string prefix = PostgresServer.Unique("fanout");
        var nightly = provider.CreateExclusiveLock(prefix + "_nightly", level: 1);
        var customers = provider.CreateKeyedLock<int>(prefix + "_customers", level: 10);

        for (int round = 0; round < 20; round++)
        {
            await using var held = await nightly.AcquireAsync();
            var allAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var children = Enumerable.Range(1, 3).Select(async key =>
            {
                try
                {
                    // Held until every child has asked, so a sibling's check never comes after the key's release.
                    await using var scope = await customers.AcquireAsync(key, TimeSpan.FromSeconds(60));
                    await allAsked.Task;
                    return "ok";
                }
                catch (LockOrderViolationException)
                {
                    return "order";
                }
            }).ToArray();
            allAsked.SetResult();
            var outcomes = await Task.WhenAll(children);

            Assert.True(outcomes.SequenceEqual(["ok", "order", "order"]), $"round {round}: {string.Join(",", outcomes)}");
        }
    }

    /// <summary>
    /// A sibling's acquisition that is still waiting on the server counts for the order: another key of the same
    /// ordered keyed lock, or a lock at a lower level, breaks it at once (before, both were taken).
    /// </summary>
    [Fact]
    public async Task ASiblingsPendingAcquisition_CountsForTheOrder()
    {
        await using var provider = PostgresServer.Provider(budget: 8);
        await using var other = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        string prefix = PostgresServer.Unique("pending");
        var nightly = provider.CreateExclusiveLock(prefix + "_nightly", level: 1);
        var low = provider.CreateExclusiveLock(prefix + "_low", level: 5);
        var customers = provider.CreateKeyedLock<int>(prefix + "_customers", level: 10);
        Task<PostgresLockScope> takingOne;
        using (ExecutionContext.SuppressFlow())
        {
            takingOne = Task.Run(async () => await other.CreateKeyedLock<int>(prefix + "_customers").AcquireAsync(1));
        }

        var theirOne = await takingOne;
        await using var held = await nightly.AcquireAsync();
        var waiting = Task.Run(async () => await customers.AcquireAsync(1, TimeSpan.FromSeconds(60)));
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, customers.KeyOf(1));

        var keyError = await Assert.ThrowsAsync<LockOrderViolationException>(() => Task.Run(async () => await customers.AcquireAsync(2, TimeSpan.FromSeconds(5))));
        var levelError = await Assert.ThrowsAsync<LockOrderViolationException>(() => Task.Run(async () => await low.AcquireAsync(TimeSpan.FromSeconds(5))));

        // The pending key is named as held: the sibling is still waiting for it.
        Assert.Equal($"{customers.Name}[2]", keyError.Violation.RequestedLockName);
        Assert.Equal($"{customers.Name}[1]", keyError.Violation.HeldLockName);
        Assert.Equal($"{customers.Name}[1]", levelError.Violation.HeldLockName);
        Assert.Equal(low.Name, levelError.Violation.RequestedLockName);
        await theirOne.DisposeAsync();
        await using var one = await waiting;
        Assert.True(customers.IsHeldByCurrentFlow(1));
        Assert.False(customers.IsHeldByCurrentFlow(2));
    }

    /// <summary>A pending acquisition that fails (here, times out) gives its place in the order back.</summary>
    [Fact]
    public async Task AFailedAcquisition_NoLongerCountsForTheOrder()
    {
        // Warmed: opening the session must not spend the 50 ms budget below.
        await using var provider = await PostgresServer.WarmedProviderAsync();
        await using var other = PostgresServer.Provider();
        string prefix = PostgresServer.Unique("failed");
        var customers = provider.CreateKeyedLock<int>(prefix + "_customers", level: 10);
        Task<PostgresLockScope> takingOne;
        using (ExecutionContext.SuppressFlow())
        {
            takingOne = Task.Run(async () => await other.CreateKeyedLock<int>(prefix + "_customers").AcquireAsync(1));
        }

        await using var theirOne = await takingOne;

        var timedOut = await customers.TryAcquireAsync(1, TimeSpan.FromMilliseconds(50));
        await using var two = await customers.AcquireAsync(2, TimeSpan.FromSeconds(60));

        Assert.False(timedOut.IsAcquired);
        Assert.True(two.IsAcquired);
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
