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
}
