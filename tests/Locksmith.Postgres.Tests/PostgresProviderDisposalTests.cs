using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Disposing a provider (as a container does at host shutdown, while a background service may still wait or hold): its
/// waits end with ObjectDisposedException and take nothing, its sessions close so the server releases their locks, and
/// the holds it had are lost (LostToken) and dispose quietly.
/// </summary>
public sealed class PostgresProviderDisposalTests
{
    /// <summary>A hang guard only: nothing here measures time.</summary>
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaitWithNoTimeout_EndsWithObjectDisposedException_AndTakesNothing(bool synchronousDispose)
    {
        await using var other = PostgresServer.Provider();
        await using var watcher = await PostgresServer.OpenAsync();
        string name = PostgresServer.Unique("disposed_wait");
        var theirs = other.CreateExclusiveLock(name);
        var held = await theirs.AcquireAsync();
        var provider = PostgresServer.Provider();
        var mine = provider.CreateExclusiveLock(name);
        Task<PostgresLockScope> waiter;
        using (ExecutionContext.SuppressFlow())
        {
            waiter = Task.Run(async () => await mine.AcquireAsync(Timeout.InfiniteTimeSpan));
        }

        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, mine.Key);

        if (synchronousDispose)
        {
            provider.Dispose();
        }
        else
        {
            await provider.DisposeAsync();
        }

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(s_guard));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("was disposed", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"^Flow #\d+( \('[^']*'\))? \(on thread \d+( \('[^']*'\))?\) ", error.Message);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, provider.HeldCount);

        // Released by its holder, the lock is granted to nobody of the disposed provider.
        await held.DisposeAsync();
        await WaitForRowsAsync(watcher, mine.Key, expected: 0);
        await using var again = await theirs.AcquireAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await CountRowsAsync(watcher, mine.Key));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AHeldLock_IsReleasedByTheServer_ItsLostTokenFires_AndItsScopeDisposesQuietly(bool synchronousDispose)
    {
        await using var watcher = await PostgresServer.OpenAsync();
        await using var other = PostgresServer.Provider();
        var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("disposed_hold");
        var mine = provider.CreateExclusiveLock(name);
        var keyed = provider.CreateKeyedLock<int>(name + "_keyed");
        var scope = await mine.AcquireAsync();
        Task<PostgresLockScope> takingKey;
        using (ExecutionContext.SuppressFlow())
        {
            // Another flow of the same provider, on a session of its own.
            takingKey = Task.Run(async () => await keyed.AcquireAsync(7));
        }

        var keyScope = await takingKey;

        Assert.Equal(1, await CountRowsAsync(watcher, mine.Key));

        if (synchronousDispose)
        {
            provider.Dispose();
        }
        else
        {
            await provider.DisposeAsync();
        }

        Assert.True(scope.LostToken.IsCancellationRequested);
        Assert.True(scope.IsLost);
        Assert.True(keyScope.IsLost);
        await WaitForRowsAsync(watcher, mine.Key, expected: 0);
        await WaitForRowsAsync(watcher, keyed.KeyOf(7), expected: 0);
        await using (var taken = await other.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.True(taken.IsAcquired);
        }

        // The holds are gone: disposing their scopes neither throws nor waits for the closed sessions.
        await scope.DisposeAsync().AsTask().WaitAsync(s_guard);
        await Task.Run(keyScope.Dispose).WaitAsync(s_guard);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, provider.HeldCount);
    }

    /// <summary>Before, a waiter behind a hold of the same provider waited out its whole timeout and then got LockTimeoutException.</summary>
    [Fact]
    public async Task AWaiterBehindAHoldOfTheSameProvider_GetsObjectDisposedException_NotATimeout()
    {
        await using var watcher = await PostgresServer.OpenAsync();
        var provider = PostgresServer.Provider();
        var gate = provider.CreateExclusiveLock(PostgresServer.Unique("disposed_both"));
        Task<PostgresLockScope> holder;
        using (ExecutionContext.SuppressFlow())
        {
            holder = Task.Run(async () => await gate.AcquireAsync());
        }

        var scope = await holder;
        Task<PostgresLockScope> waiter;
        using (ExecutionContext.SuppressFlow())
        {
            waiter = Task.Run(async () => await gate.AcquireAsync(TimeSpan.FromMinutes(10)));
        }

        await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, gate.Key);

        await provider.DisposeAsync();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(s_guard));
        Assert.Contains($"'{gate.Name}'", error.Message, StringComparison.Ordinal);
        Assert.True(scope.IsLost);
        await WaitForRowsAsync(watcher, gate.Key, expected: 0);
        await scope.DisposeAsync();
        Assert.Equal(0, provider.ConnectionsInUse);

        var refused = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await gate.AcquireAsync(TimeSpan.Zero));
        Assert.Contains("was disposed", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Rows of pg_locks (granted or waiting) for the advisory key, seen from a connection of the test's own.</summary>
    internal static async Task<long> CountRowsAsync(NpgsqlConnection watcher, AdvisoryKey key)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid AND objsubid = $3", watcher);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = key.SubId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Waits (bounded by iterations) until pg_locks has <paramref name="expected"/> rows for the key: a closed session's
    /// backend ends, and drops its locks, a moment after the client let go of it.
    /// </summary>
    internal static async Task WaitForRowsAsync(NpgsqlConnection watcher, AdvisoryKey key, long expected)
    {
        long rows = -1;
        for (int i = 0; i < 1000; i++)
        {
            rows = await CountRowsAsync(watcher, key);
            if (rows == expected)
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail($"pg_locks kept {rows} row(s) for advisory lock {key}; expected {expected}.");
    }
}
