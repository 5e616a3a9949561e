using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A flow that holds a lock through one provider and asks for it through a second provider of the same process (a test
/// standing in for two instances): on one server both are one advisory lock, and the flow's two sessions would wait for
/// each other. Before, it waited on the server for itself, forever without a timeout, and until its timeout with one.
/// </summary>
public sealed class PostgresCrossProviderTests
{
    private const string StandIn =
        "Use one provider per server; to stand in for a second process (in a test), acquire from a flow of its own, started under ExecutionContext.SuppressFlow().";

    [Fact]
    public async Task AnExclusiveLockHeldThroughOneProvider_AskedThroughAnother_WithNoTimeout_ThrowsLockRecursionAtOnce()
    {
        await using var pair = new TwoProcesses("cross_exclusive");
        var (mine, theirs) = pair.ExclusiveLocks();
        await using var held = await mine.AcquireAsync();

        // Without the check the wait never ends: the guard turns a hang into a failure (an OperationCanceledException).
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await theirs.AcquireAsync(Timeout.InfiniteTimeSpan, guard.Token));

        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) ", error.Message);
        Assert.Contains(
            $"tried to acquire exclusive access to '{pair.Name}', which it already holds through another PostgresLockProvider of this process " +
            $"(its session there, backend pid {held.SessionProcessId})",
            error.Message,
            StringComparison.Ordinal);
        Assert.EndsWith(StandIn, error.Message, StringComparison.Ordinal);

        // At once: no session was opened through the second provider, and nothing waited.
        Assert.Equal(0, pair.Second.ConnectionsInUse);
        Assert.Equal(0, theirs.WaitingCount);
    }

    [Fact]
    public async Task AKeyHeldThroughOneProvider_AskedThroughAnother_WithATimeout_ThrowsLockRecursion_NamingTheKey()
    {
        await using var pair = new TwoProcesses("cross_keyed");
        var mine = pair.First.CreateKeyedLock<int>(pair.Name);
        var theirs = pair.Second.CreateKeyedLock<int>(pair.Name);
        await using var held = await mine.AcquireAsync(7);

        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await theirs.AcquireAsync(7, TimeSpan.FromSeconds(20), guard.Token));
        var set = await Assert.ThrowsAsync<LockRecursionException>(async () => await theirs.AcquireManyAsync([6, 7], TimeSpan.FromSeconds(20), guard.Token));

        Assert.Contains($"tried to acquire exclusive access to '{pair.Name}'[7], which it already holds through another PostgresLockProvider", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{pair.Name}'[7], which it already holds through another PostgresLockProvider", set.Message, StringComparison.Ordinal);
        Assert.Equal(0, pair.Second.ConnectionsInUse);

        // Another key is another advisory lock: taken through the second provider.
        await using var other = await theirs.AcquireAsync(8, TimeSpan.FromSeconds(20), guard.Token);
        Assert.True(other.IsAcquired);
    }

    /// <summary>
    /// Every pair of modes, as one provider answers them: a flow holding the lock in any mode that asks again in any mode
    /// gets <see cref="LockRecursionException"/>, saying which mode it holds. Read under read through two sessions would
    /// queue behind a writer waiting for the first session, which waits for this flow.
    /// </summary>
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public async Task AReadWriteLockHeldThroughOneProvider_AskedThroughAnother_InAnyMode_ThrowsLockRecursion(bool heldRead, bool askRead)
    {
        await using var pair = new TwoProcesses("cross_rw");
        var mine = pair.First.CreateReadWriteLock(pair.Name);
        var theirs = pair.Second.CreateReadWriteLock(pair.Name);
        await using var held = heldRead ? await mine.AcquireReadAsync() : await mine.AcquireWriteAsync();

        // One provider's answer to the same question, for comparison.
        var sameProvider = await Assert.ThrowsAsync<LockRecursionException>(async () =>
            await (askRead ? mine.AcquireReadAsync(TimeSpan.FromSeconds(20)) : mine.AcquireWriteAsync(TimeSpan.FromSeconds(20))));

        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<LockRecursionException>(async () =>
            await (askRead ? theirs.AcquireReadAsync(Timeout.InfiniteTimeSpan, guard.Token) : theirs.AcquireWriteAsync(Timeout.InfiniteTimeSpan, guard.Token)));

        string asked = askRead ? "read" : "write", holds = heldRead ? "read" : "write";
        Assert.NotNull(sameProvider);
        Assert.Contains($"tried to acquire {asked} access to '{pair.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(
            asked == holds
                ? $"which it already holds through another PostgresLockProvider of this process"
                : $"which it holds ({holds} access) through another PostgresLockProvider of this process",
            error.Message,
            StringComparison.Ordinal);
        Assert.EndsWith(StandIn, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, pair.Second.ConnectionsInUse);
    }

    /// <summary>A flow of its own (as the message advises) is another process's stand-in: it waits, and gets the lock once released.</summary>
    [Fact]
    public async Task AFlowOfItsOwn_ThroughTheSecondProvider_WaitsAndGetsTheLock()
    {
        await using var pair = new TwoProcesses("cross_own_flow");
        var (mine, theirs) = pair.ExclusiveLocks();
        var held = await mine.AcquireAsync();
        Task<PostgresLockScope> waiting;
        using (ExecutionContext.SuppressFlow())
        {
            waiting = Task.Run(async () => await theirs.AcquireAsync(TimeSpan.FromSeconds(60)));
        }

        await using (var watcher = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, AdvisoryKey.ForName(pair.Name));
        }

        await held.DisposeAsync();
        await using var granted = await waiting;
        Assert.True(granted.IsAcquired);
    }
}
