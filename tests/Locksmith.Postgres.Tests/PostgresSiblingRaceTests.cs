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

    [Theory]
    [InlineData("key", "key")]
    [InlineData("key", "set")]
    [InlineData("set", "key")]
    public async Task ASecondTaskOfTheFlowQueuedForTheSameKey_IsRefused_AlsoThroughALockSet(string firstForm, string secondForm)
    {
        await using var provider = PostgresServer.Provider();
        await using var elsewhere = PostgresServer.Provider();
        string name = PostgresServer.Unique("sibling_keyed");
        var keyed = provider.CreateKeyedLock<int>(name);
        var beside = provider.CreateExclusiveLock(PostgresServer.Unique("sibling_beside"));
        var anchorLock = provider.CreateExclusiveLock(PostgresServer.Unique("sibling_anchor"));

        // A set takes the key and another lock: whichever it takes first, it waits for the key, or is refused it.
        async Task<int> Acquire(string form, Task hold)
        {
            if (form == "key")
            {
                await using var scope = await keyed.AcquireAsync(7, TimeSpan.FromSeconds(60));
                await hold;
                return 1;
            }

            await using var set = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(60), [keyed.Request(7), beside.Request()]);
            await hold;
            return set.Count;
        }

        // Another process's session holds the key, so the first acquisition waits on the server.
        var holder = await KeyHeldElsewhere.HoldAsync(elsewhere.CreateKeyedLock<int>(name), 7);
        var anchor = await anchorLock.AcquireAsync(TimeSpan.FromSeconds(30));
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Acquire(firstForm, releaseFirst.Task);
        await using (var watcher = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, keyed.KeyOf(7));
        }

        var second = Acquire(secondForm, Task.CompletedTask);
        Assert.False(second.IsCompleted);
        await holder.DisposeAsync();

        // The first holds what it asked for; the second is refused the key, and gives back what it took (nothing else held).
        await Assert.ThrowsAsync<LockRecursionException>(() => second.WaitAsync(PostgresServer.HangGuard));
        Assert.Equal(1 + (firstForm == "set" ? 2 : 1), provider.HeldCount);
        releaseFirst.SetResult();
        Assert.Equal(firstForm == "set" ? 2 : 1, await first.WaitAsync(PostgresServer.HangGuard));
        await anchor.DisposeAsync();

        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateKeyedLock<int>(name).TryAcquireAsync(7, TimeSpan.Zero)));
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(beside.Name).TryAcquireAsync(TimeSpan.Zero)));
    }
}
