using System;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A long-wait handler that throws fails the acquisition with its exception and releases the lock it got: nothing
/// stays held on the server or counted in the provider.
/// </summary>
[Collection(nameof(ProcessPolicyCollection))]
public sealed class PostgresHandlerFailureTests
{
    [Fact]
    public async Task AThrowingLongWaitHandler_FailsTheAcquisition_AndReleasesTheLockItGot()
    {
        string name = PostgresServer.Unique("long-wait-throws");
        await using var holderProvider = PostgresServer.Provider();
        await using var waiterProvider = PostgresServer.Provider();
        var held = holderProvider.CreateExclusiveLock(name);
        var wanted = waiterProvider.CreateExclusiveLock(name);

        var previousHandler = LocksmithPolicy.LongWaitOccurred;
        var previousThreshold = LocksmithPolicy.LongWaitThreshold;
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        LocksmithPolicy.LongWaitOccurred = e =>
        {
            previousHandler?.Invoke(e);
            if (e.LockName == name)
            {
                throw new InvalidOperationException("long-wait handler failed for " + e.LockName);
            }
        };
        try
        {
            var holder = await held.AcquireAsync(TimeSpan.FromSeconds(30));
            var waiter = PostgresServer.InAFlowOfItsOwn(async () => await wanted.AcquireAsync(TimeSpan.FromSeconds(60)));
            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wanted.Key);
            }

            await holder.DisposeAsync();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => waiter);
            Assert.Equal("long-wait handler failed for " + name, error.Message);
        }
        finally
        {
            LocksmithPolicy.LongWaitOccurred = previousHandler;
            LocksmithPolicy.LongWaitThreshold = previousThreshold;
        }

        // Released, not lost: the waiter's provider holds no connection, and the other session takes the lock at once.
        Assert.Equal(0, waiterProvider.ConnectionsInUse);
        await using var again = await held.TryAcquireAsync(TimeSpan.Zero);
        Assert.True(again.IsAcquired);
    }
}
