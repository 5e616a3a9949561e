using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Tasks a flow starts while it holds a lock share the flow's one session. A sibling's blocking wait on it must not keep
/// another sibling's release from reaching the server (before, the release queued behind the wait, and the lock stayed
/// held in the database for as long as the sibling waited).
/// </summary>
public sealed class PostgresSharedSessionTests
{
    /// <summary>A hang guard only: nothing here measures time.</summary>
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASiblingsRelease_ReachesTheServer_WhileAnotherSiblingWaits(bool synchronousRelease)
    {
        await using var provider = PostgresServer.Provider();
        await using var other = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        string prefix = PostgresServer.Unique("fanout");
        var outer = provider.CreateExclusiveLock(prefix + "_outer");
        var customers = provider.CreateKeyedLock<int>(prefix + "_customers");
        var elsewhere = other.CreateKeyedLock<int>(prefix + "_customers");

        Task<PostgresLockScope> takingTwo;
        using (ExecutionContext.SuppressFlow())
        {
            takingTwo = Task.Run(async () => await elsewhere.AcquireAsync(2));
        }

        var theirTwo = await takingTwo;
        await using var held = await outer.AcquireAsync();
        bool theirsReleased = false;
        try
        {
            // Both children share the flow's hold of the outer lock, and so its session.
            var one = await Task.Run(async () => await customers.AcquireAsync(1));
            Assert.Equal(held.SessionProcessId, one.SessionProcessId);
            var waiter = Task.Run(async () => await customers.AcquireAsync(2, Timeout.InfiniteTimeSpan));
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, customers.KeyOf(2));

            var release = synchronousRelease ? Task.Run(one.Dispose) : Task.Run(async () => await one.DisposeAsync());
            await release.WaitAsync(s_guard);

            // The release reached the server while the sibling still waits; the sibling then gets its key as usual.
            Assert.Equal(0, await PostgresProviderDisposalTests.CountRowsAsync(watcher, customers.KeyOf(1)));
            Assert.False(waiter.IsCompleted);
            await using (var again = await elsewhere.AcquireAsync(1, TimeSpan.FromSeconds(30)))
            {
                Assert.True(again.IsAcquired);
            }

            theirsReleased = true;
            await theirTwo.DisposeAsync();
            await using var two = await waiter.WaitAsync(s_guard);
            Assert.Equal(held.SessionProcessId, two.SessionProcessId);
            Assert.True(customers.IsHeldByCurrentFlow(2));
        }
        finally
        {
            // Before the outer lock's release: a failure must end the sibling's wait, so the flow's releases can run.
            if (!theirsReleased)
            {
                await theirTwo.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Siblings of one flow and flows of another provider take the same keys, one key at a time each, over and over: the
    /// siblings' waits are interrupted by their releases many times, and every acquisition succeeds (no cycle exists, so
    /// no deadlock may be reported, and an interrupted wait never loses or leaks a lock).
    /// </summary>
    [Fact]
    public async Task SiblingsAndOtherFlows_TakingTheSameKeys_AllSucceed_AndLeaveNothingHeld()
    {
        await using var provider = PostgresServer.Provider(budget: 8);
        await using var other = PostgresServer.Provider(budget: 8);
        await using var watcher = await PostgresServer.OpenAsync();
        string prefix = PostgresServer.Unique("churn");
        var outer = provider.CreateExclusiveLock(prefix + "_outer");
        var customers = provider.CreateKeyedLock<int>(prefix + "_customers");
        var elsewhere = other.CreateKeyedLock<int>(prefix + "_customers");
        const int Keys = 3;
        const int Rounds = 15;
        int taken = 0;

        async Task Churn(PostgresKeyedLock<int> keyed, int key)
        {
            for (int round = 0; round < Rounds; round++)
            {
                await using var scope = await keyed.AcquireAsync(key, TimeSpan.FromSeconds(60));
                Interlocked.Increment(ref taken);
                await Task.Yield();
            }
        }

        Task others;
        using (ExecutionContext.SuppressFlow())
        {
            others = Task.WhenAll(Enumerable.Range(0, Keys).Select(key => Task.Run(() => Churn(elsewhere, key))));
        }

        await using (var held = await outer.AcquireAsync())
        {
            await Task.WhenAll(Enumerable.Range(0, Keys).Select(key => Task.Run(() => Churn(customers, key)))).WaitAsync(s_guard);
        }

        await others.WaitAsync(s_guard);
        Assert.Equal(2 * Keys * Rounds, taken);
        Assert.Equal(0, provider.HeldCount);
        for (int key = 0; key < Keys; key++)
        {
            Assert.Equal(0, await PostgresProviderDisposalTests.CountRowsAsync(watcher, customers.KeyOf(key)));
        }
    }

    /// <summary>
    /// A sibling that must wait while another's wait occupies the session waits for its turn no longer than its
    /// timeout, and the timeout says why (before, it waited for the session without bound, whatever its timeout).
    /// </summary>
    [Fact]
    public async Task ASiblingQueuedBehindAnotherWait_TimesOut_SayingTheSessionWasBusy()
    {
        await using var provider = PostgresServer.Provider();
        await using var other = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        string prefix = PostgresServer.Unique("busy");
        var outer = provider.CreateExclusiveLock(prefix + "_outer");
        var reports = provider.CreateExclusiveLock(prefix + "_reports");
        var audit = provider.CreateExclusiveLock(prefix + "_audit");

        Task<PostgresLockScope> takingReports;
        using (ExecutionContext.SuppressFlow())
        {
            takingReports = Task.Run(async () => await other.CreateExclusiveLock(prefix + "_reports").AcquireAsync());
        }

        var theirs = await takingReports;
        await using var held = await outer.AcquireAsync();
        bool theirsReleased = false;
        try
        {
            var waiter = Task.Run(async () => await reports.AcquireAsync(Timeout.InfiniteTimeSpan));
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, reports.Key);

            var error = await Assert.ThrowsAsync<LockTimeoutException>(() => Task.Run(async () => await audit.AcquireAsync(TimeSpan.FromMilliseconds(200))).WaitAsync(s_guard));

            Assert.Contains($"'{audit.Name}'", error.Message, StringComparison.Ordinal);
            Assert.Contains($"was waiting the whole time for '{reports.Name}'", error.Message, StringComparison.Ordinal);
            Assert.False(waiter.IsCompleted);
            theirsReleased = true;
            await theirs.DisposeAsync();
            await using var got = await waiter.WaitAsync(s_guard);
            Assert.True(got.IsAcquired);
        }
        finally
        {
            if (!theirsReleased)
            {
                await theirs.DisposeAsync();
            }
        }
    }
}
