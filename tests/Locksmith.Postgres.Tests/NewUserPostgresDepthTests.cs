using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A second new user's pass over the README's "Distributed locks" section, past what <see cref="NewUserPostgresTests"/>
/// tried: read-write modes across two providers (two processes), key mapping, sets across lock kinds, the order check
/// beside in-process locks, lost locks as a log line and a count, timeouts' holders, cancellation's clean-up, the health
/// check and AddPostgres' validation. Every lock name is the test's own; every wait is bounded by the hang guard.
/// </summary>
public sealed class NewUserPostgresDepthTests
{
    private static readonly TimeSpan s_guard = PostgresServer.HangGuard;

    public enum Kind
    {
        Exclusive,
        Read,
        Write,
        Keyed,
    }

    /// <summary>A lock of one kind, held or asked for by one provider; both processes build it from the same name.</summary>
    private sealed record Target(Kind Kind, string Name, PostgresLock Lock)
    {
        public static Target Make(PostgresLockProvider provider, Kind kind, string name) => new(
            kind,
            name,
            kind switch
            {
                Kind.Exclusive => provider.CreateExclusiveLock(name),
                Kind.Keyed => provider.CreateKeyedLock<int>(name),
                _ => provider.CreateReadWriteLock(name),
            });

        public ValueTask<PostgresLockScope> AcquireAsync(TimeSpan timeout, CancellationToken token = default) => Kind switch
        {
            Kind.Exclusive => ((PostgresExclusiveLock)Lock).AcquireAsync(timeout, token),
            Kind.Read => ((PostgresReadWriteLock)Lock).AcquireReadAsync(timeout, token),
            Kind.Write => ((PostgresReadWriteLock)Lock).AcquireWriteAsync(timeout, token),
            _ => ((PostgresKeyedLock<int>)Lock).AcquireAsync(42, timeout, token),
        };

        /// <summary>The Try… form: an empty scope, not a throw, when it elapses.</summary>
        public ValueTask<PostgresLockScope> TryAcquireAsync(TimeSpan timeout) => Kind switch
        {
            Kind.Exclusive => ((PostgresExclusiveLock)Lock).TryAcquireAsync(timeout),
            Kind.Read => ((PostgresReadWriteLock)Lock).TryAcquireReadAsync(timeout),
            Kind.Write => ((PostgresReadWriteLock)Lock).TryAcquireWriteAsync(timeout),
            _ => ((PostgresKeyedLock<int>)Lock).TryAcquireAsync(42, timeout),
        };

        /// <summary>The advisory key on the server, to see a wait in <c>pg_locks</c>.</summary>
        public AdvisoryKey Key => Kind == Kind.Keyed ? AdvisoryKey.ForPair(((PostgresKeyedLock<int>)Lock).ClassId, 42) : AdvisoryKey.ForName(Name);

        /// <summary>The mode that excludes this one (a writer for a reader, else the same).</summary>
        public Kind Opposite => Kind switch { Kind.Read => Kind.Write, Kind.Write => Kind.Read, _ => Kind };
    }

    /// <summary>A hold in a flow of its own (another process's stand-in, or another flow of this one), kept until disposed.</summary>
    private sealed class Holder : IAsyncDisposable
    {
        private readonly TaskCompletionSource _letGo = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task<bool> _flow = Task.FromResult(false);

        public int ProcessId { get; private set; }

        public static async Task<Holder> StartAsync(Func<ValueTask<PostgresLockScope>> acquire)
        {
            var holder = new Holder();
            var holds = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            holder._flow = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await using var scope = await acquire();
                holds.SetResult(scope.SessionProcessId);
                await holder._letGo.Task.WaitAsync(s_guard);
                return scope.IsAcquired;
            });

            // A flow that failed before it held ends first; its exception is the test's.
            await Task.WhenAny(holds.Task, holder._flow).WaitAsync(s_guard);
            if (!holds.Task.IsCompleted)
            {
                await holder._flow;
            }

            holder.ProcessId = await holds.Task;
            return holder;
        }

        public async ValueTask DisposeAsync()
        {
            _letGo.TrySetResult();
            Assert.True(await _flow.WaitAsync(s_guard));
        }
    }

    private static PostgresLockProvider Provider(int budget = 4, ILoggerFactory? logging = null) =>
        new(new PostgresLockProviderOptions
        {
            ConnectionString = PostgresServer.ConnectionString,
            ConnectionBudget = budget,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
            LoggerFactory = logging,
        });

    /// <summary>Whether another process (a flow of its own through <paramref name="provider"/>) gets <paramref name="kind"/> of <paramref name="name"/> at once.</summary>
    private static Task<bool> FreeElsewhereAsync(PostgresLockProvider provider, Kind kind, string name) =>
        PostgresServer.TakenAtOnceElsewhereAsync(() => Target.Make(provider, kind, name).TryAcquireAsync(TimeSpan.Zero));

    private static Task<bool> KeyFreeElsewhereAsync<TKey>(PostgresKeyedLock<TKey> keyed, TKey key)
        where TKey : notnull =>
        PostgresServer.TakenAtOnceElsewhereAsync(() => keyed.TryAcquireAsync(key, TimeSpan.Zero));

    /// <summary>Holds the two-int4 advisory lock (<paramref name="classId"/>, <paramref name="key"/>) on a plain session, as another program would.</summary>
    private static async Task<NpgsqlConnection> HoldPairOnPlainSessionAsync(int classId, int key)
    {
        var connection = await PostgresServer.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_catalog.pg_advisory_lock($1, $2)", connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = classId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key });
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    private static async Task ReleasePlainAsync(NpgsqlConnection holder)
    {
        await PostgresServer.UnlockAllAsync(holder);
        await holder.DisposeAsync();
    }

    // ---- Read-write locks across two processes ----

    [Fact]
    public async Task AWriterInOneProcess_ExcludesReadersAndWritersOfTheOther_AndAWaitingReaderGetsInWhenItLetsGo()
    {
        await using var processes = new TwoProcesses("newuser2_rw_writer");
        var (first, second, name) = processes;
        await using var watcher = await PostgresServer.OpenAsync();
        var writer = first.CreateReadWriteLock(name);
        var written = await writer.AcquireWriteAsync(TimeSpan.FromSeconds(30));

        Assert.False(await FreeElsewhereAsync(second, Kind.Read, name));
        Assert.False(await FreeElsewhereAsync(second, Kind.Write, name));
        var reading = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var read = await second.CreateReadWriteLock(name).AcquireReadAsync(TimeSpan.FromSeconds(60));
            return read.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, AdvisoryKey.ForName(name));
        Assert.False(reading.IsCompleted);

        await written.DisposeAsync();
        Assert.True(await reading.WaitAsync(s_guard));
        Assert.Equal(0, first.HeldCount);
        Assert.Equal(0, second.HeldCount);
        Assert.Equal(0, second.ConnectionsInUse);
    }

    /// <summary>
    /// The README says readers share and a writer waits for them; it does not say whether a writer already waiting holds
    /// back a reader that comes after it. PostgreSQL queues the later shared request behind the waiting exclusive one (even
    /// a try), so readers arriving all the time cannot starve the writer: the new reader gets in only after the writer.
    /// </summary>
    [Fact]
    public async Task AWriterWaitingOnTheServer_HoldsBackALaterReader_WhichGetsInOnlyAfterTheWriter()
    {
        await using var processes = new TwoProcesses("newuser2_rw_queue");
        var (first, second, name) = processes;
        await using var third = PostgresServer.Provider();
        await PostgresServer.WarmUpAsync(third);
        await using var watcher = await PostgresServer.OpenAsync();
        var read = await first.CreateReadWriteLock(name).AcquireReadAsync(TimeSpan.FromSeconds(30));
        var writerHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writerMayGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writing = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var write = await second.CreateReadWriteLock(name).AcquireWriteAsync(TimeSpan.FromSeconds(60));
            writerHolds.SetResult();
            await writerMayGo.Task.WaitAsync(s_guard);
            return write.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, AdvisoryKey.ForName(name));

        Assert.False(await FreeElsewhereAsync(third, Kind.Read, name));

        await read.DisposeAsync();
        await writerHolds.Task.WaitAsync(s_guard);
        Assert.False(await FreeElsewhereAsync(third, Kind.Read, name));
        writerMayGo.SetResult();
        Assert.True(await writing.WaitAsync(s_guard));
        Assert.True(await FreeElsewhereAsync(third, Kind.Read, name));
    }

    // ---- Keys ----

    [Fact]
    public async Task AnIntKey_NegativeToo_MapsToItself_OnTheServersTwoIntForm()
    {
        const int key = -7;
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("newuser2_intkey"), level: 10);
        var plain = await HoldPairOnPlainSessionAsync(accounts.ClassId, key);
        try
        {
            Assert.False(await KeyFreeElsewhereAsync(accounts, key));
            Assert.True(await KeyFreeElsewhereAsync(accounts, key - 1));
        }
        finally
        {
            await ReleasePlainAsync(plain);
        }

        Assert.True(await KeyFreeElsewhereAsync(accounts, key));
        Assert.Equal(0, provider.HeldCount);
    }

    [Theory]
    [InlineData(4294967296L, 1)]
    [InlineData(-3L, -3)]
    public async Task ALongKey_BeyondIntFoldsItsHalves_WhileAnIntSizedOneMapsToItself(long key, int onServer)
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<long>(PostgresServer.Unique("newuser2_longkey"), level: 10);
        var plain = await HoldPairOnPlainSessionAsync(accounts.ClassId, onServer);
        try
        {
            Assert.False(await KeyFreeElsewhereAsync(accounts, key));
            Assert.True(await KeyFreeElsewhereAsync(accounts, 12345L));
        }
        finally
        {
            await ReleasePlainAsync(plain);
        }

        Assert.True(await KeyFreeElsewhereAsync(accounts, key));
    }

    [Fact]
    public async Task AKeyMap_ReplacesTheMapping_SoTwoProcessesWithItShareTheMappedKey()
    {
        await using var processes = new TwoProcesses("newuser2_keymap");
        var (first, second, name) = processes;
        Func<long, int> byHundreds = static k => (int)(k % 100);
        var mine = first.CreateKeyedLock(name, level: 10, keyMap: byHundreds);
        var theirs = new PostgresKeyedLock<long>(second, name, level: 10, keyMap: byHundreds);
        await using var held = await mine.AcquireAsync(7L, TimeSpan.FromSeconds(30));

        Assert.False(await KeyFreeElsewhereAsync(theirs, 107L));
        Assert.False(await KeyFreeElsewhereAsync(theirs, 7L));
        Assert.True(await KeyFreeElsewhereAsync(theirs, 8L));

        // The map is the only mapping: without it 107 would be key 107 on the server.
        var plain = await HoldPairOnPlainSessionAsync(mine.ClassId, 8);
        try
        {
            Assert.False(await KeyFreeElsewhereAsync(theirs, 208L));
        }
        finally
        {
            await ReleasePlainAsync(plain);
        }
    }

    [Fact]
    public async Task AKeyMapGivenToAddPostgresKeyedLock_IsTheRegisteredLocksMapping()
    {
        string name = PostgresServer.Unique("newuser2_keymap_di");
        var services = new ServiceCollection();
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString)
            .AddPostgresKeyedLock<long>(name, level: 10, keyMap: static k => (int)(k % 100));
        await using var container = services.BuildServiceProvider();
        var registered = container.GetRequiredKeyedService<PostgresKeyedLock<long>>(name);
        await using var other = PostgresServer.Provider();

        await using var held = await registered.AcquireAsync(301L, TimeSpan.FromSeconds(30));

        Assert.False(await KeyFreeElsewhereAsync(other.CreateKeyedLock<long>(name, level: 10, keyMap: static k => (int)(k % 100)), 1L));
        Assert.True(registered.IsHeldByCurrentFlow(301L));
    }

    [Theory]
    [InlineData(3L, 3L)]
    [InlineData(7L, 107L)]
    public async Task AKeyListedTwice_OrTwoKeysMappedToOne_AreTakenOnce_AndReleasedTogether(long a, long b)
    {
        await using var processes = new TwoProcesses("newuser2_twice");
        var (first, second, name) = processes;
        var accounts = first.CreateKeyedLock<long>(name, level: 10, keyMap: static k => (int)(k % 100));
        var theirs = second.CreateKeyedLock<long>(name, level: 10, keyMap: static k => (int)(k % 100));

        var both = await accounts.AcquireManyAsync([a, b], TimeSpan.FromSeconds(30));
        Assert.True(both.IsAcquired);
        Assert.Equal(1, first.HeldCount);
        Assert.Equal(1, first.ConnectionsInUse);
        Assert.False(await KeyFreeElsewhereAsync(theirs, a));

        await both.DisposeAsync();
        Assert.Equal(0, first.HeldCount);
        Assert.Equal(0, first.ConnectionsInUse);
        Assert.True(await KeyFreeElsewhereAsync(theirs, a));
    }

    [Fact]
    public async Task AcquireManyAsync_IsAllOrNothing_WhenAnotherProcessHoldsOneKey()
    {
        await using var processes = new TwoProcesses("newuser2_many");
        var (first, second, name) = processes;
        await PostgresServer.WarmUpAsync(first);
        var mine = first.CreateKeyedLock<int>(name, level: 10);
        var theirs = second.CreateKeyedLock<int>(name, level: 10);
        await using var held = await Holder.StartAsync(() => theirs.AcquireAsync(2, TimeSpan.FromSeconds(30)));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await mine.AcquireManyAsync([1, 2, 3], TimeSpan.FromMilliseconds(300)));
        var tried = await mine.TryAcquireManyAsync([3, 2, 1], TimeSpan.FromMilliseconds(300));

        Assert.Equal(name, error.LockName);
        Assert.Contains($"'{name}'[2] (level 10) was a member of PostgresLockSet for '{name}'[1] (level 10), '{name}'[2] (level 10), '{name}'[3] (level 10)", error.Message, StringComparison.Ordinal);
        Assert.Contains("given 300 ms for all of them; the set holds none of them.", error.Message, StringComparison.Ordinal);
        Assert.Contains($"backend pid {held.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.False(tried.IsAcquired);
        Assert.Equal(0, tried.Count);
        Assert.Equal(0, first.HeldCount);
        Assert.Equal(0, first.ConnectionsInUse);

        // The failed sets gave their place in the flow's order back: a lower level is no violation now.
        await using (var below = await new AsyncExclusiveLock(name + "_below", level: 5).AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.True(below.IsAcquired);
        }

        Assert.True(await KeyFreeElsewhereAsync(mine, 1));
        Assert.True(await KeyFreeElsewhereAsync(mine, 3));
    }

    /// <summary>Two processes each move between the same two accounts in opposite directions: the set orders the keys, so no deadlock, and the total is kept.</summary>
    [Fact]
    public async Task AcquireManyAsync_OrdersTheKeys_SoOppositeListsInTwoProcessesNeverDeadlock()
    {
        await using var processes = new TwoProcesses("newuser2_opposite");
        var (first, second, name) = processes;
        long[] balances = [1000, 1000];
        int transfers = 0;

        Task<int> Transfers(PostgresLockProvider provider, long from, long to) => PostgresServer.InAFlowOfItsOwn(async () =>
        {
            var accounts = provider.CreateKeyedLock<long>(name, level: 10);
            for (int i = 0; i < 25; i++)
            {
                await using var both = await accounts.AcquireManyAsync([from, to], TimeSpan.FromSeconds(60));
                long source = balances[from], target = balances[to];
                await Task.Yield();
                balances[from] = source - 1;
                balances[to] = target + 1;
                transfers++;
            }

            return 25;
        });

        int[] done = await Task.WhenAll(Transfers(first, 0, 1), Transfers(second, 1, 0)).WaitAsync(s_guard);

        Assert.Equal([25, 25], done);
        Assert.Equal(50, transfers);
        Assert.Equal([1000L, 1000L], balances);
    }

    // ---- Sets across lock kinds ----

    [Fact]
    public async Task ASetOfAnExclusiveAReadAndAKey_HoldsEachInItsMode_OnTheFlowsOneSession()
    {
        await using var processes = new TwoProcesses("newuser2_mixed");
        var (_, second, baseName) = processes;
        await using var provider = Provider(budget: 1);
        string exclusiveName = baseName + "_x", readName = baseName + "_rw", keyedName = baseName + "_k";
        var exclusive = provider.CreateExclusiveLock(exclusiveName, level: 10);
        var prices = provider.CreateReadWriteLock(readName, level: 20);
        var accounts = provider.CreateKeyedLock<int>(keyedName, level: 30);

        var set = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), [accounts.Request(3), prices.ReadRequest(), exclusive.Request()]);
        Assert.True(set.IsAcquired);
        Assert.Equal(3, set.Count);
        Assert.Equal(3, provider.HeldCount);
        Assert.Equal(1, provider.ConnectionsInUse);
        Assert.True(exclusive.IsHeldByCurrentFlow);
        Assert.True(prices.IsHeldByCurrentFlow);
        Assert.True(accounts.IsHeldByCurrentFlow(3));

        var theirKeys = second.CreateKeyedLock<int>(keyedName, level: 30);
        Assert.False(await FreeElsewhereAsync(second, Kind.Exclusive, exclusiveName));
        Assert.True(await FreeElsewhereAsync(second, Kind.Read, readName));
        Assert.False(await FreeElsewhereAsync(second, Kind.Write, readName));
        Assert.False(await KeyFreeElsewhereAsync(theirKeys, 3));
        Assert.True(await KeyFreeElsewhereAsync(theirKeys, 4));

        await set.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.True(await FreeElsewhereAsync(second, Kind.Exclusive, exclusiveName));
        Assert.True(await FreeElsewhereAsync(second, Kind.Write, readName));
        Assert.True(await KeyFreeElsewhereAsync(theirKeys, 3));
    }

    [Fact]
    public async Task ASetWithAMemberBelowAHeldLevel_ViolatesTheOrder_AndTakesNothing()
    {
        await using var provider = PostgresServer.Provider();
        var high = provider.CreateExclusiveLock(PostgresServer.Unique("newuser2_set_high"), level: 50);
        var low = provider.CreateReadWriteLock(PostgresServer.Unique("newuser2_set_low"), level: 10);
        var higher = provider.CreateKeyedLock<int>(PostgresServer.Unique("newuser2_set_higher"), level: 60);
        await using var held = await high.AcquireAsync(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<LockOrderViolationException>(async () =>
            await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), [higher.Request(1), low.WriteRequest()]));

        Assert.Equal(high.Name, error.Violation.HeldLockName);
        Assert.Equal(low.Name, error.Violation.RequestedLockName);
        Assert.Equal(1, provider.HeldCount);
        Assert.Equal(1, provider.ConnectionsInUse);
        Assert.False(higher.IsHeldByCurrentFlow(1));
        Assert.True(await KeyFreeElsewhereAsync(higher, 1));
    }

    // ---- The order, with in-process locks beside distributed ones ----

    public enum Mix
    {
        AsyncInProcessThenDistributed,
        SyncInProcessThenDistributed,
        DistributedThenAsyncInProcess,
        DistributedThenSyncInProcess,
    }

    [Theory]
    [InlineData(Mix.AsyncInProcessThenDistributed)]
    [InlineData(Mix.SyncInProcessThenDistributed)]
    [InlineData(Mix.DistributedThenAsyncInProcess)]
    [InlineData(Mix.DistributedThenSyncInProcess)]
    public async Task InProcessAndDistributedLocks_ShareOneOrder_ALowerLevelAfterAHigherIsAViolation(Mix mix)
    {
        await using var provider = PostgresServer.Provider();
        string prefix = PostgresServer.Unique("newuser2_mix");
        var distributedHigh = provider.CreateExclusiveLock(prefix + "_pg20", level: 20);
        var distributedLow = provider.CreateExclusiveLock(prefix + "_pg10", level: 10);
        var asyncHigh = new AsyncExclusiveLock(prefix + "_async20", level: 20);
        var asyncLow = new AsyncExclusiveLock(prefix + "_async10", level: 10);
        var syncHigh = new ExclusiveLock(prefix + "_sync20", level: 20);
        var syncLow = new ExclusiveLock(prefix + "_sync10", level: 10);
        LockOrderViolationException error;
        string held, asked;
        switch (mix)
        {
            case Mix.AsyncInProcessThenDistributed:
                await using (await asyncHigh.AcquireAsync(TimeSpan.FromSeconds(30)))
                {
                    error = Assert.Throws<LockOrderViolationException>(() => { _ = distributedLow.AcquireAsync(TimeSpan.FromSeconds(30)); });
                }

                (held, asked) = (asyncHigh.Name, distributedLow.Name);
                break;
            case Mix.SyncInProcessThenDistributed:
                using (syncHigh.Acquire(TimeSpan.FromSeconds(30)))
                {
                    error = Assert.Throws<LockOrderViolationException>(() => { _ = distributedLow.AcquireAsync(TimeSpan.FromSeconds(30)); });
                }

                (held, asked) = (syncHigh.Name, distributedLow.Name);
                break;
            case Mix.DistributedThenAsyncInProcess:
                await using (await distributedHigh.AcquireAsync(TimeSpan.FromSeconds(30)))
                {
                    error = Assert.Throws<LockOrderViolationException>(() => { _ = asyncLow.AcquireAsync(TimeSpan.FromSeconds(30)); });
                }

                (held, asked) = (distributedHigh.Name, asyncLow.Name);
                break;
            default:
                await using (await distributedHigh.AcquireAsync(TimeSpan.FromSeconds(30)))
                {
                    error = Assert.Throws<LockOrderViolationException>(() => { using var scope = syncLow.Acquire(TimeSpan.FromSeconds(30)); });
                }

                (held, asked) = (distributedHigh.Name, syncLow.Name);
                break;
        }

        Assert.Equal(held, error.Violation.HeldLockName);
        Assert.Equal(asked, error.Violation.RequestedLockName);
        Assert.Contains($"'{asked}' (level 10)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{held}' (level 20)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.False(syncLow.IsHeld);
        Assert.False(asyncLow.IsHeld);

        // Climbing is fine in every mix: 10 in-process, then 20 distributed, then 30 in-process.
        var syncTop = new ExclusiveLock(prefix + "_sync30", level: 30);
        await using (await asyncLow.AcquireAsync(TimeSpan.FromSeconds(30)))
        await using (var climbed = await distributedHigh.AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            using var top = syncTop.Acquire(TimeSpan.FromSeconds(30));
            Assert.True(climbed.IsAcquired);
            Assert.True(syncTop.IsHeldByCurrentThread);
        }
    }

    [Fact]
    public async Task ASecondKeyOfAnOrderedKeyedLock_TakenOnItsOwn_ViolatesTheOrder_NamingBothKeys()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<int>(PostgresServer.Unique("newuser2_keys"), level: 10);
        await using var one = await accounts.AcquireAsync(1, TimeSpan.FromSeconds(30));

        var error = Assert.Throws<LockOrderViolationException>(() => { _ = accounts.AcquireAsync(2, TimeSpan.FromSeconds(30)); });

        Assert.Contains($"acquiring '{accounts.Name}[2]' (level 10) while holding '{accounts.Name}[1]' (level 10)", error.Message, StringComparison.Ordinal);
        Assert.Equal($"{accounts.Name}[1]", error.Violation.HeldLockName);
        Assert.Equal($"{accounts.Name}[2]", error.Violation.RequestedLockName);
        Assert.Equal(1, provider.HeldCount);
    }

    [Theory]
    [InlineData(10, 20, "at level 10", "at level 20")]
    [InlineData(10, null, "at level 10", "unordered")]
    public async Task OneNameCreatedAtAnotherLevel_IsRefusedAtCreation_NamingBothLevels(int? firstLevel, int? secondLevel, string firstText, string secondText)
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("newuser2_levels");
        provider.CreateExclusiveLock(name, firstLevel);
        provider.CreateKeyedLock<int>(name + "_k", firstLevel);

        var named = Assert.Throws<InvalidOperationException>(() => provider.CreateReadWriteLock(name, secondLevel));
        var keyed = Assert.Throws<InvalidOperationException>(() => new PostgresKeyedLock<int>(provider, name + "_k", secondLevel));

        foreach (var refused in new[] { named, keyed })
        {
            Assert.Contains($"was created on this provider {firstText}; another object for it {secondText}", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(firstLevel, provider.CreateExclusiveLock(name, firstLevel).Level);
    }

    // ---- Timeouts name the holder ----

    [Theory]
    [InlineData(Kind.Read)]
    [InlineData(Kind.Write)]
    [InlineData(Kind.Keyed)]
    public async Task ATimeoutBehindAnotherFlowOfThisProvider_NamesThatFlowAndItsBackendPid(Kind kind)
    {
        await using var provider = PostgresServer.Provider();
        await PostgresServer.WarmUpAsync(provider, sessions: 2);
        string name = PostgresServer.Unique("newuser2_timeout");
        var target = Target.Make(provider, kind, name);
        await using var holder = await Holder.StartAsync(() => (target with { Kind = target.Opposite }).AcquireAsync(TimeSpan.FromSeconds(30)));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await target.AcquireAsync(TimeSpan.FromMilliseconds(300)));

        string mode = kind switch { Kind.Read => "read", Kind.Write => "write", _ => "exclusive" };
        string described = kind == Kind.Keyed ? $"'{name}'[42]" : $"'{name}'";
        Assert.Equal(name, error.LockName);
        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) timed out after ", error.Message);
        Assert.Contains($"waiting for {mode} access to {described}", error.Message, StringComparison.Ordinal);
        Assert.Matches($@"held by flow #\d+( \('[^']*'\))? of this process \(PostgreSQL session, backend pid {holder.ProcessId}\)", error.Message);
        Assert.Equal(1, provider.HeldCount);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    // ---- Cancellation leaves nothing behind ----

    [Theory]
    [InlineData(Kind.Read)]
    [InlineData(Kind.Write)]
    [InlineData(Kind.Keyed)]
    public async Task ACancelledWait_HoldsNothing_AndGivesBackItsConnectionToABudgetOfOne(Kind kind)
    {
        await using var processes = new TwoProcesses("newuser2_cancel");
        var (_, holderProcess, name) = processes;
        await using var provider = Provider(budget: 1);
        await using var watcher = await PostgresServer.OpenAsync();
        var waiter = Target.Make(provider, kind, name);
        await using var held = await Holder.StartAsync(() => Target.Make(holderProcess, waiter.Opposite, name).AcquireAsync(TimeSpan.FromSeconds(30)));
        using var cancel = new CancellationTokenSource();

        var waiting = waiter.AcquireAsync(TimeSpan.FromSeconds(60), cancel.Token).AsTask();
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, waiter.Key);
        Assert.Equal(1, waiter.Lock.WaitingCount);
        cancel.Cancel();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(s_guard));

        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, waiter.Lock.WaitingCount);
        Assert.Equal(0, await PostgresServer.WaitersOnServerAsync(watcher, waiter.Key));

        // The budget of one is whole again: once the holder lets go, the next flow takes the lock.
        await held.DisposeAsync();
        await using var next = await waiter.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.True(next.IsAcquired);
        Assert.Equal(1, provider.HeldCount);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    // ---- A lost lock: token, log line, count, and a release that does not throw ----

    [Theory]
    [InlineData(Kind.Exclusive, "distributed_exclusive", "exclusive")]
    [InlineData(Kind.Read, "distributed_read_write", "read")]
    [InlineData(Kind.Write, "distributed_read_write", "write")]
    [InlineData(Kind.Keyed, "distributed_keyed", "exclusive")]
    public async Task AHoldWhoseSessionIsTerminated_IsLost_Logged14018_AndCountedOnce(Kind kind, string lockKind, string lockMode)
    {
        var capture = new CapturingLoggerProvider();
        using var logging = new LoggerFactory([capture]);
        using var losses = new LostLockMeasurements("locksmith.lock.losses");
        await using var provider = Provider(logging: logging);
        await using var admin = await PostgresServer.OpenAsync();
        string name = PostgresServer.Unique("newuser2_lost");
        var target = Target.Make(provider, kind, name);

        var scope = await target.AcquireAsync(TimeSpan.FromSeconds(30));
        int pid = scope.SessionProcessId;
        Assert.False(scope.IsLost);
        await PostgresServer.TerminateAsync(admin, pid);
        await PostgresServer.UntilCancelledAsync(scope.LostToken);

        Assert.True(scope.IsLost);
        var line = Assert.Single(capture.Lines("Locksmith", LocksmithEventIds.DistributedLockLost));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("DistributedLockLost", line.EventName);
        Assert.Contains(kind == Kind.Keyed ? $"'{name}'[42]" : $"'{name}'", line.Message, StringComparison.Ordinal);
        Assert.Contains($"backend pid {pid}", line.Message, StringComparison.Ordinal);
        Assert.Contains(provider.ServerIdentity, line.Message, StringComparison.Ordinal);
        var counted = Assert.Single(losses.Of(name));
        Assert.Equal(1, counted.Value);
        Assert.Equal(lockKind, counted.Tags["lock.kind"]);
        Assert.Equal(lockMode, counted.Tags["lock.mode"]);

        await scope.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);

        // Released, neither logged nor counted again; the lock is taken afresh on a new session.
        await using var again = await target.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(pid, again.SessionProcessId);
        Assert.False(again.IsLost);

        // The provider's disposal loses the new hold, but is no loss to report.
        await provider.DisposeAsync();
        Assert.True(again.IsLost);
        Assert.Single(capture.Lines("Locksmith", LocksmithEventIds.DistributedLockLost));
        Assert.Single(losses.Of(name));
    }

    [Fact]
    public async Task ALostKeyedHold_CancelsGetCurrentFlowLostToken_AndAPlainUsingDisposeDoesNotThrow()
    {
        await using var provider = PostgresServer.Provider();
        await using var admin = await PostgresServer.OpenAsync();
        var accounts = provider.CreateKeyedLock<long>(PostgresServer.Unique("newuser2_lostkey"), level: 10);

        using (var scope = await accounts.AcquireAsync(9L, TimeSpan.FromSeconds(30)))
        {
            var flowToken = accounts.GetCurrentFlowLostToken(9L);
            Assert.False(flowToken.IsCancellationRequested);
            await PostgresServer.TerminateAsync(admin, scope.SessionProcessId);
            await PostgresServer.UntilCancelledAsync(flowToken);
            Assert.True(scope.LostToken.IsCancellationRequested);
        }

        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.False(accounts.IsHeldByCurrentFlow(9L));
    }

    // ---- Metrics tag the kind ----

    [Fact]
    public async Task AKeyedAcquisition_IsCountedUnderTheLocksName_NotTheKeys()
    {
        const Kind kind = Kind.Keyed;
        using var acquisitions = new LostLockMeasurements("locksmith.lock.acquisitions");
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("newuser2_metrics");

        await using (await Target.Make(provider, kind, name).AcquireAsync(TimeSpan.FromSeconds(30)))
        {
        }

        var counted = Assert.Single(acquisitions.Of(name));
        Assert.Equal(1, counted.Value);
        Assert.Equal("distributed_keyed", counted.Tags["lock.kind"]);
    }

    // ---- The health check ----

    public static TheoryData<string, HealthStatus?, HealthStatus, string> RefusedServers() => new()
    {
        { "password", HealthStatus.Degraded, HealthStatus.Degraded, "refused the provider's session: 28P01: password authentication failed for user" },
        { "standby", null, HealthStatus.Unhealthy, "is not the primary" },
    };

    [Theory]
    [MemberData(nameof(RefusedServers))]
    public async Task TheHealthCheck_ReportsAServerThatRefusesTheProvider_WithTheRegistrationsFailureStatus(string what, HealthStatus? failureStatus, HealthStatus expected, string says)
    {
        string connectionString = what == "password"
            ? new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { Password = "not-the-password" }.ConnectionString
            : PostgresServer.StandbyConnectionString;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(connectionString);
        services.AddHealthChecks().AddLocksmithPostgres(failureStatus: failureStatus);
        await using var container = services.BuildServiceProvider();

        var entry = (await container.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(s_guard)).Entries["locksmith-postgres"];

        Assert.Equal(expected, entry.Status);
        Assert.Contains(says, entry.Description, StringComparison.Ordinal);
        var provider = container.GetRequiredService<PostgresLockProvider>();
        Assert.Equal(provider.ServerIdentity, entry.Data["server"]);
        Assert.Equal(0, entry.Data["connectionsInUse"]);
        Assert.Equal(16, entry.Data["connectionBudget"]);
    }

    [Fact]
    public async Task TheHealthCheck_IsDegradedWhileHoldsFillTheBudget_AndHealthyAgainAfter()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        string name = PostgresServer.Unique("newuser2_health");
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString, o => o.ConnectionBudget = 2);
        services.AddHealthChecks().AddLocksmithPostgres();
        await using var container = services.BuildServiceProvider();
        var provider = container.GetRequiredService<PostgresLockProvider>();
        var health = container.GetRequiredService<HealthCheckService>();
        var other = await Holder.StartAsync(() => provider.CreateExclusiveLock(name + "_other").AcquireAsync(TimeSpan.FromSeconds(30)));
        HealthReportEntry full;
        await using (await provider.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            full = (await health.CheckHealthAsync().WaitAsync(s_guard)).Entries["locksmith-postgres"];
        }

        await other.DisposeAsync();
        var after = (await health.CheckHealthAsync().WaitAsync(s_guard)).Entries["locksmith-postgres"];

        Assert.Equal(HealthStatus.Degraded, full.Status);
        Assert.Equal(2, full.Data["connectionsInUse"]);
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.Equal(0, after.Data["connectionsInUse"]);
        Assert.Equal(2, after.Data["connectionBudget"]);
    }

    [Fact]
    public async Task AHostWithTheHealthCheckButNoAddPostgres_FailsItsStart_NamingTheCheck()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLocksmith();
        builder.Services.AddHealthChecks().AddLocksmithPostgres();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(s_guard));

        Assert.Contains("locksmith-postgres", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddPostgres", error.Message, StringComparison.Ordinal);
    }

    // ---- AddPostgres and the provider's validation ----

    [Theory]
    [InlineData("", typeof(ArgumentException), "empty")]
    [InlineData("   ", typeof(ArgumentException), "blank")]
    public void AddPostgres_WithoutAConnectionString_ThrowsAtTheCall_SayingWhatItWas(string? connectionString, Type type, string what)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddLocksmith().AddPostgres(connectionString!));

        Assert.IsType(type, error);
        Assert.Contains($"AddPostgres needs the connection string of the locks' PostgreSQL database; it was {what} (did GetConnectionString(\"…\") find nothing?", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<Action<PostgresLockProviderOptions>, string> InvalidOptions() => new()
    {
        { o => o.LostLockCheckInterval = TimeSpan.Zero, "PostgresLockProviderOptions.LostLockCheckInterval = 00:00:00 is invalid" },
        { o => o.DefaultTimeout = TimeSpan.FromSeconds(-5), "PostgresLockProviderOptions.DefaultTimeout = -00:00:05 is invalid" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void AddPostgres_RunsItsConfigureAtOnce_AndRefusesAnInvalidOption_NamingIt(Action<PostgresLockProviderOptions> configure, string says)
    {
        var services = new ServiceCollection();

        var error = Assert.ThrowsAny<ArgumentException>(() => services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString, configure));

        Assert.Contains(says, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(services, static s => s.ServiceType == typeof(PostgresLockProvider));
    }

    [Theory]
    [InlineData("Host=a,b", "Host = 'a,b', more than one host")]
    [InlineData("Load Balance Hosts=true", "Load Balance Hosts = true")]
    [InlineData("Target Session Attributes=standby", "Target Session Attributes = standby")]
    public void AConnectionStringThatCanReachAnotherServer_IsRefused_AtConstructionAndAtAddPostgres(string setting, string says)
    {
        string connectionString = setting.StartsWith("Host=", StringComparison.Ordinal)
            ? "Host=a,b;Username=app;Database=app"
            : PostgresServer.ConnectionString + ";" + setting;

        var made = Assert.Throws<ArgumentException>(() => new PostgresLockProvider(connectionString));
        var registered = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddLocksmith().AddPostgres(connectionString)); // README: an ArgumentException, there too

        foreach (var error in new[] { made, registered })
        {
            Assert.Contains(says, error.Message, StringComparison.Ordinal);
            Assert.Contains("give the primary's single host", error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task ASingleHostWithPrimaryOrReadWrite_IsAccepted_AndTakesLocks()
    {
        foreach (string target in new[] { "primary", "read-write" })
        {
            await using var provider = new PostgresLockProvider(PostgresServer.ConnectionString + ";Target Session Attributes=" + target);

            await using var held = await provider.CreateExclusiveLock(PostgresServer.Unique("newuser2_tsa")).AcquireAsync(TimeSpan.FromSeconds(30));

            Assert.True(held.IsAcquired);
            Assert.Equal(1, provider.HeldCount);
        }
    }

    [Fact]
    public async Task ALockRegisteredWithoutAddPostgres_FailsTheHostsStart_AndItsResolution_WithTheFix()
    {
        string name = PostgresServer.Unique("newuser2_counter");
        string fix = $"'{name}' is a PostgreSQL lock, but no PostgresLockProvider is registered: call AddPostgres(connectionString) on the Locksmith builder.";
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLocksmith().AddPostgresExclusiveLock(name);
        using var host = builder.Build();

        var started = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(s_guard));
        Assert.Contains(fix, started.Message, StringComparison.Ordinal);

        var services = new ServiceCollection();
        services.AddLocksmith().AddPostgresExclusiveLock(name);
        await using var container = services.BuildServiceProvider();
        var resolved = Assert.Throws<InvalidOperationException>(() => container.GetRequiredKeyedService<PostgresExclusiveLock>(name));
        Assert.Equal(fix, resolved.Message);
    }
}
