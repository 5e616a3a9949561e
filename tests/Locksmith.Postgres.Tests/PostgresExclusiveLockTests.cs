using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

public sealed class PostgresExclusiveLockTests
{
    [Fact]
    public async Task TwoProviders_ExcludeEachOther_AndEveryIncrementCounts()
    {
        await using var pair = new TwoProcesses("counter");
        var (first, second, name) = pair;
        var locks = new[] { first.CreateExclusiveLock(name), second.CreateExclusiveLock(name) };
        int counter = 0;
        int inside = 0;
        int overlaps = 0;

        var flows = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            var gate = locks[i % 2];
            for (int n = 0; n < 25; n++)
            {
                await using var scope = await gate.AcquireAsync();
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                int seen = counter;
                await Task.Yield();
                counter = seen + 1;
                Interlocked.Decrement(ref inside);
            }
        }));
        await Task.WhenAll(flows);

        Assert.Equal(100, counter);
        Assert.Equal(0, overlaps);
        Assert.Equal(0, first.ConnectionsInUse);
        Assert.Equal(0, second.ConnectionsInUse);
    }

    [Fact]
    public async Task HeldElsewhere_TryAcquireFails_AndSucceedsAfterRelease()
    {
        await using var pair = new TwoProcesses("job");
        var (first, second, _) = pair;
        var (mine, theirs) = pair.ExclusiveLocks();

        // The second provider's first use is a try-once, whose opening has 2 s at most: its pool is opened first.
        await PostgresServer.WarmUpAsync(second);
        var held = await mine.AcquireAsync();
        bool refused = await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(TimeSpan.Zero));
        bool refusedAfterWaiting = await PostgresServer.TakenAtOnceElsewhereAsync(() => theirs.TryAcquireAsync(TimeSpan.FromMilliseconds(50)));
        Assert.True(held.IsAcquired);
        Assert.False(refused);
        Assert.False(refusedAfterWaiting);
        Assert.True(mine.IsHeldByCurrentFlow);

        await held.DisposeAsync();
        await using var taken = await theirs.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(taken.IsAcquired);
        Assert.Equal(1, second.ConnectionsInUse);
        Assert.Equal(0, first.ConnectionsInUse);
    }

    [Fact]
    public async Task Timeout_ThrowsLockTimeoutException_NamingTheLock()
    {
        await using var pair = new TwoProcesses("report");
        var (first, second, name) = pair;
        await using var held = await KeyHeldElsewhere.HoldAsync(() => first.CreateExclusiveLock(name).AcquireAsync());

        // The 200 ms go to the wait, not to opening the second provider's first session.
        await PostgresServer.WarmUpAsync(second);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await second.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromMilliseconds(200)));

        Assert.Equal(name, error.LockName);
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        // The holder is a flow of this process through the other provider, and is named as one.
        Assert.Contains("of this process, through another PostgresLockProvider", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.ConnectionsInUse);
    }

    /// <summary>A timeout names the waiting flow as the in-process async locks do: "Flow #N (on thread T) timed out …".</summary>
    [Fact]
    public async Task Timeout_NamesTheWaitingFlowAndItsThread()
    {
        await using var pair = new TwoProcesses("report-flow");
        var (first, second, name) = pair;
        await using var held = await KeyHeldElsewhere.HoldAsync(() => first.CreateExclusiveLock(name).AcquireAsync());

        // The 100 ms go to the wait, not to opening the second provider's first session.
        await PostgresServer.WarmUpAsync(second);
        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await second.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromMilliseconds(100)));

        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) timed out after ", error.Message);
    }

    [Fact]
    public async Task ReacquiringInTheSameFlow_ThrowsAtOnce_NamingTheLock()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("ledger");
        var gate = provider.CreateExclusiveLock(name);
        await using var scope = await gate.AcquireAsync();

        var error = Assert.Throws<LockRecursionException>(() => { _ = gate.AcquireAsync(); });

        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) ", error.Message);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    /// <summary>
    /// Before, the second object of one name was refused as if two keys of a keyed lock had folded. (Both at one level: a
    /// second object at another level is refused at creation, <see cref="PostgresLockLevelRegistrationTests"/>.)
    /// </summary>
    [Fact]
    public async Task ALockCreatedTwiceWithOneName_IsRefusedInTheHoldingFlow_AsTheSameLockMadeTwice()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("made_twice");
        var first = provider.CreateExclusiveLock(name, level: 7);
        var second = provider.CreateExclusiveLock(name, level: 7);
        await using var scope = await first.AcquireAsync();

        var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await second.AcquireAsync());

        Assert.Contains($"two lock objects created with that name on this provider are one advisory lock", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) tried to acquire ", error.Message);
        Assert.Contains($"'{name}' (level 7)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("folds integer keys", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task Cancellation_EndsABlockedWait_AndTheLockStaysUsable()
    {
        await using var pair = new TwoProcesses("nightly");
        var (_, second, name) = pair;
        await using var watcher = await PostgresServer.OpenAsync();
        var (mine, theirs) = pair.ExclusiveLocks();
        var held = await mine.AcquireAsync();

        using var cancel = new CancellationTokenSource();
        var waiting = PostgresServer.InAFlowOfItsOwn(async () => await theirs.AcquireAsync(Timeout.InfiniteTimeSpan, cancel.Token));
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, mine.Key);
        await cancel.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);

        // Named as the in-process async locks name a cancelled waiter: the flow and its thread begin the sentence.
        Assert.Matches(@"^Flow #\d+ \(on thread \d+( \('[^']*'\))?\) stopped waiting for exclusive access to ", error.Message);
        Assert.EndsWith(": its cancellation token was cancelled; nothing is held.", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.ConnectionsInUse);

        await held.DisposeAsync();
        await using var after = await theirs.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.True(after.IsAcquired);
    }

    [Fact]
    public async Task ReleasingTwice_Throws_NamingTheLock()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("once");
        var scope = await provider.CreateExclusiveLock(name).AcquireAsync();
        scope.Dispose();

        var error = Assert.Throws<SynchronizationLockException>(() => scope.Dispose());

        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    [Fact]
    public async Task OneFlow_HoldsAllItsLocksOnOneConnection()
    {
        await using var provider = PostgresServer.Provider(budget: 1);
        string prefix = PostgresServer.Unique("many");
        var a = provider.CreateExclusiveLock(prefix + "_a");
        var b = provider.CreateExclusiveLock(prefix + "_b");
        var accounts = provider.CreateKeyedLock<int>(prefix + "_accounts");

        await using var heldA = await a.AcquireAsync();
        await using var heldB = await b.AcquireAsync();
        await using var heldKey = await accounts.AcquireAsync(7);

        Assert.Equal(1, provider.ConnectionsInUse);
        Assert.Equal(3, provider.HeldCount);
        Assert.Equal(heldA.SessionProcessId, heldKey.SessionProcessId);
    }

    [Fact]
    public async Task ConnectionBudget_RefusesTheFlowBeyondIt_NamingTheLockAndTheBudget()
    {
        await using var provider = PostgresServer.Provider(budget: 2);
        string prefix = PostgresServer.Unique("budget");
        var a = provider.CreateExclusiveLock(prefix + "_a");
        var b = provider.CreateExclusiveLock(prefix + "_b");
        var c = provider.CreateExclusiveLock(prefix + "_c");
        var holding = new CountdownEvent(2);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task Hold(PostgresExclusiveLock gate)
        {
            await using var scope = await gate.AcquireAsync();
            holding.Signal();
            await release.Task.WaitAsync(PostgresServer.HangGuard);
        }

        // Two other flows hold a connection each (started while this flow holds nothing, so they are flows of their own).
        var holders = new[] { Task.Run(() => Hold(a)), Task.Run(() => Hold(b)) };
        // A hang guard only: a holder that failed would otherwise leave this wait forever.
        Assert.True(await Task.Run(() => holding.Wait(TimeSpan.FromMinutes(2))));

        var error = Assert.Throws<PostgresConnectionBudgetException>(() => { _ = c.AcquireAsync(); });

        release.SetResult();
        await Task.WhenAll(holders);
        Assert.IsAssignableFrom<InvalidOperationException>(error);
        Assert.Equal(2, error.Budget);
        Assert.Equal(c.Name, error.LockName);
        Assert.Contains($"'{c.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 connection(s)", error.Message, StringComparison.Ordinal);

        await using var heldC = await c.AcquireAsync();
        Assert.True(heldC.IsAcquired);
        Assert.Equal(1, provider.ConnectionsInUse);
    }

    /// <summary>
    /// The network to the server is cut while a lock is held: the idle session's connection does not notice, and the
    /// check cannot reach the server. The hold cannot be confirmed, so its LostToken fires (before, it never did, while
    /// the server had ended the session and another process took the lock), and another provider gets the lock.
    /// </summary>
    [Fact]
    public async Task AHoldTheCheckCannotConfirm_IsLost_WhenTheServerCannotBeReached()
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("cut");
        await using var cutOff = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = relay.ConnectionString,
            ConnectionBudget = 2,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
        });
        await using var other = PostgresServer.Provider();
        var scope = await cutOff.CreateExclusiveLock(name).AcquireAsync();
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = scope.LostToken.Register(() => lost.TrySetResult());

        relay.Cut();

        // Bounded only so a broken check cannot hang the run; nothing here measures time.
        await lost.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.True(scope.IsLost);
        await using (var taken = await other.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(60)))
        {
            Assert.True(taken.IsAcquired);
        }

        await scope.DisposeAsync();
        Assert.Equal(0, cutOff.ConnectionsInUse);
    }

    /// <summary>
    /// The link to the server goes silent while a lock is held (a dead route: no reset, no error, every read waits). The
    /// lost-lock check's query on its open connection gets no answer: after <c>LostLockCheckTimeout</c> it counts as a
    /// check that cannot reach the server, so the hold is lost (before, the check waited for that answer for good and the
    /// hold was never reported lost). Disposing the lost scope sends no unlock down the silent link (before, it waited for
    /// good too): it returns, and frees the budget.
    /// </summary>
    [Fact]
    public async Task AHoldWhoseCheckGetsNoAnswer_IsLost_AndItsScopeDisposes_WhenTheLinkGoesSilent()
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("silent");
        string application = PostgresServer.Unique("app");
        await using var silent = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = new Npgsql.NpgsqlConnectionStringBuilder(relay.ConnectionString) { ApplicationName = application }.ConnectionString,
            ConnectionBudget = 2,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMilliseconds(50),
            LostLockCheckTimeout = TimeSpan.FromMilliseconds(500),
        });
        await using var watcher = await PostgresServer.OpenAsync();
        var scope = await silent.CreateExclusiveLock(name).AcquireAsync();
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = scope.LostToken.Register(() => lost.TrySetResult());

        // Both connections, the session's and the check's own, are open and between commands before the link goes silent:
        // what waits then is a query on an open connection, not a connection attempt (that one Npgsql's Timeout bounds).
        await WaitUntilIdleBackendsAsync(watcher, application, 2);
        relay.Freeze();

        // Bounded only so a broken check cannot hang the run; nothing here measures time.
        await lost.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.True(scope.IsLost);

        await scope.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Equal(0, silent.ConnectionsInUse);
        Assert.Equal(0, silent.HeldCount);
    }

    /// <summary>
    /// The link goes silent while a lock is held, before any check noticed (the check runs every 10 minutes here): the
    /// scope's release sends its unlock into the silence. Bounded by <c>LostLockCheckTimeout</c> (1 s here), the unlock
    /// gives up, the session counts as lost (its other holds' LostToken fires) and the dispose returns (before, it waited
    /// for good). The connection is discarded, not pooled with the lock maybe still on it.
    /// </summary>
    [Fact]
    public async Task AReleaseWhoseUnlockGetsNoAnswer_GivesUp_AndMarksTheSessionLost()
    {
        await using var relay = new TcpRelay();
        string application = PostgresServer.Unique("app");
        await using var silent = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            // Timeout bounds Npgsql's own attempt to cancel the unanswered unlock over a connection of its own; 5 s, not 1,
            // since it bounds every opening through the relay too, which a loaded machine can take more than 1 s for.
            ConnectionString = new Npgsql.NpgsqlConnectionStringBuilder(relay.ConnectionString) { ApplicationName = application, Timeout = 5 }.ConnectionString,
            ConnectionBudget = 2,
            DefaultTimeout = TimeSpan.FromSeconds(60),
            LostLockCheckInterval = TimeSpan.FromMinutes(10),
            LostLockCheckTimeout = TimeSpan.FromSeconds(1),
        });
        await using var watcher = await PostgresServer.OpenAsync();
        var first = await silent.CreateExclusiveLock(PostgresServer.Unique("first")).AcquireAsync();
        var second = await silent.CreateExclusiveLock(PostgresServer.Unique("second")).AcquireAsync();
        Assert.Equal(first.SessionProcessId, second.SessionProcessId);
        await WaitUntilIdleBackendsAsync(watcher, application, 1);
        relay.Freeze();

        // Bounded only so a hanging unlock fails the test instead of the run; nothing here measures time.
        await second.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.True(first.IsLost);
        Assert.True(first.LostToken.IsCancellationRequested);
        await first.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Equal(0, silent.ConnectionsInUse);
    }

    /// <summary>
    /// The link goes silent while a flow waits on the server with a timeout: the server's answer (a lock timeout, or a
    /// grant) never comes. The statement's command timeout (the wait plus <c>LostLockCheckTimeout</c>, in whole seconds)
    /// ends it: the acquisition fails naming the lock and the flow instead of waiting for good, and the budget is free.
    /// </summary>
    [Fact]
    public async Task AWaitWhoseAnswerNeverComes_FailsAfterItsTimeoutAndTheAnswerMargin_NamingTheLock()
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("unanswered");
        await using var holder = PostgresServer.Provider();
        await using var silent = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            // Timeout bounds Npgsql's own attempt to cancel the unanswered statement over a connection of its own; 5 s, not
            // 1, since it bounds every opening through the relay too, which a loaded machine can take more than 1 s for.
            ConnectionString = new Npgsql.NpgsqlConnectionStringBuilder(relay.ConnectionString) { Timeout = 5 }.ConnectionString,
            ConnectionBudget = 2,
            LostLockCheckInterval = TimeSpan.FromMinutes(10),
            LostLockCheckTimeout = TimeSpan.FromSeconds(1),
        });
        await using var watcher = await PostgresServer.OpenAsync();
        var held = holder.CreateExclusiveLock(name);

        // Held by a flow of its own: the relay is the same server under another address, so a waiter of this flow would be
        // refused as a recursion instead of waiting.
        await using var scope = await KeyHeldElsewhere.HoldAsync(() => held.AcquireAsync());

        // The relay must go silent while the server still waits: the wait's session is open before its timeout starts, and the
        // timeout leaves the watcher time to see the wait on a loaded machine (with 2 s and a session opened within them, the
        // server's own lock timeout could answer first, a LockTimeoutException).
        await PostgresServer.WarmUpAsync(silent);
        var waiter = Task.Run(async () =>
        {
            await using var never = await silent.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(5));
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, held.Key);
        relay.Freeze();

        // Bounded only so a statement that waits for good fails the test instead of hanging the run.
        var failure = await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => waiter.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken));
        Assert.Contains(name, failure.Message, StringComparison.Ordinal);
        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) ", failure.Message);
        Assert.IsType<TimeoutException>(failure.InnerException?.InnerException);
        Assert.Equal(0, silent.ConnectionsInUse);
    }

    /// <summary>
    /// A flow holding one lock waits for another with a token, and cancels it: the server answers the cancel, then the
    /// check whether the grant raced it (which would leave the lock held) goes into a link gone silent. Bounded by
    /// <c>LostLockCheckTimeout</c> (1 s here), the check gives up, the session counts as lost (the held lock's LostToken
    /// fires) and the acquisition ends in its cancellation (before, it waited for good).
    /// </summary>
    [Fact]
    public async Task ACancelledWaitWhoseHeldCheckGetsNoAnswer_GivesUp_AndMarksTheSessionLost()
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("cancelled");
        await using var holder = PostgresServer.Provider();
        await using var silent = SilentProvider(relay);
        await using var watcher = await PostgresServer.OpenAsync();
        var held = holder.CreateExclusiveLock(name);

        // Held by a flow of its own: the relay is the same server under another address (see the test above).
        await using var elsewhere = await KeyHeldElsewhere.HoldAsync(() => held.AcquireAsync());
        var first = await silent.CreateExclusiveLock(PostgresServer.Unique("first")).AcquireAsync();
        using var cancel = new CancellationTokenSource();
        var waiter = silent.CreateExclusiveLock(name).AcquireAsync(cancel.Token).AsTask();
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, held.Key);

        // Silent from the held check on: the wait's cancel request and the server's answer to it still get through.
        relay.FreezeWhenClientSends(HeldCheckText);
        cancel.Cancel();

        // Bounded only so a check that waits for good fails the test instead of hanging the run; nothing here measures time.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken));
        Assert.True(first.IsLost);
        Assert.True(first.LostToken.IsCancellationRequested);
        await first.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Equal(0, silent.ConnectionsInUse);
    }

    /// <summary>
    /// A flow holding one lock tries another within a timeout; the server's lock timeout ends the wait, and the check
    /// whether a grant raced it goes into a link gone silent. Bounded by <c>LostLockCheckTimeout</c>, the check gives up:
    /// the try fails naming the lock (a grant may have been the answer that never came), the session counts as lost, and
    /// the budget is free (before, the try waited for good).
    /// </summary>
    [Fact]
    public async Task ATimedOutWaitWhoseHeldCheckGetsNoAnswer_FailsNamingTheLock_AndMarksTheSessionLost()
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("timedout");
        await using var holder = PostgresServer.Provider();
        await using var silent = SilentProvider(relay);
        var held = holder.CreateExclusiveLock(name);
        await using var elsewhere = await KeyHeldElsewhere.HoldAsync(() => held.AcquireAsync());
        var first = await silent.CreateExclusiveLock(PostgresServer.Unique("first")).AcquireAsync();
        relay.FreezeWhenClientSends(HeldCheckText);

        // 2 s, not 100 ms: a budget spent before the lock's statement (a loaded machine) makes it a try-once, which the server
        // answers at once and no held check follows, so nothing would fall silent.
        // Bounded only so a check that waits for good fails the test instead of hanging the run; nothing here measures time.
        var failure = await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(
            () => silent.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.FromSeconds(2)).AsTask()
                .WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken));
        Assert.Contains(name, failure.Message, StringComparison.Ordinal);
        Assert.True(first.IsLost);
        await first.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.Equal(0, silent.ConnectionsInUse);
    }

    /// <summary>
    /// A task of a flow waits for a lock on the flow's session while the flow releases another: the release interrupts the
    /// wait (a cancel the server answers), and the wait's check whether a grant raced that goes into a link gone silent.
    /// Bounded by <c>LostLockCheckTimeout</c>, the check gives up: the wait fails naming the lock, the session counts as
    /// lost, and the release queued behind it returns (before, both waited for good).
    /// </summary>
    [Fact]
    public async Task AnInterruptedWaitWhoseHeldCheckGetsNoAnswer_FailsNamingTheLock_AndTheReleaseReturns()
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("interrupted");
        await using var holder = PostgresServer.Provider();
        await using var silent = SilentProvider(relay);
        await using var watcher = await PostgresServer.OpenAsync();
        var held = holder.CreateExclusiveLock(name);
        await using var elsewhere = await KeyHeldElsewhere.HoldAsync(() => held.AcquireAsync());
        var first = await silent.CreateExclusiveLock(PostgresServer.Unique("first")).AcquireAsync();

        // A task of this flow: it waits on the flow's session, which the release of the first lock then interrupts.
        var waiter = Task.Run(async () =>
        {
            await using var never = await silent.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(60));
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, held.Key);
        relay.FreezeWhenClientSends(HeldCheckText);

        // Bounded only so a check that waits for good fails the test instead of hanging the run; nothing here measures time.
        var release = first.DisposeAsync().AsTask();
        var failure = await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => waiter.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken));
        Assert.Contains(name, failure.Message, StringComparison.Ordinal);
        await release.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        Assert.True(first.IsLost);
        Assert.Equal(0, silent.ConnectionsInUse);
    }

    // The statement that asks whether the session holds a key (AdvisoryCommands.IsHeldAsync); no other says "pid =" so.
    private const string HeldCheckText = "pid = pg_catalog.pg_backend_pid()";

    private static PostgresLockProvider SilentProvider(TcpRelay relay) => new(new PostgresLockProviderOptions
    {
        // Timeout bounds Npgsql's own attempt to cancel the unanswered statement over a connection of its own (5 s, not 1:
        // it bounds every opening through the relay too, which a loaded machine can take more than 1 s for); without TLS,
        // the relay reads the statements to fall silent at the right one.
        ConnectionString = new Npgsql.NpgsqlConnectionStringBuilder(relay.ConnectionString) { Timeout = 5, SslMode = Npgsql.SslMode.Disable }.ConnectionString,
        ConnectionBudget = 2,
        DefaultTimeout = TimeSpan.FromSeconds(60),
        LostLockCheckInterval = TimeSpan.FromMinutes(10),
        LostLockCheckTimeout = TimeSpan.FromSeconds(1),
    });

    private static async Task WaitUntilIdleBackendsAsync(Npgsql.NpgsqlConnection watcher, string application, int count)
    {
        for (int i = 0; i < 3000; i++)
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND state = 'idle'", watcher);
            command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = application });
            if ((long)(await command.ExecuteScalarAsync())! >= count)
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException($"Fewer than {count} idle sessions of {application} appeared.");
    }

    /// <summary>
    /// The network is cut while a flow waits for a lock: the wait fails with an NpgsqlException (so retry policies still
    /// see it) whose message names the lock, the flow and the server, not Npgsql's bare socket error.
    /// </summary>
    [Fact]
    public async Task ASessionThatFailsDuringAWait_IsReportedNamingTheLockTheFlowAndTheServer()
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("severed");
        await using var holder = PostgresServer.Provider();
        await using var cutOff = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = relay.ConnectionString,
            ConnectionBudget = 2,
            DefaultTimeout = TimeSpan.FromSeconds(60),
        });
        await using var watcher = await PostgresServer.OpenAsync();
        var held = holder.CreateExclusiveLock(name);

        // Held by a flow of its own: the relay is the same server under another address, so a waiter of this flow would be
        // refused as a recursion instead of waiting.
        await using var scope = await KeyHeldElsewhere.HoldAsync(() => held.AcquireAsync());
        var waiter = Task.Run(async () =>
        {
            await using var never = await cutOff.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(60));
        });
        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, held.Key);

        relay.Cut();

        var failure = await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => waiter.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains(name, failure.Message, StringComparison.Ordinal);
        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) ", failure.Message);
        Assert.Contains(cutOff.ServerIdentity, failure.Message, StringComparison.Ordinal);
        Assert.NotNull(failure.InnerException);
        Assert.Equal(0, cutOff.ConnectionsInUse);
    }

    [Fact]
    public async Task LostSession_CancelsTheLostToken_AndFreesTheLockForOthers()
    {
        await using var pair = new TwoProcesses("lease");
        var (first, second, name) = pair;
        await using var admin = await PostgresServer.OpenAsync();
        var mine = first.CreateExclusiveLock(name);
        var scope = await mine.AcquireAsync();
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = scope.LostToken.Register(() => lost.TrySetResult());
        Assert.Equal(scope.LostToken, mine.CurrentFlowLostToken);

        await using (var terminate = new Npgsql.NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", admin))
        {
            terminate.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = scope.SessionProcessId });
            Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
        }

        // Bounded only so a broken check cannot hang the run; nothing here measures time.
        await lost.Task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(scope.IsLost);

        // Through the second provider in this flow too: a lost hold is no hold, so the flow does not wait for itself.
        await using (var taken = await second.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.True(taken.IsAcquired);
        }

        // The same lock again: the lost hold is still this flow's until its scope is disposed, and the message says so.
        var again = await Assert.ThrowsAsync<InvalidOperationException>(async () => await mine.AcquireAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("lost with its PostgreSQL session", again.Message, StringComparison.Ordinal);
        Assert.Contains("Dispose the lost scope", again.Message, StringComparison.Ordinal);
        Assert.Contains(name, again.Message, StringComparison.Ordinal);

        // The flow's session is gone: a new lock on it is refused until the lost one is released.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await first.CreateExclusiveLock(name + "_next").AcquireAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("was lost", refused.Message, StringComparison.Ordinal);

        // Releasing a lost lock finds the session gone: nothing to undo, the connection goes back.
        await scope.DisposeAsync();
        Assert.Equal(0, first.ConnectionsInUse);
        await using var fresh = await first.CreateExclusiveLock(name + "_after").AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.False(fresh.IsLost);
    }
}
