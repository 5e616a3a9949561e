using System;
using System.Linq;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A long-wait handler that throws, where the release of the lock the acquisition got then throws too (a hold-duration
/// listener of the application's): both errors are thrown, the handler's first, and nothing stays held. Before, the
/// release's error replaced the handler's.
/// </summary>
[Collection(nameof(ProcessPolicyCollection))]
public sealed class PostgresLongWaitReleaseCleanupTests
{
    [Fact]
    public async Task AThrowingLongWaitHandler_WhoseReleaseThrowsToo_ThrowsBothErrors_AndReleasesTheLock()
    {
        string name = PostgresServer.Unique("long-wait-release-throws");
        await using var waiterProvider = PostgresServer.Provider();
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
            // Held by a plain session (no provider's, so nothing of it is recorded): the listener is on before the waiter's grant.
            using var listener = new PostgresListenerCleanupTests.ThrowingListener("locksmith.lock.hold.duration", name);
            var holder = await PostgresServer.HoldOnPlainSessionAsync(name);
            var waiter = PostgresServer.InAFlowOfItsOwn(async () => await wanted.AcquireAsync(TimeSpan.FromSeconds(60)));
            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wanted.Key);
            }

            // Unlocked on the server, not by closing: a closed connection goes back to Npgsql's pool with its session locks.
            await using (var unlock = new NpgsqlCommand("SELECT pg_catalog.pg_advisory_unlock_all()", holder))
            {
                await unlock.ExecuteNonQueryAsync();
            }

            await holder.DisposeAsync();
            var error = await Assert.ThrowsAsync<AggregateException>(() => waiter.WaitAsync(PostgresServer.HangGuard));
            Assert.Equal(
                ["long-wait handler failed for " + name, $"locksmith.lock.hold.duration listener refused {name}"],
                error.InnerExceptions.Select(static e => e.Message));
        }
        finally
        {
            LocksmithPolicy.LongWaitOccurred = previousHandler;
            LocksmithPolicy.LongWaitThreshold = previousThreshold;
        }

        await PostgresListenerCleanupTests.AssertNothingLeftAsync([waiterProvider], name);
    }
}
