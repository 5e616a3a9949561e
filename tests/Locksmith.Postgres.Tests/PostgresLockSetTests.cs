using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

public sealed class PostgresLockSetTests
{
    [Fact]
    public async Task TransfersInOppositeDirections_NeverDeadlock_AndConserveTheTotalInTheTable()
    {
        const int Iterations = 40;
        string table = PostgresServer.Unique("accounts");
        await using var data = NpgsqlDataSource.Create(PostgresServer.ConnectionString);
        await Execute(data, $"CREATE TABLE {table} (id int PRIMARY KEY, balance int NOT NULL); INSERT INTO {table} VALUES (1, 100), (2, 100);");
        try
        {
            // Two providers: two pools and two sets of sessions, as two processes would have.
            await using var first = PostgresServer.Provider();
            await using var second = PostgresServer.Provider();
            string lockClass = PostgresServer.Unique("account_locks");
            var here = first.CreateKeyedLock<int>(lockClass, level: 10);
            var there = second.CreateKeyedLock<int>(lockClass, level: 10);

            async Task Transfer(PostgresKeyedLock<int> accounts, int from, int to)
            {
                for (int i = 0; i < Iterations; i++)
                {
                    await using var both = await PostgresLockSet.AcquireAsync(accounts.Request(from), accounts.Request(to));

                    // Read, pause, write: without the locks, concurrent transfers would lose updates.
                    int source = await Balance(data, table, from);
                    int target = await Balance(data, table, to);
                    await Task.Yield();
                    await Execute(data, $"UPDATE {table} SET balance = {source - 1} WHERE id = {from}; UPDATE {table} SET balance = {target + 1} WHERE id = {to};");
                }
            }

            await Task.WhenAll(
                Task.Run(() => Transfer(here, 1, 2)),
                Task.Run(() => Transfer(there, 2, 1)),
                Task.Run(() => Transfer(here, 2, 1)),
                Task.Run(() => Transfer(there, 1, 2)));

            Assert.Equal(100, await Balance(data, table, 1));
            Assert.Equal(100, await Balance(data, table, 2));
            Assert.Equal(0, first.ConnectionsInUse);
            Assert.Equal(0, second.ConnectionsInUse);
        }
        finally
        {
            await Execute(data, $"DROP TABLE {table}");
        }
    }

    [Fact]
    public async Task ASetThatCannotHaveEveryLock_HoldsNone()
    {
        // Warmed: opening the first session must not spend the 100 ms budgets below.
        await using var first = await PostgresServer.WarmedProviderAsync();
        await using var second = PostgresServer.Provider();
        string lockClass = PostgresServer.Unique("account_locks");
        var here = first.CreateKeyedLock<int>(lockClass, level: 10);
        var there = second.CreateKeyedLock<int>(lockClass, level: 10);
        // Another flow (as another process would): this flow's own level-10 hold would make the set out of order.
        var elsewhere = await KeyHeldElsewhere.HoldAsync(there, 2);

        var set = await PostgresLockSet.TryAcquireAsync(TimeSpan.FromMilliseconds(100), [here.Request(1), here.Request(2)]);
        var thrown = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await PostgresLockSet.AcquireAsync(TimeSpan.FromMilliseconds(100), [here.Request(2), here.Request(1)]));

        var keyOne = await there.TryAcquireAsync(1, TimeSpan.Zero);
        bool keyOneWasFree = keyOne.IsAcquired;
        await keyOne.DisposeAsync();
        await elsewhere.DisposeAsync();

        Assert.False(set.IsAcquired);
        Assert.Contains($"'{lockClass}'[2]", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(0, first.ConnectionsInUse);
        Assert.False(here.IsHeldByCurrentFlow(1));
        Assert.True(keyOneWasFree);
    }

    [Fact]
    public async Task AcquireMany_TakesEveryKeyOnce_AndReleasesThemAll()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<string>(PostgresServer.Unique("customers"), level: 3);

        var scope = await accounts.AcquireManyAsync(["b", "a", "b"]);
        Assert.Equal(2, scope.Count);
        Assert.True(accounts.IsHeldByCurrentFlow("a"));
        Assert.True(accounts.IsHeldByCurrentFlow("b"));
        Assert.Equal(2, provider.HeldCount);

        await scope.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASetScopeDisposedTwice_Throws_NamingTheSetAndEveryLock_AndReleasesNothingTwice(bool async)
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("twice");
        var accounts = provider.CreateKeyedLock<string>(name, level: 3);
        var scope = await accounts.AcquireManyAsync(["a", "b"]);
        await scope.DisposeAsync();

        var error = async
            ? await Assert.ThrowsAsync<SynchronizationLockException>(async () => await scope.DisposeAsync())
            : Assert.Throws<SynchronizationLockException>(() => scope.Dispose());

        // Named as an async lock's misuse names it: the flow (an id once it holds one), not the thread alone.
        Assert.Matches(@"^(The current async flow|Flow #\d+)( \('[^']*'\))? \(on thread \d+", error.Message);
        Assert.Contains("tried to release a set of 2 lock(s) (", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{name}'[a] (level 3)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{name}'[b] (level 3)", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("that was already released. Each scope releases once: dispose it once, in the flow that acquired it.", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        await using var again = await accounts.AcquireManyAsync(["a", "b"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, again.Count);
    }

    private static async Task<int> Balance(NpgsqlDataSource data, string table, int id)
    {
        await using var command = data.CreateCommand($"SELECT balance FROM {table} WHERE id = {id}");
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static async Task Execute(NpgsqlDataSource data, string sql)
    {
        await using var command = data.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
