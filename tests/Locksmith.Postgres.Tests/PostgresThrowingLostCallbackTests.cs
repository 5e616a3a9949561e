using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A <see cref="PostgresLockScope.LostToken"/> callback of the application's that throws, when the lost-lock check finds
/// the session gone: the check goes on (a hold lost later is still found), every other callback of the token still runs,
/// the lost scope disposes without an error, and nothing is left held or out of the budget.
/// </summary>
public sealed class PostgresThrowingLostCallbackTests
{
    [Fact]
    public async Task ALostTokenCallbackThatThrows_StopsNeitherTheCheckNorTheRelease()
    {
        await using var provider = PostgresServer.Provider(checkInterval: TimeSpan.FromMilliseconds(50));
        string name = PostgresServer.Unique("lost_throws");
        var first = provider.CreateExclusiveLock(name + "_first");
        var second = provider.CreateExclusiveLock(name + "_second");
        var firstScope = await PostgresServer.InAFlowOfItsOwn(async () => await first.AcquireAsync(TimeSpan.FromSeconds(30)));
        var secondScope = await PostgresServer.InAFlowOfItsOwn(async () => await second.AcquireAsync(TimeSpan.FromSeconds(30)));

        var otherCallbackRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondLost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        firstScope.LostToken.Register(static () => throw new InvalidOperationException("the application's LostToken callback failed"));
        firstScope.LostToken.Register(() => otherCallbackRan.TrySetResult());
        secondScope.LostToken.Register(() => secondLost.TrySetResult());

        await using (var admin = await PostgresServer.OpenAsync())
        {
            await TerminateAsync(admin, firstScope.SessionProcessId);
            await otherCallbackRan.Task.WaitAsync(PostgresServer.HangGuard);
            Assert.True(firstScope.IsLost);
            Assert.False(secondScope.IsLost);

            // The check survived the callback's exception: it still finds the next loss.
            await TerminateAsync(admin, secondScope.SessionProcessId);
            await secondLost.Task.WaitAsync(PostgresServer.HangGuard);
        }

        await firstScope.DisposeAsync();
        secondScope.Dispose();
        await PostgresListenerCleanupTests.AssertNothingLeftAsync([provider], name + "_first", name + "_second");
    }

    private static async Task TerminateAsync(NpgsqlConnection admin, int pid)
    {
        await using var terminate = new NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", admin);
        terminate.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
    }
}
