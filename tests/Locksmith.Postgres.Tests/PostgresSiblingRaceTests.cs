using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Two tasks of one flow ask for the same lock at once, before either holds it: both pass the recursion check, and both
/// queue on the flow's one session. Advisory locks are reentrant per session, so the server grants the second as well;
/// the process must refuse it, as the in-process async locks refuse a task of a flow that took the lock meanwhile
/// (<see cref="LockRecursionException"/>). Before, both got a scope: two tasks of one flow inside an exclusive lock (or a
/// reader beside a writer), the second hold replacing the first in the provider's books.
/// </summary>
public sealed class PostgresSiblingRaceTests
{
    [Theory]
    [InlineData("exclusive", "exclusive")]
    [InlineData("write", "read")]
    [InlineData("read", "write")]
    public async Task ASecondTaskOfTheFlowQueuedForTheSameLock_IsRefused_WhenTheFirstGetsIt(string firstMode, string secondMode)
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("sibling_race");
        string anchorName = PostgresServer.Unique("sibling_anchor");
        PostgresExclusiveLock? exclusive = firstMode == "exclusive" ? provider.CreateExclusiveLock(name) : null;
        PostgresReadWriteLock? readWrite = exclusive is null ? provider.CreateReadWriteLock(name) : null;
        var key = exclusive?.Key ?? readWrite!.Key;
        ValueTask<PostgresLockScope> Acquire(string mode) => mode switch
        {
            "exclusive" => exclusive!.AcquireAsync(TimeSpan.FromSeconds(60)),
            "write" => readWrite!.AcquireWriteAsync(TimeSpan.FromSeconds(60)),
            _ => readWrite!.AcquireReadAsync(TimeSpan.FromSeconds(60)),
        };

        // Another process's session holds the lock, so the first acquisition waits on the server.
        var holder = await PostgresServer.HoldOnPlainSessionAsync(name);

        // A hold makes the test's flow one flow: both acquisitions below are its, on its one session.
        var anchor = await provider.CreateExclusiveLock(anchorName).AcquireAsync(TimeSpan.FromSeconds(30));
        var first = Acquire(firstMode).AsTask();
        await using (var watcher = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, key);
        }

        // Its checks passed (the call returned): it now queues for the session behind the first's wait.
        var second = Acquire(secondMode).AsTask();
        Assert.False(second.IsCompleted);

        await PostgresServer.UnlockAllAsync(holder);

        await holder.DisposeAsync();
        var firstScope = await first.WaitAsync(PostgresServer.HangGuard);
        try
        {
            var error = await Assert.ThrowsAsync<LockRecursionException>(() => second.WaitAsync(PostgresServer.HangGuard));
            Assert.Contains(firstScope.LockDescription, error.Message, StringComparison.Ordinal);
            Assert.Equal(2, provider.HeldCount);
        }
        finally
        {
            await firstScope.DisposeAsync();
            if (second.IsCompletedSuccessfully)
            {
                await (await second).DisposeAsync();
            }
        }

        // Nothing is left: the one grant released is the only one the session had.
        Assert.Equal(0, await PostgresListenerCleanupTests.GrantedOnServerAsync(name));
        await anchor.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
