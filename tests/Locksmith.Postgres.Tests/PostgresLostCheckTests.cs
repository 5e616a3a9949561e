using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Postgres.Tests;

/// <summary>The lost-lock check marks a session lost only for a lock it still holds, never for one released meanwhile.</summary>
public sealed class PostgresLostCheckTests
{
    [Fact]
    public async Task AnAnswerAboutAHoldReleasedAfterTheSnapshot_DoesNotMarkTheFlowsSessionLost()
    {
        // The periodic check stays out of the way; the test plays its steps in the order of the race: the snapshot,
        // then the release (unregistered, then unlocked), then the server's answer that the lock is gone.
        await using var provider = PostgresServer.Provider(checkInterval: TimeSpan.FromHours(1));
        var kept = provider.CreateExclusiveLock(PostgresServer.Unique("lostcheck_kept"));
        var released = provider.CreateExclusiveLock(PostgresServer.Unique("lostcheck_released"));
        await using var keep = await kept.AcquireAsync();
        var scope = await released.AcquireAsync();

        var snapshot = new List<PostgresHold>();
        provider.SnapshotHolds(snapshot);
        int releasedIndex = snapshot.FindIndex(hold => hold.Key == released.Key);
        int keptIndex = snapshot.FindIndex(hold => hold.Key == kept.Key);
        Assert.True(releasedIndex >= 0 && keptIndex >= 0);
        await scope.DisposeAsync();

        provider.MarkLost(snapshot, [releasedIndex]);

        Assert.False(keep.IsLost);
        await using (var again = await released.AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.False(again.IsLost);
        }

        // The same answer about a lock the session still holds is a loss: the check itself still works.
        provider.MarkLost(snapshot, [keptIndex]);
        Assert.True(keep.IsLost);
        Assert.True(keep.LostToken.IsCancellationRequested);
    }

    /// <summary>
    /// A hold counted lost while its session's connection still works (the check could not confirm it: the server was
    /// unreachable for the check's own connection, or did not answer in time) gets no unlock, and its connection must not go
    /// back to the pool with the lock on it. Before, the connection was "discarded" with NpgsqlConnection.ClearPool, which
    /// clears only pools made from a connection string, not the provider's data source: the connection went back to the
    /// pool, and its backend kept the advisory lock, so another process could not take it.
    /// </summary>
    [Fact]
    public async Task AHoldCountedLostWhileItsConnectionWorks_IsNotPooledWithTheLock_SoAnotherProcessGetsIt()
    {
        await using var other = PostgresServer.Provider();
        await using var provider = PostgresServer.Provider(checkInterval: TimeSpan.FromHours(1));
        string name = PostgresServer.Unique("lostcheck_pooled");
        var mine = provider.CreateExclusiveLock(name);
        var scope = await mine.AcquireAsync();

        // The check's answer, played as the monitor gives it: the hold is counted lost, though the server still has it.
        var snapshot = new List<PostgresHold>();
        provider.SnapshotHolds(snapshot);
        provider.MarkLost(snapshot, [snapshot.FindIndex(hold => hold.Key == mine.Key)]);
        Assert.True(scope.IsLost);
        await scope.DisposeAsync();

        // The connection is closed, not pooled: its backend ends, and the server releases the lock with it.
        await using var watcher = await PostgresServer.OpenAsync();
        await PostgresProviderDisposalTests.WaitForRowsAsync(watcher, mine.Key, expected: 0);
        await using (var taken = await other.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero))
        {
            Assert.True(taken.IsAcquired);
        }
    }
}
