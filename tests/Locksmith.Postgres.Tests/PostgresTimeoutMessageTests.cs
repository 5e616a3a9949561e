using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>What a timeout says about the holder, and how much of a key messages show.</summary>
[Collection(nameof(ProcessPolicyCollection))]
public sealed class PostgresTimeoutMessageTests
{
    /// <summary>Before, every timeout said "held by another PostgreSQL session", even for a flow of the same provider.</summary>
    [Fact]
    public async Task ATimeout_NamesTheHoldingFlow_WhenItIsOfTheSameProvider()
    {
        await using var provider = PostgresServer.Provider();
        var gate = provider.CreateExclusiveLock(PostgresServer.Unique("same_provider"));

        // Two sessions open, the holder's and the waiter's: the 100 ms go to the wait, not to opening the waiter's session.
        await PostgresServer.WarmUpAsync(provider, sessions: 2);
        Task<PostgresLockScope> holding;
        using (ExecutionContext.SuppressFlow())
        {
            holding = Task.Run(async () => await gate.AcquireAsync());
        }

        await using var held = await holding;

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(TimeSpan.FromMilliseconds(100)));

        Assert.Contains("held by flow #", error.Message, StringComparison.Ordinal);
        Assert.Contains($"of this process (PostgreSQL session, backend pid {held.SessionProcessId})", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The timeout event (what the host logs as 14001 and counts for health) names the holding flow of the same provider,
    /// as the exception does; before, its owner was always 0, which the log reads as "no single owner in this process".
    /// </summary>
    [Fact]
    public async Task ATimeoutEvent_NamesTheHoldingFlow_WhenItIsOfTheSameProvider()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("event_holder");
        var gate = provider.CreateKeyedLock<int>(name);

        // Two sessions open, the holder's and the waiter's: the 100 ms go to the wait, not to opening the waiter's session.
        await PostgresServer.WarmUpAsync(provider, sessions: 2);
        Task<PostgresLockScope> holding;
        using (ExecutionContext.SuppressFlow())
        {
            holding = Task.Run(async () => await gate.AcquireAsync(3));
        }

        await using var held = await holding;
        var events = new System.Collections.Concurrent.ConcurrentQueue<LockTimeoutEvent>();
        var previous = LocksmithPolicy.TimeoutOccurred;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            previous?.Invoke(e);
            if (e.LockName == $"{name}[3]")
            {
                events.Enqueue(e);
            }
        };
        LockTimeoutException error;
        try
        {
            error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(3, TimeSpan.FromMilliseconds(100)));
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = previous;
        }

        var timeout = Assert.Single(events);
        Assert.True(timeout.OwnerThreadId >= 1 << 30 /* a flow id */, $"owner id {timeout.OwnerThreadId}");
        Assert.NotEqual(timeout.ThreadId, timeout.OwnerThreadId);
        Assert.StartsWith("flow #", timeout.OwnerThreadName, StringComparison.Ordinal);
        Assert.Contains($"held by {timeout.OwnerThreadName} of this process", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The holder is read once for the timeout event and the exception. Its release forced between them (from the event's
    /// handler, where a holder timing out and releasing at that moment lands) left them disagreeing before: the event named
    /// flow #N, the exception, reading again, "another PostgreSQL session" (seen once in a trial with flow #N's own pid).
    /// </summary>
    [Fact]
    public async Task ATimeoutEvent_AndItsException_NameOneHolder_WhenTheHolderReleasesBetweenThem()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("holder_once");
        var gate = provider.CreateExclusiveLock(name);

        // Two sessions open, the holder's and the waiter's: the 100 ms go to the wait, not to opening the waiter's session.
        await PostgresServer.WarmUpAsync(provider, sessions: 2);
        Task<PostgresLockScope> holding;
        using (ExecutionContext.SuppressFlow())
        {
            holding = Task.Run(async () => await gate.AcquireAsync());
        }

        var held = await holding;
        int holderPid = held.SessionProcessId;
        var events = new System.Collections.Concurrent.ConcurrentQueue<LockTimeoutEvent>();
        bool released = false;
        var previous = LocksmithPolicy.TimeoutOccurred;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            previous?.Invoke(e);
            if (e.LockName == name)
            {
                events.Enqueue(e);

                // The handler is synchronous: block on the release, bounded (a hang guard), so it has happened before the
                // exception is built.
                released = held.DisposeAsync().AsTask().Wait(PostgresServer.HangGuard);
            }
        };
        LockTimeoutException error;
        try
        {
            error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(TimeSpan.FromMilliseconds(100)));
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = previous;
            if (!released)
            {
                await held.DisposeAsync();
            }
        }

        Assert.True(released, "The holder's release from the timeout handler did not end (a hang guard).");
        var timeout = Assert.Single(events);
        Assert.StartsWith("flow #", timeout.OwnerThreadName, StringComparison.Ordinal);
        Assert.Contains($"held by {timeout.OwnerThreadName} of this process (PostgreSQL session, backend pid {holderPid})", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.HeldCount);
    }

    /// <summary>
    /// Before, a distributed wait was not stamped with its start: a flow that never waited in process was left out of
    /// CurrentWaits (and so of health's live long waits), and one that had was reported as waiting since its old wait.
    /// </summary>
    [Fact]
    public async Task AWaitInProgress_IsListedByCurrentWaits()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("current_wait");
        var gate = provider.CreateExclusiveLock(name);
        var held = await gate.AcquireAsync();
        Task<PostgresLockScope> waiting;
        using (ExecutionContext.SuppressFlow())
        {
            waiting = Task.Run(async () => await gate.AcquireAsync(TimeSpan.FromMinutes(1)));
        }

        // Bounded only as a hang guard: the wait is listed as soon as it is under way. Polled without blocking a thread: on a
        // loaded machine, a pool thread blocked here can hold back the very wait looked for.
        bool listed = false;
        for (int i = 0; i < 6000 && !(listed = DeadlockDetector.CurrentWaits().Any(w => w.LockName == name && w.IsFlow)); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(listed);
        var wait = DeadlockDetector.CurrentWaits().Single(w => w.LockName == name);
        Assert.Equal(LockMode.Exclusive, wait.Mode);

        await held.DisposeAsync();
        await using var granted = await waiting;
    }

    [Fact]
    public async Task ATimeout_NamesTheHoldingBackend_WhenAnotherProcessHolds()
    {
        await using var pair = new TwoProcesses("other_process");
        await using var held = await PostgresServer.HoldOnPlainSessionAsync(pair.Name);
        var theirs = pair.Second.CreateExclusiveLock(pair.Name);
        // The 100 ms go to the wait, not to opening the second provider's first session.
        await PostgresServer.WarmUpAsync(pair.Second);

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await theirs.AcquireAsync(TimeSpan.FromMilliseconds(100)));

        Assert.Contains($"held by another PostgreSQL session (backend pid {held.ProcessID}) (in {pair.Second.ServerIdentity})", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Another flow holds the lock through a second provider of this process (a test standing in for two instances). The
    /// timeout said "held by another PostgreSQL session (backend pid N)", as for another process; it now names the holding
    /// flow and that it holds through another provider, in the exception and in the timeout event (the host's 14001 log),
    /// a writer's holder and a reader alike.
    /// </summary>
    [Fact]
    public async Task ATimeout_NamesTheHoldingFlow_WhenItHoldsThroughAnotherProviderOfThisProcess()
    {
        await using var pair = new TwoProcesses("other_provider");
        var (mine, theirs) = pair.ExclusiveLocks();
        await using var held = await KeyHeldElsewhere.HoldAsync(() => mine.AcquireAsync());
        // The 100 ms go to the wait, not to opening the second provider's first session.
        await PostgresServer.WarmUpAsync(pair.Second);
        var events = new System.Collections.Concurrent.ConcurrentQueue<LockTimeoutEvent>();
        var previous = LocksmithPolicy.TimeoutOccurred;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            previous?.Invoke(e);
            if (e.LockName == pair.Name)
            {
                events.Enqueue(e);
            }
        };
        LockTimeoutException error;
        try
        {
            error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await theirs.AcquireAsync(TimeSpan.FromMilliseconds(100)));
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = previous;
        }

        Assert.Matches(
            $@"held by flow #\d+[^,]* of this process, through another PostgresLockProvider \(its PostgreSQL session there, backend pid {held.SessionProcessId}\) \(in ",
            error.Message);
        Assert.DoesNotContain("another PostgreSQL session", error.Message, StringComparison.Ordinal);
        var timeout = Assert.Single(events);
        Assert.StartsWith("flow #", timeout.OwnerThreadName, StringComparison.Ordinal);
        Assert.NotEqual(timeout.ThreadId, timeout.OwnerThreadId);
        Assert.Contains($"held by {timeout.OwnerThreadName} of this process, through another PostgresLockProvider", error.Message, StringComparison.Ordinal);

        string prices = PostgresServer.Unique("other_provider_reader");
        await using var reading = await KeyHeldElsewhere.HoldAsync(() => pair.First.CreateReadWriteLock(prices).AcquireReadAsync());
        var writeError = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await pair.Second.CreateReadWriteLock(prices).AcquireWriteAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Matches($@"held by flow #\d+[^,]* of this process, through another PostgresLockProvider \(its PostgreSQL session there, backend pid {reading.SessionProcessId}\)", writeError.Message);
    }

    /// <summary>Before, two readers in other processes were described as "another PostgreSQL session (backend pid a, b)".</summary>
    [Fact]
    public async Task ATimeout_NamesEveryHoldingBackend_WhenReadersInTwoOtherProcessesHold()
    {
        await using var pair = new TwoProcesses("two_readers");
        await using var firstRead = await PostgresServer.HoldOnPlainSessionAsync(pair.Name, shared: true);
        await using var secondRead = await PostgresServer.HoldOnPlainSessionAsync(pair.Name, shared: true);
        var writer = pair.Second.CreateReadWriteLock(pair.Name);
        // The 100 ms go to the wait, not to opening the second provider's first session.
        await PostgresServer.WarmUpAsync(pair.Second);

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await writer.AcquireWriteAsync(TimeSpan.FromMilliseconds(100)));

        var pids = new[] { firstRead.ProcessID, secondRead.ProcessID }.Order();
        Assert.Contains($"held by other PostgreSQL sessions (backend pids {string.Join(", ", pids)}) (in {pair.Second.ServerIdentity})", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A set's timeout says how long the set waited (its timeout covers every member) and for which member, held by
    /// whom. Before, it gave only the last member's share of the wait ("timed out after 81.6 ms" for a set given 300 ms),
    /// as the exception's Waited did, and did not say a set was waiting. The member's own timeout event keeps the
    /// member's wait (as the in-process sets' members report theirs), which began after the set's.
    /// </summary>
    [Fact]
    public async Task ASetsTimeout_SaysTheSetsWait_AndWhichMemberItWasWaitingFor()
    {
        await using var provider = PostgresServer.Provider();
        string first = PostgresServer.Unique("set_first");
        string second = PostgresServer.Unique("set_second");
        await using var held = await PostgresServer.HoldOnPlainSessionAsync(second);

        // The set's 300 ms go to taking the first member and waiting for the second, not to opening the session.
        await PostgresServer.WarmUpAsync(provider);
        var events = new System.Collections.Concurrent.ConcurrentQueue<LockTimeoutEvent>();
        var previous = LocksmithPolicy.TimeoutOccurred;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            previous?.Invoke(e);
            if (e.LockName == second)
            {
                events.Enqueue(e);
            }
        };
        LockTimeoutException error;
        try
        {
            error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await PostgresLockSet.AcquireAsync(
                TimeSpan.FromMilliseconds(300), [provider.CreateExclusiveLock(second, level: 2).Request(), provider.CreateExclusiveLock(first, level: 1).Request()]));
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = previous;
        }

        // The set began before its second member (it opened the session and took the first, lower one); the event gives the
        // set's wait too, the one figure the exception gives, as an in-process LockSet's does (before, the member's share).
        var memberTimeout = Assert.Single(events);
        Assert.Equal(error.Waited, memberTimeout.Waited);
        Assert.Contains($"timed out after {error.Waited.TotalMilliseconds:0.#} ms waiting for exclusive access to '{second}' (level 2), " +
            $"held by another PostgreSQL session (backend pid {held.ProcessID}) (in {provider.ServerIdentity})", error.Message, StringComparison.Ordinal);
        Assert.Contains($"PostgresLockSet for '{first}' (level 1), '{second}' (level 2), given 300 ms for all of them", error.Message, StringComparison.Ordinal);
        Assert.Equal(second, error.LockName);
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>Before, a 1,000,000-character key went in full into the scope's description and into every message.</summary>
    [Fact]
    public async Task AHugeKey_IsCutWithAnEllipsis_InDescriptionsAndMessages()
    {
        await using var pair = new TwoProcesses("huge_key");
        var mine = pair.First.CreateKeyedLock<string>(pair.Name);
        var theirs = pair.Second.CreateKeyedLock<string>(pair.Name);
        string key = new('k', 1_000_000);
        Task<PostgresLockScope> holding;
        using (ExecutionContext.SuppressFlow())
        {
            // A flow of its own, as another process: the waiting flow holding it itself would be a recursion.
            holding = Task.Run(async () => await mine.AcquireAsync(key));
        }

        await using var held = await holding;
        // The 100 ms go to the wait, not to opening the second provider's first session.
        await PostgresServer.WarmUpAsync(pair.Second);

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await theirs.AcquireAsync(key, TimeSpan.FromMilliseconds(100)));

        string shown = new string('k', 100) + "…";
        Assert.Equal($"'{pair.Name}'[{shown}]", held.LockDescription);
        Assert.Contains($"'{pair.Name}'[{shown}]", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 1000, $"The message is {error.Message.Length} characters long.");
        // A cut never splits a surrogate pair.
        await using var emoji = await mine.AcquireAsync(new string('a', 99) + "🙂" + new string('b', 200));
        Assert.Equal($"'{pair.Name}'[{new string('a', 99)}…]", emoji.LockDescription);
    }
}
