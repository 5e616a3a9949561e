using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using NpgsqlTypes;

namespace Locksmith.Postgres;

/// <summary>The SQL of the advisory locks: one round trip per acquisition, per release and per lost-lock check.</summary>
internal static class AdvisoryCommands
{
    /// <summary>
    /// Acquires <paramref name="key"/> on <paramref name="connection"/>: try once when <paramref name="timeoutMs"/> is 0
    /// (null when busy); else in one statement a try, then, only if that failed, the server's blocking acquire under a
    /// <c>lock_timeout</c> (so PostgreSQL's deadlock detector sees the wait). Returns whether it had to wait.
    /// </summary>
    /// <exception cref="PostgresException">55P03 when the timeout elapsed, 40P01 when the server saw a deadlock.</exception>
    /// <param name="connection">The session's connection.</param>
    /// <param name="key">The advisory key.</param>
    /// <param name="shared">Whether the shared form is taken.</param>
    /// <param name="timeoutMs">The server's wait: 0 tries once, negative waits forever.</param>
    /// <param name="answerSeconds">
    /// How long past that wait the server's answer may take (the command's timeout is the wait plus this, in whole seconds;
    /// none for a wait forever): on a link gone silent the statement would otherwise wait for good.
    /// </param>
    /// <param name="probe">
    /// Whether the connection is new to the session: a <see cref="StaleConnectionException"/> then says that the server had
    /// ended it before the statement (nothing held), so another connection may take its place.
    /// </param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    public static async ValueTask<bool?> AcquireAsync(
        NpgsqlConnection connection, AdvisoryKey key, bool shared, int timeoutMs, int answerSeconds, bool probe, CancellationToken cancellationToken)
    {
        var statement = new NpgsqlBatchCommand();
        string args = AddKey(statement.Parameters, key);
        string suffix = shared ? "_shared" : string.Empty;
        if (timeoutMs == 0)
        {
            statement.CommandText = $"SELECT pg_catalog.pg_try_advisory_lock{suffix}({args})";
        }
        else
        {
            // The ELSE's subquery runs only when reached (an init plan is evaluated on first use). lock_timeout 0 waits forever.
            int timeoutIndex = statement.Parameters.Count + 1;
            statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = (timeoutMs < 0 ? 0 : timeoutMs).ToString(CultureInfo.InvariantCulture) });
            statement.CommandText =
                $"SELECT CASE WHEN pg_catalog.set_config('lock_timeout', ${timeoutIndex}, false) IS NULL THEN NULL " +
                $"WHEN pg_catalog.pg_try_advisory_lock{suffix}({args}) THEN false " +
                $"ELSE (SELECT true FROM pg_catalog.pg_advisory_lock{suffix}({args})) END";
        }

        await using var batch = new NpgsqlBatch(connection)
        {
            Timeout = timeoutMs < 0 ? 0 : (int)Math.Min(int.MaxValue, ((timeoutMs + 999L) / 1000) + answerSeconds),
        };
        if (probe)
        {
            // A connection new to the session may have been ended while idle in the pool (a server restart, an
            // administrator's pg_terminate_backend). A statement of its own ahead of the lock's, in the same round trip and
            // answered at once (the barrier's Sync makes the server send its answer before it runs the next), tells such
            // a connection apart from one ended during the wait: an error before that answer comes before the lock's
            // statement ran, so nothing can be held.
            batch.EnableErrorBarriers = true;
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT 1"));
        }

        batch.BatchCommands.Add(statement);
        NpgsqlDataReader reader;
        try
        {
            reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (probe && EndedBeforeUse(e))
        {
            throw new StaleConnectionException(e);
        }

        await using (reader.ConfigureAwait(false))
        {
            if (probe)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }

            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            bool result = reader.GetBoolean(0);
            return timeoutMs == 0 ? (result ? false : null) : result;
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/>, from a connection's first statement, says the server had ended its session or closed
    /// its socket (not a timeout: a link gone silent is no dead connection to replace, and its wait is reported as such).
    /// Also the lost-lock check's test of its pooled connection.
    /// </summary>
    private static bool EndedBeforeUse(NpgsqlException e) => e switch
    {
        PostgresException p => p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        _ => e.InnerException is System.IO.IOException or System.IO.EndOfStreamException or System.Net.Sockets.SocketException,
    };

    /// <summary>
    /// Whether this session holds <paramref name="key"/> (after a timeout or cancellation that may have raced a grant);
    /// <paramref name="timeoutSeconds"/> is the command's timeout in whole seconds, 0 for none.
    /// </summary>
    public static ValueTask<bool> IsHeldAsync(NpgsqlConnection connection, AdvisoryKey key, int timeoutSeconds) =>
        AgainIfCanceledLate(() => IsHeldOnceAsync(connection, key, timeoutSeconds));

    private static async ValueTask<bool> IsHeldOnceAsync(NpgsqlConnection connection, AdvisoryKey key, int timeoutSeconds)
    {
        await using var command = connection.CreateCommand();
        command.CommandTimeout = timeoutSeconds;
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid() " +
            $"AND {AddLockRowKey(command, key)} AND granted)";
        return (bool)(await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false))!;
    }

    /// <summary>The backend pids of the other sessions that hold <paramref name="key"/> now (at most 4: a message names 3 and says if there are more).</summary>
    public static async ValueTask<List<int>> HolderPidsAsync(NpgsqlConnection connection, AdvisoryKey key)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_catalog.pg_backend_pid() " +
            $"AND {AddLockRowKey(command, key)} ORDER BY pid LIMIT 4";
        var pids = new List<int>();
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        while (await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids;
    }

    /// <summary>
    /// Runs one statement that a late cancel of the session's own (sent for a statement that ended first) may cancel in
    /// place of a later one; a broken connection is left to the session's next use to report.
    /// </summary>
    public static async ValueTask AbsorbLateCancelAsync(NpgsqlConnection connection)
    {
        try
        {
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled)
        {
            // The late cancel, spent here.
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The session broke: its next use says so.
        }
    }

    /// <summary>
    /// Releases <paramref name="key"/>; false when the session did not hold it. <paramref name="timeoutSeconds"/> is the
    /// command's timeout in whole seconds, 0 for none.
    /// </summary>
    public static ValueTask<bool> ReleaseAsync(NpgsqlConnection connection, AdvisoryKey key, bool shared, bool async, int timeoutSeconds = 0) =>
        AgainIfCanceledLate(() => ReleaseOnceAsync(connection, key, shared, async, timeoutSeconds));

    /// <summary>
    /// Runs <paramref name="statement"/>, and once more if it was cancelled: a cancel sent for a wait on this session (see
    /// PostgresSession) that ended just before it arrived lands on the next statement, and it cancels one statement only.
    /// </summary>
    private static async ValueTask<bool> AgainIfCanceledLate(Func<ValueTask<bool>> statement)
    {
        try
        {
            return await statement().ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled)
        {
            return await statement().ConfigureAwait(false);
        }
    }

    private static async ValueTask<bool> ReleaseOnceAsync(NpgsqlConnection connection, AdvisoryKey key, bool shared, bool async, int timeoutSeconds)
    {
        await using var command = connection.CreateCommand();
        command.CommandTimeout = timeoutSeconds;
        string args = AddKey(command.Parameters, key);
        command.CommandText = $"SELECT pg_catalog.pg_advisory_unlock{(shared ? "_shared" : string.Empty)}({args})";
        object? result = async ? await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) : command.ExecuteScalar();
        return result is true;
    }

    /// <summary>The indexes of the holds whose session no longer holds their key (or no longer exists).</summary>
    /// <remarks>
    /// The check's connection comes from the pool, where the server may have ended it while it was idle (an administrator's
    /// pg_terminate_backend, or a restart) while the holding sessions live on: that failure is no answer about the holds,
    /// and counted as one it cost every hold its lock. The query only reads, so it runs once more on a new connection, the
    /// pool's ended ones cleared; a second failure is the server's answer.
    /// </remarks>
    public static async ValueTask<List<int>> FindLostAsync(NpgsqlDataSource dataSource, List<PostgresHold> holds, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand();
            return await FindLostAsync(command, holds, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (EndedBeforeUse(e))
        {
            dataSource.Clear();
            await using var command = dataSource.CreateCommand();
            return await FindLostAsync(command, holds, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <see cref="FindLostAsync(NpgsqlDataSource, List{PostgresHold}, CancellationToken)"/> on a connection of the caller's,
    /// with a command timeout of <paramref name="timeoutSeconds"/> whole seconds.
    /// </summary>
    public static async ValueTask<List<int>> FindLostAsync(NpgsqlConnection connection, List<PostgresHold> holds, int timeoutSeconds, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandTimeout = timeoutSeconds;
        return await FindLostAsync(command, holds, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<List<int>> FindLostAsync(NpgsqlCommand command, List<PostgresHold> holds, CancellationToken cancellationToken)
    {
        var pids = new int[holds.Count];
        var his = new int[holds.Count];
        var los = new int[holds.Count];
        var subs = new int[holds.Count];
        for (int i = 0; i < holds.Count; i++)
        {
            pids[i] = holds[i].ProcessId;
            his[i] = holds[i].Key.Hi;
            los[i] = holds[i].Key.Lo;
            subs[i] = holds[i].Key.SubId;
        }

        command.CommandText =
            "SELECT (h.i - 1)::int4 FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int4[]) WITH ORDINALITY AS h(pid, hi, lo, sub, i) " +
            "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.pid = h.pid " +
            "AND l.classid = h.hi::oid AND l.objid = h.lo::oid AND l.objsubid = h.sub AND l.granted)";
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = pids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = his, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = los, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = subs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        var lost = new List<int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            lost.Add(reader.GetInt32(0));
        }

        return lost;
    }

    /// <summary>Adds the key's parameters; returns the argument list of the advisory functions.</summary>
    /// <summary>Adds <paramref name="key"/> as pg_locks identifies an advisory lock, and returns the condition on its row.</summary>
    private static string AddLockRowKey(NpgsqlCommand command, AdvisoryKey key)
    {
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = key.SubId });
        return "classid = $1::oid AND objid = $2::oid AND objsubid = $3";
    }

    private static string AddKey(NpgsqlParameterCollection parameters, AdvisoryKey key)
    {
        int first = parameters.Count + 1;
        if (key.SubId == AdvisoryKey.BigintForm)
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = key.BigintValue });
            return $"${first}";
        }

        parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        return $"${first}, ${first + 1}";
    }
}

/// <summary>
/// A connection new to a session was found ended before its first statement ran (it was ended while idle in the pool):
/// nothing was taken on it, and another connection may take its place. The server's error is the inner exception.
/// </summary>
internal sealed class StaleConnectionException(NpgsqlException inner)
    : Exception("The pooled connection had been ended before its first statement.", inner)
{
    public NpgsqlException Error => (NpgsqlException)InnerException!;
}

/// <summary>
/// A session's connection was found ended before its first statement, and no new one opened in its place (the server is
/// still down, or refuses the session): reported as the session that could not be opened, with <see cref="Error"/>.
/// </summary>
internal sealed class ReconnectFailedException(NpgsqlException inner)
    : Exception("No new connection opened in place of a pooled one the server had ended.", inner)
{
    public NpgsqlException Error => (NpgsqlException)InnerException!;
}
