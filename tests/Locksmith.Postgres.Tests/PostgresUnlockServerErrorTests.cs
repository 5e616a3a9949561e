using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// An unlock the server refuses (an ERROR, the session lives on) on a session that holds the flow's other locks too. Once:
/// the unlock is sent again and gives the key back, and the other locks are not lost. Before, the session counted as lost
/// at the first refusal: the other holds' LostToken fired though the server still had them, and the key stayed held on the
/// server until the flow let go of the others. For good (the session stuck in an aborted transaction, where every statement
/// is refused): the session counts as lost, as before, and its connection is discarded, never pooled with the key on it.
/// An ended wait's give-back of a grant that raced its end is asked again the same way. The refusals are the server's own,
/// on the session's connection, made where the give-back runs (<see cref="PostgresHold.BeforeUnlockForTest"/>).
/// </summary>
[Collection(nameof(PostgresTestHookCollection))]
public sealed class PostgresUnlockServerErrorTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUnlockTheServerRefusesOnce_IsSentAgain_AndTheFlowsOtherLocksAreNotLost(bool sync)
    {
        await using var provider = PostgresServer.Provider();
        string refused = PostgresServer.Unique("unlock_refused_once"), other = PostgresServer.Unique("unlock_other");
        var otherScope = await provider.CreateExclusiveLock(other).AcquireAsync();
        var refusedScope = await provider.CreateExclusiveLock(refused).AcquireAsync();
        Assert.Equal(otherScope.SessionProcessId, refusedScope.SessionProcessId);

        int refusals = 0;
        PostgresHold.BeforeUnlockForTest = async (description, connection, async) =>
        {
            if (description.Contains(refused, StringComparison.Ordinal) && Interlocked.Increment(ref refusals) == 1)
            {
                // 22012, an ERROR: the statement fails, the session lives on.
                await using var command = new NpgsqlCommand("SELECT 1 / 0", connection);
                _ = async ? await command.ExecuteScalarAsync() : command.ExecuteScalar();
            }
        };
        try
        {
            if (sync)
            {
                refusedScope.Dispose();
            }
            else
            {
                await refusedScope.DisposeAsync();
            }
        }
        finally
        {
            PostgresHold.BeforeUnlockForTest = null;
        }

        Assert.Equal(1, refusals);
        Assert.False(otherScope.IsLost);
        Assert.False(otherScope.LostToken.IsCancellationRequested);
        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(refused).TryAcquireAsync(TimeSpan.Zero)));

        await otherScope.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(other).TryAcquireAsync(TimeSpan.Zero)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUnlockTheServerKeepsRefusing_MarksTheSessionLost_AndItsConnectionIsDiscardedWithTheKey(bool sync)
    {
        await using var provider = PostgresServer.Provider();
        string refused = PostgresServer.Unique("unlock_refused_always"), other = PostgresServer.Unique("unlock_other");
        var otherScope = await provider.CreateExclusiveLock(other).AcquireAsync();
        var refusedScope = await provider.CreateExclusiveLock(refused).AcquireAsync();

        PostgresHold.BeforeUnlockForTest = async (description, connection, async) =>
        {
            if (description.Contains(refused, StringComparison.Ordinal))
            {
                // An aborted transaction: the server refuses every statement after it (25P02), the unlock's and its retry's.
                await using var begin = new NpgsqlCommand("BEGIN", connection);
                _ = async ? await begin.ExecuteNonQueryAsync() : begin.ExecuteNonQuery();
                await using var fail = new NpgsqlCommand("SELECT 1 / 0", connection);
                await Assert.ThrowsAsync<PostgresException>(async () => _ = async ? await fail.ExecuteScalarAsync() : fail.ExecuteScalar());
            }
        };
        try
        {
            if (sync)
            {
                refusedScope.Dispose();
            }
            else
            {
                await refusedScope.DisposeAsync();
            }
        }
        finally
        {
            PostgresHold.BeforeUnlockForTest = null;
        }

        // The key may still be held: the session counts as lost, and the flow's other hold with it.
        Assert.True(otherScope.IsLost);
        await otherScope.DisposeAsync();
        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);

        // The discarded connection's backend ends a moment later, and its locks with it (bounded by iterations).
        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        bool free = false;
        for (int i = 0; i < 3000 && !free; i++)
        {
            free = await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(refused).TryAcquireAsync(TimeSpan.Zero));
            if (!free)
            {
                await Task.Delay(10);
            }
        }

        Assert.True(free);
    }

    /// <summary>
    /// A cancelled wait checks whether a grant raced the cancel, and gives it back: the same refusal there (once) is asked
    /// again, and the flow's other lock on the session is not lost. Before, the session counted as lost at the first refusal.
    /// </summary>
    [Fact]
    public async Task AnEndedWaitsGiveBackTheServerRefusesOnce_IsSentAgain_AndTheFlowsOtherLocksAreNotLost()
    {
        await using var provider = PostgresServer.Provider();
        string wanted = PostgresServer.Unique("giveback_refused_once"), other = PostgresServer.Unique("giveback_other");
        var wantedLock = provider.CreateExclusiveLock(wanted);
        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(wanted);
        var otherScope = await provider.CreateExclusiveLock(other).AcquireAsync();

        int refusals = 0;
        PostgresHold.BeforeUnlockForTest = async (description, connection, async) =>
        {
            if (description.Contains(wanted, StringComparison.Ordinal) && Interlocked.Increment(ref refusals) == 1)
            {
                await using var command = new NpgsqlCommand("SELECT 1 / 0", connection);
                _ = async ? await command.ExecuteScalarAsync() : command.ExecuteScalar();
            }
        };
        try
        {
            using var cancel = new CancellationTokenSource();
            var waiting = wantedLock.AcquireAsync(TimeSpan.FromSeconds(60), cancel.Token).AsTask();
            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wantedLock.Key);
            }

            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(PostgresServer.HangGuard));
        }
        finally
        {
            PostgresHold.BeforeUnlockForTest = null;
        }

        Assert.Equal(1, refusals);
        Assert.False(otherScope.IsLost);
        Assert.Equal(1, provider.HeldCount);
        await otherScope.DisposeAsync();
        await PostgresServer.UnlockAllAsync(holder);
        Assert.Equal(0, provider.ConnectionsInUse);
        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(wanted).TryAcquireAsync(TimeSpan.Zero)));
    }
}
