using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// The real server the tests run against: LOCKSMITH_POSTGRES, else the local default that .ci/run and the README's
/// setup create. A missing server fails the tests; nothing stands in for it.
/// </summary>
internal static class PostgresServer
{
    public const string Fallback = "Host=127.0.0.1;Port=5432;Username=locksmith;Password=locksmith;Database=locksmith";

    public static string ConnectionString { get; } = FromEnvironment("LOCKSMITH_POSTGRES", Fallback);

    /// <summary>
    /// A streaming standby of that server (LOCKSMITH_POSTGRES_STANDBY, else port 5433 of this machine), which
    /// <c>.ci/prerequisites</c> makes with <c>pg_basebackup</c>; a missing standby fails the tests that use it.
    /// </summary>
    public static string StandbyConnectionString { get; } =
        FromEnvironment("LOCKSMITH_POSTGRES_STANDBY", "Host=127.0.0.1;Port=5433;Username=locksmith;Password=locksmith;Database=locksmith");

    private static string FromEnvironment(string variable, string fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured ? configured : fallback;

    /// <summary>
    /// One side of a two-flow deadlock: takes <paramref name="mine"/>, waits until the other side holds its own
    /// (<paramref name="bothHold"/>), then asks for <paramref name="theirs"/>; the <see cref="DeadlockException"/> it got,
    /// or null if it got the lock. Run each side in a flow of its own. <paramref name="activity"/> names the flow.
    /// </summary>
    public static async Task<DeadlockException?> HoldThenAskAsync(PostgresLockProvider provider, string mine, string theirs, CountdownEvent bothHold, string? activity = null)
    {
        using var named = activity is null ? null : new Activity(activity).Start();
        await using var held = await provider.CreateExclusiveLock(mine).AcquireAsync();
        bothHold.Signal();
        if (!bothHold.Wait(TimeSpan.FromMinutes(2)))
        {
            throw new TimeoutException("The other flow never took its first lock (a hang guard, not a measurement).");
        }

        try
        {
            await using var then = await provider.CreateExclusiveLock(theirs).AcquireAsync(TimeSpan.FromSeconds(60));
            return null;
        }
        catch (DeadlockException e)
        {
            return e;
        }
    }

    /// <summary>
    /// The bound on a test's wait for another flow of the test (its signal, or its end): a safety net that makes a stuck test
    /// fail, where a flow that failed before it signalled left the other waiting for good, never a measurement.
    /// </summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Drops a database a test made: ends this role's sessions on it (pooled ones too), then drops it. Not
    /// <c>WITH (FORCE)</c>, which also tries to end an autovacuum worker that happens to be on the new database, and a role
    /// without superuser may not (42501, "must be a member of the role whose process is being terminated"): a plain drop
    /// signals such a worker itself and waits for the sessions to go, and is tried again while they have not (55006).
    /// </summary>
    public static async Task DropDatabaseAsync(string database)
    {
        await using var admin = await OpenAsync();
        await using (var end = new NpgsqlCommand(
            "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_catalog.pg_backend_pid()", admin))
        {
            end.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
            await end.ExecuteScalarAsync();
        }

        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\"", admin);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 20)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Ends the backend <paramref name="pid"/> as an administrator would (<c>pg_terminate_backend</c>), asserting it existed.</summary>
    public static async Task TerminateAsync(NpgsqlConnection admin, int pid)
    {
        await using var terminate = new NpgsqlCommand("SELECT pg_catalog.pg_terminate_backend($1)", admin);
        terminate.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
    }

    /// <summary>A name no other test (or run) uses, so parallel tests never share a lock or a table.</summary>
    /// <summary>Until <paramref name="token"/> is cancelled (a scope's LostToken), bounded by <see cref="HangGuard"/>.</summary>
    public static async Task UntilCancelledAsync(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = token.Register(() => cancelled.TrySetResult());
        await cancelled.Task.WaitAsync(HangGuard);
    }

    public static string Unique(string prefix) => $"{prefix}_{Guid.NewGuid():N}";

    public static PostgresLockProvider Provider(int budget = 4, TimeSpan? defaultTimeout = null, TimeSpan? checkInterval = null) =>
        new(new PostgresLockProviderOptions
        {
            ConnectionString = ConnectionString,
            ConnectionBudget = budget,
            DefaultTimeout = defaultTimeout ?? TimeSpan.FromSeconds(60),
            LostLockCheckInterval = checkInterval ?? TimeSpan.FromMilliseconds(100),
        });

    /// <summary>
    /// Leaves <paramref name="sessions"/> open connections (opened, asked pg_is_in_recovery()) idle in
    /// <paramref name="provider"/>'s pool: as many flows of their own each take a lock no test uses, all hold at once, then all
    /// release. A short budget given after it is spent on the server's wait: on a cold or loaded machine an opening can take
    /// most of it (it has at least 2 s), so a wait given 100 ms became a try-once, or the opening ran out of time. A try-once on
    /// a cold pool has those 2 s at most too (a loaded run overran them: "could not open a PostgreSQL session").
    /// </summary>
    public static async Task WarmUpAsync(PostgresLockProvider provider, int sessions = 1)
    {
        int holding = 0;
        var allHold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flows = new Task<bool>[sessions];
        for (int i = 0; i < sessions; i++)
        {
            flows[i] = InAFlowOfItsOwn(async () =>
            {
                await using var held = await provider.CreateExclusiveLock(Unique("warm_up")).AcquireAsync(TimeSpan.FromSeconds(60));
                if (Interlocked.Increment(ref holding) == sessions)
                {
                    allHold.SetResult();
                }

                // Held until every flow holds, so each has a connection of its own.
                await allHold.Task.WaitAsync(HangGuard);
                return true;
            });
        }

        await Task.WhenAll(flows).WaitAsync(HangGuard);
    }

    /// <summary>A <see cref="Provider"/> with a connection open in its pool (<see cref="WarmUpAsync"/>): for one first used with a try-once or a short timeout.</summary>
    public static async Task<PostgresLockProvider> WarmedProviderAsync()
    {
        var provider = Provider();
        try
        {
            await WarmUpAsync(provider);
            return provider;
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
    }

    /// <summary>A plain connection of its own (not a lock's), for tables and for watching or ending sessions.</summary>
    public static async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a flow of its own, as another process would run it: the caller's holds are not its,
    /// so a lock the caller holds (through any provider) makes it wait or refuses it, instead of being a recursion.
    /// </summary>
    public static Task<T> InAFlowOfItsOwn<T>(Func<Task<T>> work)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }

    /// <summary>Whether a flow of its own (another process's stand-in) gets the lock at once from <paramref name="tryOnce"/>; released at once.</summary>
    public static Task<bool> TakenAtOnceElsewhereAsync(Func<ValueTask<PostgresLockScope>> tryOnce) =>
        InAFlowOfItsOwn(async () =>
        {
            await using var scope = await tryOnce();
            return scope.IsAcquired;
        });

    /// <summary>
    /// A plain session (no provider's, so no flow of this process stands behind it, as with another process) holding the
    /// named lock <paramref name="name"/>'s advisory lock. <c>ProcessID</c> is its backend pid. Disposing the connection does
    /// not release the lock: it goes back to Npgsql's pool with its session, which is reset only when the pool reuses it;
    /// release with <see cref="UnlockAllAsync"/> first.
    /// </summary>
    public static async Task<NpgsqlConnection> HoldOnPlainSessionAsync(string name, bool shared = false)
    {
        var connection = await OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT pg_catalog.pg_advisory_lock{(shared ? "_shared" : string.Empty)}($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryKey.ForName(name).BigintValue });
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>Releases every session advisory lock <paramref name="holder"/>'s session holds, on the server.</summary>
    public static async Task UnlockAllAsync(NpgsqlConnection holder)
    {
        await using var unlock = new NpgsqlCommand("SELECT pg_catalog.pg_advisory_unlock_all()", holder);
        await unlock.ExecuteNonQueryAsync();
    }

    /// <summary>How many sessions wait on the server (not granted) for the advisory lock <paramref name="key"/>.</summary>
    internal static async Task<long> WaitersOnServerAsync(NpgsqlConnection watcher, AdvisoryKey key)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid AND objid = $2::oid AND objsubid = $3",
            watcher);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = key.SubId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Waits (bounded by iterations) until at least <paramref name="count"/> sessions wait on the server for the advisory lock <paramref name="key"/>.</summary>
    internal static async Task WaitUntilWaitingAsync(NpgsqlConnection watcher, AdvisoryKey key, int count)
    {
        for (int i = 0; i < 3000; i++)
        {
            if (await WaitersOnServerAsync(watcher, key) >= count)
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException(count == 1
            ? $"No session started waiting for advisory lock {key}."
            : $"Fewer than {count} sessions started waiting for advisory lock {key}.");
    }

    /// <summary>Waits (bounded by iterations) until a session waits on the server for the advisory lock <paramref name="key"/>.</summary>
    internal static Task WaitUntilSomeoneWaitsAsync(NpgsqlConnection watcher, AdvisoryKey key) => WaitUntilWaitingAsync(watcher, key, 1);
}
