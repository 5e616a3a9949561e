using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A provider disposed while one of its flows waits on the server: the wait's give-back (the check whether a grant raced the
/// disposal, and its unlock) goes into a link gone silent. Bounded by <c>LostLockCheckTimeout</c>, it gives up: the wait
/// ends with the documented <see cref="ObjectDisposedException"/>, the session counts as lost (the flow's other hold's
/// LostToken fires), its use of the budget is returned, and the disposal returns (it waits for the session the give-back
/// had). Unbounded, the check waited for good, and the disposal with it.
/// </summary>
public sealed class PostgresDisposalGiveBackTests
{
    // The statement that asks whether the session holds a key (AdvisoryCommands.IsHeldAsync); no other says "pid =" so.
    private const string HeldCheckText = "pid = pg_catalog.pg_backend_pid()";

    /// <summary>A hang guard only: nothing here measures time.</summary>
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(2);

    private static PostgresLockProvider SilentProvider(TcpRelay relay) => new(new PostgresLockProviderOptions
    {
        // Without TLS the relay reads the statements, to fall silent at the right one; Timeout bounds Npgsql's own cancel
        // of the unanswered statement, over a connection of its own. 5 s, not 1: it bounds every opening through the relay
        // too, which a loaded machine (the relay's pumps on a busy thread pool) can take more than 1 s for.
        ConnectionString = new Npgsql.NpgsqlConnectionStringBuilder(relay.ConnectionString) { Timeout = 5, SslMode = Npgsql.SslMode.Disable }.ConnectionString,
        ConnectionBudget = 2,
        DefaultTimeout = TimeSpan.FromSeconds(60),
        LostLockCheckInterval = TimeSpan.FromMinutes(10),
        LostLockCheckTimeout = TimeSpan.FromSeconds(1),
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AProviderDisposedDuringAWait_WhoseGiveBackGetsNoAnswer_EndsTheWaitWithObjectDisposedException_AndReturns(bool synchronousDispose)
    {
        await using var relay = new TcpRelay();
        string name = PostgresServer.Unique("disposed_giveback");
        await using var holder = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        var held = holder.CreateExclusiveLock(name);
        await using var elsewhere = await KeyHeldElsewhere.HoldAsync(() => held.AcquireAsync());

        var silent = SilentProvider(relay);
        var holding = new TaskCompletionSource<PostgresLockScope>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<PostgresLockScope> waiter;
        using (ExecutionContext.SuppressFlow())
        {
            // One flow: it holds 'first' and waits, on the same session, for the key held elsewhere.
            waiter = Task.Run(async () =>
            {
                holding.SetResult(await silent.CreateExclusiveLock(PostgresServer.Unique("first")).AcquireAsync());
                return await silent.CreateExclusiveLock(name).AcquireAsync(Timeout.InfiniteTimeSpan);
            });
        }

        var first = await holding.Task.WaitAsync(s_guard, TestContext.Current.CancellationToken);

        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, held.Key);

        // Silent from the give-back's check on: the disposal's cancel of the wait and the server's answer still get through.
        relay.FreezeWhenClientSends(HeldCheckText);
        var disposing = synchronousDispose ? Task.Run(silent.Dispose) : silent.DisposeAsync().AsTask();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(s_guard, TestContext.Current.CancellationToken));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("was disposed", error.Message, StringComparison.Ordinal);
        await disposing.WaitAsync(s_guard, TestContext.Current.CancellationToken);

        Assert.True(first.IsLost);
        Assert.True(first.LostToken.IsCancellationRequested);
        await first.DisposeAsync().AsTask().WaitAsync(s_guard, TestContext.Current.CancellationToken);
        Assert.Equal(0, silent.ConnectionsInUse);
        Assert.Equal(0, silent.HeldCount);
    }
}
