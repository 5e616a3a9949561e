using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>A LostToken callback may release its scope synchronously, however the loss was found.</summary>
public sealed class PostgresLostCallbackTests
{
    // Bounded only so a hang fails the test instead of the run; nothing here measures time.
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Before, the session's connection breaking under the flow's wait (the server ended the backend) cancelled LostToken
    /// inline, in the failing command's frame, which holds the session's gate: a callback that disposed the flow's other
    /// scope with <c>Dispose</c> waited for that gate for good, so the wait never ended (a trial saw it hang, twice), and
    /// neither did the provider's disposal.
    /// </summary>
    [Fact]
    public async Task ACallbackThatDisposesItsScopeSynchronously_WhenTheSessionEndsUnderAWait_LetsTheWaitEnd()
    {
        await using var theirs = PostgresServer.Provider();

        // The periodic check stays out of the way: the loss is found by the wait's own failing command.
        var mine = PostgresServer.Provider(checkInterval: TimeSpan.FromHours(1));
        string name = PostgresServer.Unique("lost_callback");
        var held = mine.CreateExclusiveLock(name + "_held");
        var wanted = mine.CreateExclusiveLock(name + "_wanted");
        await using var blocker = await theirs.CreateExclusiveLock(name + "_wanted").AcquireAsync();

        var sessionPid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var releasedInCallback = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<PostgresLockScope> waiting;
        using (ExecutionContext.SuppressFlow())
        {
            waiting = Task.Run(async () =>
            {
                var scope = await held.AcquireAsync();
                scope.LostToken.Register(() =>
                {
                    scope.Dispose();
                    releasedInCallback.TrySetResult();
                });
                sessionPid.TrySetResult(scope.SessionProcessId);
                return await wanted.AcquireAsync(TimeSpan.FromSeconds(60));
            });
        }

        await using (var admin = await PostgresServer.OpenAsync())
        {
            await PostgresServer.WaitUntilSomeoneWaitsAsync(admin, wanted.Key);
            await using var terminate = new NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", admin);
            terminate.Parameters.Add(new NpgsqlParameter<int> { TypedValue = await sessionPid.Task });
            Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
        }

        var error = await Assert.ThrowsAsync<NpgsqlException>(() => waiting.WaitAsync(s_guard));
        Assert.Contains("57P01", error.Message, StringComparison.Ordinal);
        await releasedInCallback.Task.WaitAsync(s_guard);
        Assert.Equal(0, mine.HeldCount);
        Assert.Equal(0, mine.ConnectionsInUse);
        await mine.DisposeAsync().AsTask().WaitAsync(s_guard);
    }
}
