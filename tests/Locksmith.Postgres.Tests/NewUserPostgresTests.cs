using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// What a developer new to the package writes from the README's "Distributed locks" section alone: two providers
/// standing for two processes of one service, against the real server. Every wait is bounded by a hang guard; nothing
/// measures time.
/// </summary>
public sealed class NewUserPostgresTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_guard = PostgresServer.HangGuard;

    /// <summary>Puts a message a test checks into its output, for a reader judging its wording.</summary>
    private void Show(string text)
    {
        output.WriteLine(text);
    }

    /// <summary>A provider of its own, tagged with an application name so its server sessions can be counted.</summary>
    private static (PostgresLockProvider Provider, string Application) TaggedProvider(int budget = 4)
    {
        string application = PostgresServer.Unique("newuser");
        var builder = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString) { ApplicationName = application };
        return (new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = builder.ConnectionString,
            ConnectionBudget = budget,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
        }), application);
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection watcher, string sql, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, watcher);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<long> SessionsOfAsync(NpgsqlConnection watcher, string application) =>
        ScalarAsync(watcher, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1", application);

    private static Task<long> AdvisoryRowsOfAsync(NpgsqlConnection watcher, string application) =>
        ScalarAsync(
            watcher,
            "SELECT count(*) FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name = $1",
            application);

    /// <summary>Polls (bounded by iterations) until <paramref name="read"/> gives <paramref name="expected"/>; the server ends a closed backend a moment after.</summary>
    private static async Task<long> UntilAsync(Func<Task<long>> read, long expected)
    {
        long seen = -1;
        for (int i = 0; i < 3000 && (seen = await read()) != expected; i++)
        {
            await Task.Delay(10);
        }

        return seen;
    }

    [Fact]
    public async Task TwoProcesses_TheSecondWaitsForTheFirst_AndGetsTheLockWhenItLetsGo()
    {
        await using var two = new TwoProcesses("newuser_contention");
        await using var watcher = await PostgresServer.OpenAsync();
        var (mine, theirs) = two.ExclusiveLocks();

        var held = await mine.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.True(held.IsAcquired);
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(TimeSpan.Zero)));

        var granted = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.AcquireAsync(TimeSpan.FromSeconds(60));
            granted.SetResult(scope.SessionProcessId);
            await letGo.Task.WaitAsync(s_guard);
            return scope.IsAcquired;
        });

        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, mine.Key);
        Assert.False(granted.Task.IsCompleted);
        Assert.Equal(1, theirs.WaitingCount);
        int firstPid = held.SessionProcessId;
        await held.DisposeAsync();

        int secondPid = await granted.Task.WaitAsync(s_guard);
        Assert.NotEqual(firstPid, secondPid);
        Assert.Equal(0, two.First.HeldCount);
        Assert.Equal(1, two.Second.HeldCount);
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireAsync(TimeSpan.Zero)));
        letGo.SetResult();
        Assert.True(await waiter.WaitAsync(s_guard));
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireAsync(TimeSpan.Zero)));
    }

    [Fact]
    public async Task ATimeoutAcrossProviders_NamesTheLockAndTheHoldingFlowAndItsBackendPid()
    {
        await using var two = new TwoProcesses("newuser_timeout");
        var (mine, theirs) = two.ExclusiveLocks();
        await PostgresServer.WarmUpAsync(two.Second);
        await using var held = await mine.AcquireAsync(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(() =>
            PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await using var scope = await theirs.AcquireAsync(TimeSpan.FromMilliseconds(200));
                return scope.IsAcquired;
            }));

        Show(error.Message);
        Assert.Equal(two.Name, error.LockName);
        Assert.Contains($"'{two.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("through another PostgresLockProvider", error.Message, StringComparison.Ordinal);
        Assert.Contains($"backend pid {held.SessionProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, two.Second.ConnectionsInUse);
        Assert.Equal(0, theirs.WaitingCount);
    }

    [Fact]
    public async Task AHolderWhoseBackendIsTerminated_LearnsThroughLostToken_AndTheWaiterGetsTheLock()
    {
        await using var two = new TwoProcesses("newuser_terminated");
        await using var admin = await PostgresServer.OpenAsync();
        var (mine, theirs) = two.ExclusiveLocks();
        var held = await mine.AcquireAsync(TimeSpan.FromSeconds(30));
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = held.LostToken.Register(() => lost.TrySetResult());

        var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.AcquireAsync(TimeSpan.FromSeconds(60));
            return scope.SessionProcessId;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, mine.Key);

        await PostgresServer.TerminateAsync(admin, held.SessionProcessId);

        Assert.NotEqual(held.SessionProcessId, await waiter.WaitAsync(s_guard));
        await lost.Task.WaitAsync(s_guard);
        Assert.True(held.IsLost);
        Assert.True(mine.CurrentFlowLostToken.IsCancellationRequested);

        // Until the lost scope is disposed, the flow still counts as holding it.
        var again = await Assert.ThrowsAsync<InvalidOperationException>(async () => await mine.AcquireAsync(TimeSpan.FromSeconds(30)));
        Show(again.Message);
        Assert.Contains($"'{two.Name}'", again.Message, StringComparison.Ordinal);
        Assert.Contains("lost", again.Message, StringComparison.Ordinal);

        await held.DisposeAsync();
        Assert.Equal(0, two.First.HeldCount);
        Assert.Equal(0, two.First.ConnectionsInUse);
        await using var regained = await mine.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.True(regained.IsAcquired);
        Assert.False(regained.IsLost);
        Assert.NotEqual(held.SessionProcessId, regained.SessionProcessId);
    }

    [Fact]
    public async Task ACancelledWait_HoldsNothing_LeavesNoWaiterOnTheServer_AndKeepsNoConnection()
    {
        await using var other = PostgresServer.Provider();
        var (provider, application) = TaggedProvider(budget: 2);
        await using var watcher = await PostgresServer.OpenAsync();
        string name = PostgresServer.Unique("newuser_cancel");
        var theirs = other.CreateExclusiveLock(name);
        var mine = provider.CreateExclusiveLock(name);
        var held = await theirs.AcquireAsync(TimeSpan.FromSeconds(30));

        for (int round = 0; round < 3; round++)
        {
            using var cancel = new CancellationTokenSource();
            var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await using var scope = await mine.AcquireAsync(cancel.Token);
                return scope.IsAcquired;
            });
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, mine.Key);
            cancel.Cancel();
            var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(s_guard));
            Assert.Equal(cancel.Token, error.CancellationToken);
            Assert.Equal(0, mine.WaitingCount);
            Assert.Equal(0, provider.ConnectionsInUse);
            Assert.Equal(0, provider.HeldCount);
        }

        // The waits were on the server, and none of them is left there or holds the key.
        Assert.Equal(0, await ScalarAsync(watcher, "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1::oid", (long)(uint)mine.Key.Lo));
        Assert.Equal(0, await AdvisoryRowsOfAsync(watcher, application));

        // Three cancelled waits, one after another, reused pooled connections: no more than the pool's own few.
        long sessions = await SessionsOfAsync(watcher, application);
        Assert.InRange(sessions, 1, provider.ConnectionBudget + 2);

        // The key was never taken by the cancelled waits: once its holder lets go, a try-once of the other process gets it.
        await held.DisposeAsync();
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireAsync(TimeSpan.Zero)));

        await provider.DisposeAsync();
        Assert.Equal(0, await UntilAsync(() => SessionsOfAsync(watcher, application), 0));
    }

    [Fact]
    public async Task ATryAcquireThatElapses_ReturnsAnEmptyScope_AndTheSecondProviderHoldsNothing()
    {
        await using var two = new TwoProcesses("newuser_try");
        await using var watcher = await PostgresServer.OpenAsync();
        var (mine, theirs) = two.ExclusiveLocks();
        await PostgresServer.WarmUpAsync(two.Second);
        await using var held = await mine.AcquireAsync(TimeSpan.FromSeconds(30));

        var attempt = await PostgresServer.InAFlowOfItsOwn(async () =>
        {
            var scope = await theirs.TryAcquireAsync(TimeSpan.FromMilliseconds(150));
            bool lostIsCancellable = scope.LostToken.CanBeCanceled;
            await scope.DisposeAsync();
            return (scope.IsAcquired, lostIsCancellable);
        });

        Assert.False(attempt.IsAcquired);
        Assert.False(attempt.lostIsCancellable);
        Assert.Equal(0, two.Second.HeldCount);
        Assert.Equal(0, two.Second.ConnectionsInUse);
        Assert.Equal(1, await ScalarAsync(watcher, "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND objid = $1::oid", (long)(uint)mine.Key.Lo));
    }

    [Fact]
    public async Task KeyedLocks_StringIntAndLongKeys_ExcludeAcrossProviders_OnlyForTheSameKey()
    {
        await using var two = new TwoProcesses("newuser_keys");
        var byName = (Mine: two.First.CreateKeyedLock<string>(two.Name + "_s", level: 10), Theirs: two.Second.CreateKeyedLock<string>(two.Name + "_s", level: 10));
        var byInt = (Mine: two.First.CreateKeyedLock<int>(two.Name + "_i"), Theirs: two.Second.CreateKeyedLock<int>(two.Name + "_i"));
        var byLong = (Mine: two.First.CreateKeyedLock<long>(two.Name + "_l"), Theirs: two.Second.CreateKeyedLock<long>(two.Name + "_l"));
        await PostgresServer.WarmUpAsync(two.Second);

        await using (var customer = await byName.Mine.AcquireAsync("customer-42"))
        {
            Assert.Equal($"'{two.Name}_s'[customer-42] (level 10)", customer.LockDescription);
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => byName.Theirs.TryAcquireAsync("customer-42", TimeSpan.Zero)));
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => byName.Theirs.TryAcquireAsync("customer-43", TimeSpan.Zero)));
        }

        await using (var seven = await byInt.Mine.AcquireAsync(7))
        {
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => byInt.Theirs.TryAcquireAsync(7, TimeSpan.Zero)));
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => byInt.Theirs.TryAcquireAsync(-7, TimeSpan.Zero)));

            // Another class with the same int key is another advisory lock.
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => byLong.Theirs.TryAcquireAsync(7L, TimeSpan.Zero)));
        }

        // As the README says, 2^32 folds onto 1: the two exclude each other across processes, and in one flow it is a recursion.
        await using (var one = await byLong.Mine.AcquireAsync(1L))
        {
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => byLong.Theirs.TryAcquireAsync(4294967296L, TimeSpan.Zero)));
            var recursion = await Assert.ThrowsAsync<LockRecursionException>(async () => await byLong.Mine.AcquireAsync(4294967296L, TimeSpan.FromSeconds(30)));
            Show(recursion.Message);
            Assert.Contains($"'{two.Name}_l'[4294967296]", recursion.Message, StringComparison.Ordinal);
            Assert.Contains($"'{two.Name}_l'[1]", recursion.Message, StringComparison.Ordinal);
            Assert.Contains("map to the same advisory lock", recursion.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, two.First.HeldCount);
        Assert.Equal(0, two.Second.HeldCount);
    }

    [Fact]
    public async Task AKeyedTimeout_NamesTheKey_AndKeepsTheLocksName()
    {
        await using var two = new TwoProcesses("newuser_keyed_timeout");
        var mine = two.First.CreateKeyedLock<long>(two.Name, level: 10);
        var theirs = two.Second.CreateKeyedLock<long>(two.Name, level: 10);
        await PostgresServer.WarmUpAsync(two.Second);
        await using var held = await mine.AcquireAsync(42L);
        Assert.Equal($"'{two.Name}'[42] (level 10)", held.LockDescription);

        var error = await Assert.ThrowsAsync<LockTimeoutException>(() => PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.AcquireAsync(42L, TimeSpan.FromMilliseconds(200));
            return scope.IsAcquired;
        }));

        Show(error.Message);
        Assert.Equal(two.Name, error.LockName);
        Assert.Contains($"'{two.Name}'[42]", error.Message, StringComparison.Ordinal);
        Assert.Contains($"backend pid {held.SessionProcessId}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadWriteLocks_AcrossProviders_ReadersShare_AndAWriterWaitsForThemAll()
    {
        await using var two = new TwoProcesses("newuser_rw");
        await using var watcher = await PostgresServer.OpenAsync();
        var mine = two.First.CreateReadWriteLock(two.Name, level: 5);
        var theirs = two.Second.CreateReadWriteLock(two.Name, level: 5);
        await PostgresServer.WarmUpAsync(two.Second, sessions: 2);

        var reading = await mine.AcquireReadAsync(TimeSpan.FromSeconds(30));
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireReadAsync(TimeSpan.Zero)));
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireWriteAsync(TimeSpan.Zero)));

        // Reading, a flow asking to write is refused at once: a distributed read lock does not upgrade.
        var upgrade = await Assert.ThrowsAsync<LockRecursionException>(async () => await mine.AcquireWriteAsync(TimeSpan.FromSeconds(30)));
        Show(upgrade.Message);
        Assert.Contains($"tried to acquire write access to '{two.Name}' (level 5) while it holds read access", upgrade.Message, StringComparison.Ordinal);

        var writerGranted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.AcquireWriteAsync(TimeSpan.FromSeconds(60));
            writerGranted.SetResult();
            await letGo.Task.WaitAsync(s_guard);
            return scope.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, mine.Key);
        Assert.False(writerGranted.Task.IsCompleted);
        await reading.DisposeAsync();
        await writerGranted.Task.WaitAsync(s_guard);

        // Writing elsewhere: this process can read no more than it can write.
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireReadAsync(TimeSpan.Zero)));
        letGo.SetResult();
        Assert.True(await writer.WaitAsync(s_guard));
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireWriteAsync(TimeSpan.Zero)));
    }

    [Fact]
    public async Task ALockSet_HoldsBothKeysAcrossProviders_AndATimedOutSetHoldsNone()
    {
        await using var two = new TwoProcesses("newuser_set");
        var mine = two.First.CreateKeyedLock<long>(two.Name, level: 10);
        var theirs = two.Second.CreateKeyedLock<long>(two.Name, level: 10);
        await PostgresServer.WarmUpAsync(two.Second);

        await using (var both = await PostgresLockSet.AcquireAsync(mine.Request(1), mine.Request(2)))
        {
            Assert.True(both.IsAcquired);
            Assert.Equal(2, both.Count);
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(1, TimeSpan.Zero)));
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(2, TimeSpan.Zero)));
        }

        await using var two2 = await mine.AcquireAsync(2L);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(() => PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.AcquireManyAsync([2L, 1L], TimeSpan.FromMilliseconds(300));
            return scope.IsAcquired;
        }));
        Show(error.Message);
        Assert.Contains($"'{two.Name}'[2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("the set holds none of them", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, two.Second.HeldCount);
        Assert.Equal(0, two.Second.ConnectionsInUse);

        // The member it did take (key 1, first in the order) was given back.
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireAsync(1, TimeSpan.Zero)));

        var tried = await PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.TryAcquireManyAsync([1L, 2L], TimeSpan.FromMilliseconds(150));
            return scope.IsAcquired;
        });
        Assert.False(tried);
        Assert.Equal(0, two.Second.HeldCount);
    }

    [Fact]
    public async Task DisposingTheProvider_EndsItsHoldAndItsQueuedWait_AndTheServerReleasesTheLock()
    {
        await using var other = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        var (provider, application) = TaggedProvider();
        string name = PostgresServer.Unique("newuser_dispose");
        var heldHere = provider.CreateExclusiveLock(name + "_held");
        var wantedHere = provider.CreateExclusiveLock(name + "_wanted");
        await using var blocker = await other.CreateExclusiveLock(name + "_wanted").AcquireAsync(TimeSpan.FromSeconds(30));

        var hold = await PostgresServer.InAFlowOfItsOwn(async () => await heldHere.AcquireAsync(TimeSpan.FromSeconds(30)));
        var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await wantedHere.AcquireAsync(TimeSpan.FromSeconds(60));
            return scope.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wantedHere.Key);

        await provider.DisposeAsync();

        var waitEnded = await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(s_guard));
        Show(waitEnded.Message);
        Assert.Contains($"'{name}_wanted'", waitEnded.Message, StringComparison.Ordinal);
        Assert.StartsWith("Flow #", waitEnded.Message, StringComparison.Ordinal);
        Assert.True(hold.IsLost);
        Assert.True(hold.LostToken.IsCancellationRequested);
        await hold.DisposeAsync();

        var late = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await heldHere.AcquireAsync(TimeSpan.FromSeconds(30)));
        Show(late.Message);
        Assert.Contains($"'{name}_held'", late.Message, StringComparison.Ordinal);

        Assert.Equal(0, await UntilAsync(() => SessionsOfAsync(watcher, application), 0));
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => other.CreateExclusiveLock(name + "_held").TryAcquireAsync(TimeSpan.FromSeconds(30))));
    }

    [Fact]
    public async Task AScopeDisposedTwice_Throws_AndTheBudgetRefusesAtOnce_NamingTheLockAndTheBudget()
    {
        await using var provider = PostgresServer.Provider(budget: 1);
        string name = PostgresServer.Unique("newuser_budget");
        var first = provider.CreateExclusiveLock(name + "_a");
        var second = provider.CreateExclusiveLock(name + "_b");

        var scope = await first.AcquireAsync(TimeSpan.FromSeconds(30));
        var refused = await Assert.ThrowsAsync<PostgresConnectionBudgetException>(() =>
            PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await using var other = await second.AcquireAsync(TimeSpan.FromSeconds(30));
                return other.IsAcquired;
            }));
        Show(refused.Message);
        Assert.Equal(1, refused.Budget);
        Assert.Equal(name + "_b", refused.LockName);
        Assert.Contains($"'{name}_b'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.WaitingCount);

        await scope.DisposeAsync();
        var twice = Assert.Throws<SynchronizationLockException>(() => scope.Dispose());
        Assert.Matches(@"^(The current async flow|Flow #\d+)( \('[^']*'\))? \(on thread \d+", twice.Message);
        Assert.Contains($"'{name}_a'", twice.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task TheHostedProvider_FromTheReadme_ResolvesItsLocks_AndItsHealthCheckReportsTheBudget()
    {
        string accounts = PostgresServer.Unique("accounts");
        string counter = PostgresServer.Unique("counter");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString, o => o.ConnectionBudget = 32)
            .AddPostgresKeyedLock<long>(accounts, level: 10)
            .AddPostgresExclusiveLock(counter);
        services.AddHealthChecks().AddLocksmithPostgres();
        await using var container = services.BuildServiceProvider();

        var provider = container.GetRequiredService<PostgresLockProvider>();
        Assert.Equal(32, provider.ConnectionBudget);
        var keyed = container.GetRequiredKeyedService<PostgresKeyedLock<long>>(accounts);
        var counterLock = container.GetRequiredKeyedService<PostgresExclusiveLock>(counter);
        Assert.Same(keyed, container.GetRequiredKeyedService<PostgresKeyedLock<long>>(accounts));
        Assert.Same(provider, counterLock.Provider);

        await PostgresServer.WarmUpAsync(provider);
        await using (var held = await keyed.AcquireAsync(42L, TimeSpan.FromSeconds(30)))
        {
            Assert.Equal($"'{accounts}'[42] (level 10)", held.LockDescription);
            var entry = (await container.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["locksmith-postgres"];
            Show(entry.Description ?? "(no description)");
            Assert.Equal(HealthStatus.Healthy, entry.Status);
            Assert.Equal(32, entry.Data["connectionBudget"]);
            Assert.Equal(1, entry.Data["connectionsInUse"]);
        }

        // A second AddPostgres is refused; a budget of 0 is refused at the call, naming the option.
        var again = Assert.ThrowsAny<InvalidOperationException>(() => new ServiceCollection().AddLocksmith().AddPostgres(PostgresServer.ConnectionString).AddPostgres(PostgresServer.ConnectionString));
        Show(again.Message);
        Assert.Contains("Call AddPostgres once", again.Message, StringComparison.Ordinal);
        var zero = Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddLocksmith().AddPostgres(PostgresServer.ConnectionString, o => o.ConnectionBudget = 0));
        Show(zero.Message);
        Assert.Contains("ConnectionBudget", zero.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddLocksmith().AddPostgres(null!));
        Assert.Contains("AddPostgres needs the connection string of the locks' PostgreSQL database; it was null", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFlowWhoseSessionWasKilled_IsRefusedAnotherLock_UntilItReleasesTheLostOne()
    {
        await using var admin = await PostgresServer.OpenAsync();
        var (provider, application) = TaggedProvider();
        string name = PostgresServer.Unique("newuser_killed_then_other");
        var first = provider.CreateExclusiveLock(name + "_a", level: 1);
        var second = provider.CreateExclusiveLock(name + "_b", level: 2);
        var held = await first.AcquireAsync(TimeSpan.FromSeconds(30));
        await PostgresServer.TerminateAsync(admin, held.SessionProcessId);
        await PostgresServer.UntilCancelledAsync(held.LostToken);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await second.AcquireAsync(TimeSpan.FromSeconds(30)));
        Show(refused.Message);
        Assert.Contains($"'{name}_b' (level 2)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("was lost", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Release them, then acquire again", refused.Message, StringComparison.Ordinal);

        await held.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        await using (var again = await second.AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.True(again.IsAcquired);
            Assert.NotEqual(held.SessionProcessId, again.SessionProcessId);
        }

        await provider.DisposeAsync();
        Assert.Equal(0, await UntilAsync(() => SessionsOfAsync(admin, application), 0));
    }

    [Fact]
    public async Task AHolderKilledBeforeAnyCheckSawIt_ReleasesWithoutThrowing_AndAcquiresAgainOnANewSession()
    {
        await using var admin = await PostgresServer.OpenAsync();

        // No periodic check: the release itself is the first to meet the dead session.
        await using var provider = PostgresServer.Provider(checkInterval: TimeSpan.FromHours(1));
        string name = PostgresServer.Unique("newuser_killed_unseen");
        var mine = provider.CreateExclusiveLock(name);
        var held = await mine.AcquireAsync(TimeSpan.FromSeconds(30));
        await PostgresServer.TerminateAsync(admin, held.SessionProcessId);
        Assert.Equal(0, await UntilAsync(() => ScalarAsync(admin, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = $1", held.SessionProcessId), 0));

        await held.DisposeAsync();

        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        await using var again = await mine.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.True(again.IsAcquired);
        Assert.NotEqual(held.SessionProcessId, again.SessionProcessId);
    }

    [Fact]
    public async Task AWaiterWhoseOwnBackendIsKilled_GetsANpgsqlExceptionNamingTheLock_AndLeaksNothing()
    {
        await using var other = PostgresServer.Provider();
        await using var admin = await PostgresServer.OpenAsync();
        var (provider, application) = TaggedProvider();
        string name = PostgresServer.Unique("newuser_waiter_killed");
        var theirs = other.CreateExclusiveLock(name);
        var mine = provider.CreateExclusiveLock(name);
        var held = await theirs.AcquireAsync(TimeSpan.FromSeconds(30));
        var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await mine.AcquireAsync(TimeSpan.FromSeconds(60));
            return scope.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, mine.Key);
        long waitingPid = await ScalarAsync(admin, "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1::oid", (long)(uint)mine.Key.Lo);
        await PostgresServer.TerminateAsync(admin, (int)waitingPid);

        var error = await Assert.ThrowsAsync<NpgsqlException>(() => waiter.WaitAsync(s_guard));
        Show(error.Message);
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("57P01", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, mine.WaitingCount);
        await held.DisposeAsync();
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireAsync(TimeSpan.FromSeconds(30))));
        Assert.InRange(await SessionsOfAsync(admin, application), 1, provider.ConnectionBudget + 2);
        await provider.DisposeAsync();
        Assert.Equal(0, await UntilAsync(() => SessionsOfAsync(admin, application), 0));
    }

    [Fact]
    public async Task ACancelledSetWait_GivesBackTheMemberItTook()
    {
        await using var two = new TwoProcesses("newuser_set_cancel");
        await using var admin = await PostgresServer.OpenAsync();
        var mine = two.First.CreateKeyedLock<int>(two.Name, level: 10);
        var theirs = two.Second.CreateKeyedLock<int>(two.Name, level: 10);
        await using var two2 = await mine.AcquireAsync(2);
        using var cancel = new CancellationTokenSource();
        var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await theirs.AcquireManyAsync([1, 2], cancel.Token);
            return scope.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, mine.KeyOf(2));
        cancel.Cancel();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(s_guard));
        Show(error.Message);
        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.Contains($"'{two.Name}'[2]", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, two.Second.HeldCount);
        Assert.Equal(0, two.Second.ConnectionsInUse);
        Assert.Equal(0, theirs.WaitingCount);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => mine.TryAcquireAsync(1, TimeSpan.Zero)));
    }

    [Fact]
    public async Task ATokenAlreadyCancelled_AndAPlainSessionHolder_AreNamed()
    {
        await using var provider = await PostgresServer.WarmedProviderAsync();
        string name = PostgresServer.Unique("newuser_plain");
        var mine = provider.CreateExclusiveLock(name);
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await mine.AcquireAsync(new CancellationToken(true)));
        Show(cancelled.Message);
        Assert.StartsWith("The current async flow (on thread ", cancelled.Message, StringComparison.Ordinal);
        Assert.Contains($"'{name}'", cancelled.Message, StringComparison.Ordinal);
        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(name);
        try
        {
            var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await mine.AcquireAsync(TimeSpan.FromMilliseconds(200)));
            Show(error.Message);
            Assert.Contains($"backend pid {holder.ProcessID}", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresServer.UnlockAllAsync(holder);
        }
    }

    [Fact]
    public async Task LongStringAndGuidKeys_AreDescribed_AndAPlainUsingReleases()
    {
        await using var provider = await PostgresServer.WarmedProviderAsync();
        string name = PostgresServer.Unique("newuser_long");
        var strings = provider.CreateKeyedLock<string>(name);
        var guids = provider.CreateKeyedLock<Guid>(name + "_g");
        using (var scope = await strings.AcquireAsync(new string('x', 150)))
        {
            Assert.Equal($"'{name}'[{new string('x', 100)}…]", scope.LockDescription);
        }

        var id = Guid.NewGuid();
        using (var scope = await guids.AcquireAsync(id))
        {
            Assert.Equal($"'{name}_g'[{id}]", scope.LockDescription);
            Assert.True(guids.IsHeldByCurrentFlow(id));
        }

        Assert.False(guids.IsHeldByCurrentFlow(id));
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task AHolderKilledInsideALockSet_LosesEveryMember()
    {
        await using var two = new TwoProcesses("newuser_set_killed");
        await using var admin = await PostgresServer.OpenAsync();
        var mine = two.First.CreateKeyedLock<int>(two.Name, level: 10);
        var theirs = two.Second.CreateKeyedLock<int>(two.Name, level: 10);
        var set = await mine.AcquireManyAsync([1, 2]);
        int pid = (int)await ScalarAsync(admin, "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND objid = 1 AND classid = $1::oid", (long)(uint)mine.ClassId);
        await PostgresServer.TerminateAsync(admin, pid);
        await PostgresServer.UntilCancelledAsync(set.LostToken);
        Assert.True(mine.GetCurrentFlowLostToken(1).IsCancellationRequested);
        Assert.True(mine.GetCurrentFlowLostToken(2).IsCancellationRequested);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(1, TimeSpan.FromSeconds(30))));
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(2, TimeSpan.FromSeconds(30))));
        await set.DisposeAsync();
        Assert.Equal(0, two.First.HeldCount);
        Assert.Equal(0, two.First.ConnectionsInUse);
        await using var again = await mine.AcquireManyAsync([1, 2]);
        Assert.True(again.IsAcquired);
    }

    [Fact]
    public async Task OneNameMadeTwice_AsExclusiveAndReadWrite_OrAsIntAndLongKeys_IsOneLock_AndARecursion()
    {
        await using var provider = await PostgresServer.WarmedProviderAsync();
        string name = PostgresServer.Unique("newuser_twokinds");
        var exclusive = provider.CreateExclusiveLock(name);
        var readWrite = provider.CreateReadWriteLock(name);
        await using (var held = await exclusive.AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await readWrite.AcquireReadAsync(TimeSpan.FromSeconds(30)));
            Show(error.Message);
            Assert.Contains("two lock objects created with that name on this provider are one advisory lock", error.Message, StringComparison.Ordinal);
        }

        var ints = provider.CreateKeyedLock<int>(name + "_k");
        var longs = provider.CreateKeyedLock<long>(name + "_k");
        await using (var seven = await ints.AcquireAsync(7))
        {
            var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await longs.AcquireAsync(7L, TimeSpan.FromSeconds(30)));
            Assert.Contains($"'{name}_k'[7]", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, provider.HeldCount);
    }

    [Fact]
    public async Task DisposingTheProvider_WhileASiblingIsQueuedForTheFlowsSession()
    {
        await using var other = PostgresServer.Provider();
        await using var admin = await PostgresServer.OpenAsync();
        var (provider, application) = TaggedProvider();
        string name = PostgresServer.Unique("newuser_dispose_queued");
        var a = provider.CreateExclusiveLock(name + "_a", level: 1);
        var b = provider.CreateExclusiveLock(name + "_b", level: 2);
        var c = provider.CreateExclusiveLock(name + "_c", level: 3);
        await using var blockB = await other.CreateExclusiveLock(name + "_b").AcquireAsync(TimeSpan.FromSeconds(30));
        await using var blockC = await other.CreateExclusiveLock(name + "_c").AcquireAsync(TimeSpan.FromSeconds(30));

        var started = new TaskCompletionSource<(PostgresLockScope Held, Task<PostgresLockScope> B, Task<PostgresLockScope> C)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            var held = await a.AcquireAsync(TimeSpan.FromSeconds(30));
            var tb = Task.Run(async () => await b.AcquireAsync(TimeSpan.FromSeconds(90)));
            await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, b.Key);
            var tc = Task.Run(async () => await c.AcquireAsync(TimeSpan.FromSeconds(90)));
            for (int i = 0; i < 3000 && c.WaitingCount == 0; i++)
            {
                await Task.Delay(10);
            }

            started.SetResult((held, tb, tc));
            return true;
        });
        var (hold, waitB, waitC) = await started.Task.WaitAsync(s_guard);
        Assert.Equal(1, c.WaitingCount);

        await provider.DisposeAsync();

        var eb = await Assert.ThrowsAsync<ObjectDisposedException>(() => waitB.WaitAsync(s_guard));
        var ec = await Assert.ThrowsAsync<ObjectDisposedException>(() => waitC.WaitAsync(s_guard));
        Show(eb.Message);
        Show(ec.Message);
        Assert.Contains($"'{name}_c' (level 3)", ec.Message, StringComparison.Ordinal);
        Assert.True(hold.IsLost);
        await hold.DisposeAsync();
        Assert.Equal(0, c.WaitingCount);
        Assert.Equal(0, b.WaitingCount);
        Assert.Equal(0, await UntilAsync(() => SessionsOfAsync(admin, application), 0));
    }

    [Fact]
    public async Task ALockSetOfReadAndWrite_TakesTheWriteOnce_AndDisposalOfTheProviderLosesIt()
    {
        await using var other = await PostgresServer.WarmedProviderAsync();
        var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("newuser_set_rw");
        var rw = provider.CreateReadWriteLock(name, level: 5);
        var ex = provider.CreateExclusiveLock(name + "_x", level: 6);
        var theirs = other.CreateReadWriteLock(name, level: 5);
        var set = await PostgresLockSet.AcquireAsync([rw.ReadRequest(), rw.WriteRequest(), ex.Request()]);
        Assert.Equal(2, set.Count);
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireReadAsync(TimeSpan.Zero)));

        await provider.DisposeAsync();

        Assert.True(set.LostToken.IsCancellationRequested);
        await set.DisposeAsync();
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireWriteAsync(TimeSpan.FromSeconds(30))));
    }

    [Fact]
    public async Task TheHealthCheck_DegradedWhileASetFillsTheBudget()
    {
        string name = PostgresServer.Unique("newuser_health_set");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString, o => o.ConnectionBudget = 1).AddPostgresKeyedLock<int>(name, level: 1);
        services.AddHealthChecks().AddLocksmithPostgres();
        await using var container = services.BuildServiceProvider();
        var keyed = container.GetRequiredKeyedService<PostgresKeyedLock<int>>(name);
        await PostgresServer.WarmUpAsync(container.GetRequiredService<PostgresLockProvider>());
        var health = container.GetRequiredService<HealthCheckService>();
        await using (var set = await keyed.AcquireManyAsync([1, 2, 3]))
        {
            var entry = (await health.CheckHealthAsync()).Entries["locksmith-postgres"];
            Show(entry.Description ?? "(no description)");
            Assert.Equal(1, entry.Data["connectionsInUse"]);
            Assert.Equal(HealthStatus.Degraded, entry.Status);
        }

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries["locksmith-postgres"].Status);
    }

    [Fact]
    public async Task AReaderKilledWhileOthersAlsoRead_IsLost_AndTheOthersKeepReading()
    {
        await using var two = new TwoProcesses("newuser_reader_killed");
        await using var admin = await PostgresServer.OpenAsync();
        var mine = two.First.CreateReadWriteLock(two.Name);
        var theirs = two.Second.CreateReadWriteLock(two.Name);
        await PostgresServer.WarmUpAsync(two.Second, sessions: 2);
        var reading = await mine.AcquireReadAsync(TimeSpan.FromSeconds(30));
        var theirsReading = await PostgresServer.InAFlowOfItsOwn(async () => await theirs.AcquireReadAsync(TimeSpan.FromSeconds(30)));
        var alsoReading = await PostgresServer.InAFlowOfItsOwn(async () => await mine.AcquireReadAsync(TimeSpan.FromSeconds(30)));

        // A writer's timeout names every reading session, not one reader as the holder.
        var writeTimeout = await Assert.ThrowsAsync<LockTimeoutException>(() => PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var writing = await theirs.AcquireWriteAsync(TimeSpan.FromMilliseconds(200));
            return writing.IsAcquired;
        }));
        Show(writeTimeout.Message);
        foreach (int pid in new[] { reading.SessionProcessId, theirsReading.SessionProcessId, alsoReading.SessionProcessId })
        {
            Assert.Contains(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), writeTimeout.Message, StringComparison.Ordinal);
        }

        await PostgresServer.TerminateAsync(admin, reading.SessionProcessId);
        await PostgresServer.UntilCancelledAsync(reading.LostToken);
        Assert.True(reading.IsLost);
        Assert.False(theirsReading.IsLost);
        Assert.False(alsoReading.IsLost);

        // Still read elsewhere: no writer gets in.
        Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireWriteAsync(TimeSpan.Zero)));
        await reading.DisposeAsync();
        await PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await theirsReading.DisposeAsync();
            await alsoReading.DisposeAsync();
            return true;
        });
        Assert.Equal(0, two.First.HeldCount);
        Assert.Equal(0, two.Second.HeldCount);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireWriteAsync(TimeSpan.FromSeconds(30))));
    }

    [Fact]
    public async Task TheProvidersDefaultTimeout_BoundsAnAcquireAsyncGivenNoTimeout_AndTheDefaultsAreTheReadmes()
    {
        await using var other = await PostgresServer.WarmedProviderAsync();
        await using var provider = new PostgresLockProvider(PostgresServer.ConnectionString, connectionBudget: 4, defaultTimeout: TimeSpan.FromMilliseconds(300));
        await PostgresServer.WarmUpAsync(provider);
        string name = PostgresServer.Unique("newuser_default_timeout");
        var held = await PostgresServer.InAFlowOfItsOwn(async () => await other.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(30)));
        try
        {
            var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await provider.CreateExclusiveLock(name).AcquireAsync());
            Assert.Equal(name, error.LockName);
            Assert.Equal(0, provider.ConnectionsInUse);
        }
        finally
        {
            await PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await held.DisposeAsync();
                return true;
            });
        }

        await using var plain = new PostgresLockProvider(PostgresServer.ConnectionString);
        Assert.Equal(16, plain.ConnectionBudget);
        Assert.Equal(TimeSpan.FromSeconds(1), plain.LostLockCheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), plain.LostLockCheckTimeout);
    }

    [Fact]
    public async Task ASetSpanningTwoProviders_HoldsASessionOfEach_AndGivesBothBack()
    {
        await using var two = new TwoProcesses("newuser_set_span");
        var a = two.First.CreateExclusiveLock(two.Name + "_a", level: 1);
        var b = two.Second.CreateExclusiveLock(two.Name + "_b", level: 2);
        await PostgresServer.WarmUpAsync(two.First);
        await PostgresServer.WarmUpAsync(two.Second);
        await using (var both = await PostgresLockSet.AcquireAsync(a.Request(), b.Request()))
        {
            Assert.Equal(2, both.Count);
            Assert.Equal(1, two.First.ConnectionsInUse);
            Assert.Equal(1, two.Second.ConnectionsInUse);
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => a.TryAcquireAsync(TimeSpan.Zero)));
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => b.TryAcquireAsync(TimeSpan.Zero)));
        }

        Assert.Equal(0, two.First.ConnectionsInUse);
        Assert.Equal(0, two.Second.ConnectionsInUse);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => b.TryAcquireAsync(TimeSpan.FromSeconds(30))));
    }

    [Fact]
    public async Task DisposingTheProvider_WhileASetWaitsForItsSecondKey_EndsIt_AndGivesBackTheFirst()
    {
        await using var other = await PostgresServer.WarmedProviderAsync();
        await using var admin = await PostgresServer.OpenAsync();
        var (provider, application) = TaggedProvider();
        string name = PostgresServer.Unique("newuser_dispose_set");
        var mine = provider.CreateKeyedLock<int>(name, level: 10);
        var theirs = other.CreateKeyedLock<int>(name, level: 10);
        var blocker = await PostgresServer.InAFlowOfItsOwn(async () => await theirs.AcquireAsync(2, TimeSpan.FromSeconds(30)));
        var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var both = await mine.AcquireManyAsync([1, 2], TimeSpan.FromSeconds(90));
            return both.IsAcquired;
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, mine.KeyOf(2));

        await provider.DisposeAsync();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(s_guard));
        Show(error.Message);
        Assert.Contains($"'{name}'[2]", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await UntilAsync(() => SessionsOfAsync(admin, application), 0));
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(1, TimeSpan.FromSeconds(30))));
        await PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await blocker.DisposeAsync();
            return true;
        });
    }

    /// <summary>
    /// Holders whose backends were ended and whose lost scopes are not disposed yet (a flow still counts as holding
    /// them) are no holders on the server: the key went to another flow. Before, the wait graph
    /// (<c>DeadlockDetector.CurrentWaits()</c>, the health check's waits, the deadlock detector's edges) could name one
    /// of those lost flows as the holder of a third flow's wait, whichever the provider's table listed first, while the
    /// timeout message named the real one. Several lost holders and rounds, so the old answer was wrong in nearly every run.
    /// </summary>
    [Fact]
    public async Task AWaitBehindALockTakenAfterLostHolds_NamesTheRealHolder_NotALostOne()
    {
        await using var provider = PostgresServer.Provider(budget: 8);
        await using var admin = await PostgresServer.OpenAsync();
        for (int round = 0; round < 4; round++)
        {
            var x = provider.CreateExclusiveLock(PostgresServer.Unique("newuser_lost_holders"));
            var lost = new System.Collections.Generic.List<PostgresLockScope>();
            for (int i = 0; i < 3; i++)
            {
                var scope = await PostgresServer.InAFlowOfItsOwn(async () => await x.AcquireAsync(TimeSpan.FromSeconds(30)));
                await PostgresServer.TerminateAsync(admin, scope.SessionProcessId);
                await PostgresServer.UntilCancelledAsync(scope.LostToken);
                lost.Add(scope);
            }

            // The real holder marks its flow with an in-process lock, whose HolderFlowId names it.
            var marker = new AsyncExclusiveLock();
            var holding = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var holder = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                using var mark = await marker.AcquireAsync();
                await using var scope = await x.AcquireAsync(TimeSpan.FromSeconds(30));
                holding.SetResult(marker.HolderFlowId);
                await letGo.Task.WaitAsync(s_guard);
                return true;
            });
            int holderFlow = await holding.Task.WaitAsync(s_guard);

            using var cancel = new CancellationTokenSource();
            var waiter = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await using var scope = await x.AcquireAsync(TimeSpan.FromSeconds(90), cancel.Token);
                return scope.IsAcquired;
            });
            LockWaitInProgress? wait = null;
            for (int i = 0; i < 3000 && (wait = FirstWaitFor(x)) is null; i++)
            {
                await Task.Delay(10);
            }

            Assert.NotNull(wait);
            Assert.Equal(holderFlow, wait.HolderId);

            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(s_guard));
            letGo.SetResult();
            Assert.True(await holder.WaitAsync(s_guard));
            foreach (var scope in lost)
            {
                await scope.DisposeAsync();
            }
        }

        Assert.Equal(0, provider.HeldCount);

        static LockWaitInProgress? FirstWaitFor(PostgresExclusiveLock x)
        {
            foreach (var wait in DeadlockDetector.CurrentWaits())
            {
                if (wait.LockId == x.Id)
                {
                    return wait;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// A default request (a field never assigned, an array's unset slot) is refused by a set, naming the fix; its
    /// Description, declared non-null, was null, so code that logged <c>request.Description.Length</c> threw
    /// NullReferenceException. It is empty now, as a default scope's LockDescription is.
    /// </summary>
    [Fact]
    public async Task ADefaultRequest_DescribesNothing_AndASetRefusesIt()
    {
        await using var provider = PostgresServer.Provider();
        var accounts = provider.CreateKeyedLock<long>(PostgresServer.Unique("newuser_default_request"), level: 10);
        var requests = new PostgresLockRequest[2];
        requests[0] = accounts.Request(1);

        Assert.Equal(string.Empty, requests[1].Description);
        Assert.Null(requests[1].Lock);
        Assert.Equal(string.Empty, default(PostgresLockScope).LockDescription);
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await PostgresLockSet.AcquireAsync(requests));
        Assert.Contains("A default PostgresLockRequest names no lock", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task TheHealthCheckOfADisposedProvider_ReportsTheRegistrationsFailureStatus()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocksmith().AddPostgres(PostgresServer.ConnectionString);
        services.AddHealthChecks().AddLocksmithPostgres(failureStatus: HealthStatus.Degraded);
        await using var container = services.BuildServiceProvider();
        await container.GetRequiredService<PostgresLockProvider>().DisposeAsync();

        var entry = (await container.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["locksmith-postgres"];

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("was disposed", entry.Description, StringComparison.Ordinal);
    }

    /// <summary>
    /// A writer timing out behind readers of this process and of another process: before, the message named the one
    /// reader of this process as the holder ("held by flow #n of this process") and left out the other process's reader,
    /// so releasing the named reader would not have let the writer in.
    /// </summary>
    [Fact]
    public async Task AWriterTimingOutBehindReadersHereAndElsewhere_NamesEveryReadingSession()
    {
        await using var two = new TwoProcesses("newuser_readers_timeout");
        var mine = two.First.CreateReadWriteLock(two.Name);
        var theirs = two.Second.CreateReadWriteLock(two.Name);
        await PostgresServer.WarmUpAsync(two.Second);
        await using var reading = await mine.AcquireReadAsync(TimeSpan.FromSeconds(30));
        await using var elsewhere = await PostgresServer.HoldOnPlainSessionAsync(two.Name, shared: true);
        try
        {
            var error = await Assert.ThrowsAsync<LockTimeoutException>(() => PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await using var writing = await theirs.AcquireWriteAsync(TimeSpan.FromMilliseconds(200));
                return writing.IsAcquired;
            }));

            Show(error.Message);
            Assert.Contains($"backend pid {reading.SessionProcessId}", error.Message, StringComparison.Ordinal);
            Assert.Contains(elsewhere.ProcessID.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresServer.UnlockAllAsync(elsewhere);
        }
    }
}

/// <summary>
/// A hosted leader: a BackgroundService that holds a registered lock, does its work until the hold is lost or the host
/// stops, and takes the lock again after a loss. A host installs the process policy, so this runs alone.
/// </summary>
[Collection(nameof(ProcessPolicyCollection))]
public sealed class NewUserPostgresHostedTests
{
    private static readonly TimeSpan s_guard = PostgresServer.HangGuard;

    private sealed class Leader(PostgresExclusiveLock leadership) : BackgroundService
    {
        public System.Threading.Channels.Channel<int> Terms { get; } = System.Threading.Channels.Channel.CreateUnbounded<int>();

        public int LostTerms;

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await using var term = await leadership.AcquireAsync(stoppingToken);
                Terms.Writer.TryWrite(term.SessionProcessId);
                using var work = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, term.LostToken);
                try
                {
                    await Task.Delay(Timeout.Infinite, work.Token);
                }
                catch (OperationCanceledException) when (work.IsCancellationRequested)
                {
                    // The term ended: the host stops, or the lock was lost.
                }

                if (term.IsLost)
                {
                    Interlocked.Increment(ref LostTerms);
                }
            }
        }
    }

    [Fact]
    public async Task AHostedLeader_LearnsItLostTheLock_FromLostTokenAndThe14018Line_AndLeadsAgain()
    {
        string lockName = PostgresServer.Unique("newuser_hosted_leader");
        var capture = new CapturingLoggerProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(capture);
        builder.Services.AddLocksmith()
            .AddPostgres(PostgresServer.ConnectionString, o => o.LostLockCheckInterval = TimeSpan.FromMilliseconds(100))
            .AddPostgresExclusiveLock(lockName);

        // The registered lock, as [FromKeyedServices(name)] would give it (the name is the test's own).
        builder.Services.AddSingleton(sp => new Leader(sp.GetRequiredKeyedService<PostgresExclusiveLock>(lockName)));
        builder.Services.AddHostedService(static sp => sp.GetRequiredService<Leader>());
        await using var admin = await PostgresServer.OpenAsync();
        using var host = builder.Build();
        var leader = host.Services.GetRequiredService<Leader>();
        await host.StartAsync();

        int first = await leader.Terms.Reader.ReadAsync().AsTask().WaitAsync(s_guard);
        await using (var terminate = new NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", admin))
        {
            terminate.Parameters.Add(new NpgsqlParameter<int> { TypedValue = first });
            Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
        }

        int second = await leader.Terms.Reader.ReadAsync().AsTask().WaitAsync(s_guard);
        Assert.NotEqual(first, second);
        Assert.Equal(1, Volatile.Read(ref leader.LostTerms));
        var line = Assert.Single(capture.Lines("Locksmith", LocksmithEventIds.DistributedLockLost));
        Assert.Contains($"'{lockName}'", line.Message, StringComparison.Ordinal);
        Assert.Contains($"backend pid {first}", line.Message, StringComparison.Ordinal);

        await host.StopAsync().WaitAsync(s_guard);
        Assert.Equal(1, Volatile.Read(ref leader.LostTerms));
        var provider = host.Services.GetRequiredService<PostgresLockProvider>();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);

        // Stopped, the leader let go: another process takes the lock at once.
        await using var other = PostgresServer.Provider();
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => other.CreateExclusiveLock(lockName).TryAcquireAsync(TimeSpan.FromSeconds(30))));
    }
}
