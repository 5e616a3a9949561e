using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

public sealed class PostgresDeadlockDetectorTests
{
    [Fact]
    public async Task ACycleThroughADistributedAndAnInProcessLock_IsInTheDetectorsGraph()
    {
        await using var provider = PostgresServer.Provider();
        var distributed = provider.CreateExclusiveLock(PostgresServer.Unique("ledger"));
        var local = new AsyncExclusiveLock(PostgresServer.Unique("cache"));

        var found = await DetectorCycle.FindAsync(
            () => distributed.AcquireAsync(),
            local,
            async breakTheCycle =>
            {
                await using var then = await distributed.AcquireAsync(Timeout.InfiniteTimeSpan, breakTheCycle);
            },
            distributed.Name,
            polls: 3000);

        Assert.NotNull(found);
        Assert.Equal(2, found.Edges.Count);
        Assert.Contains(found.Edges, e => e.LockName == distributed.Name && e.LockKind == LockKind.DistributedExclusive);
        Assert.Contains(found.Edges, e => e.LockName == local.Name);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
