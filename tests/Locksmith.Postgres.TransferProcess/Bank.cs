using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.TransferProcess;

/// <summary>
/// Accounts whose balances live in a PostgreSQL table, guarded by one distributed keyed lock (a key per account id):
/// every process that runs a Bank over the same table takes the same advisory locks. The balances are read, then
/// written back as computed here (no <c>FOR UPDATE</c>, no <c>balance = balance - x</c>), so only the locks keep two
/// processes from losing each other's updates.
/// </summary>
internal sealed partial class Bank
{
    [LockOrder(10)]
    private readonly PostgresKeyedLock<int> _accounts;

    private readonly NpgsqlDataSource _data;
    private readonly string _table;
    private readonly string _log;
    private readonly string _process;
    private readonly Func<int, int, long, CancellationToken, Task>? _beforeCommit;

    /// <param name="provider">The lock provider (its own connections).</param>
    /// <param name="data">Connections for the table (not the locks').</param>
    /// <param name="table">The balances table; the transfers log is <c>{table}_log</c>.</param>
    /// <param name="process">This process's name in the log.</param>
    /// <param name="beforeCommit">Runs inside a transfer, after its writes and before its commit (the pause of a test).</param>
    public Bank(PostgresLockProvider provider, NpgsqlDataSource data, string table, string process, Func<int, int, long, CancellationToken, Task>? beforeCommit = null)
    {
        // The lock's name is its identity in every process: the table's, so each test's bank has its own locks.
        _accounts = provider.CreateKeyedLock<int>("accounts:" + table);
        _data = data;
        _table = table;
        _log = table + "_log";
        _process = process;
        _beforeCommit = beforeCommit;
    }

    /// <summary>
    /// Moves up to <paramref name="amount"/> from one account to another (what <paramref name="from"/> has, if less),
    /// in one transaction; the wrapper holds both accounts' keys, taken together in key order, for all of it.
    /// Returns the amount moved.
    /// </summary>
    [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_accounts))]
    private async Task<long> TransferCoreAsync(int from, int to, long amount, CancellationToken cancellationToken)
    {
        await using var connection = await _data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long fromBalance = 0;
        long toBalance = 0;
        await using (var read = new NpgsqlCommand($"SELECT id, balance FROM {_table} WHERE id = $1 OR id = $2", connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = from });
            read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = to });
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetInt32(0) == from)
                {
                    fromBalance = reader.GetInt64(1);
                }
                else
                {
                    toBalance = reader.GetInt64(1);
                }
            }
        }

        // The new balances as computed here, and the log row: one round trip.
        long moved = Math.Min(amount, fromBalance);
        await using (var write = new NpgsqlBatch(connection, transaction))
        {
            write.BatchCommands.Add(Update(from, fromBalance - moved));
            write.BatchCommands.Add(Update(to, toBalance + moved));
            var log = new NpgsqlBatchCommand($"INSERT INTO {_log} (process, from_id, to_id, amount) VALUES ($1, $2, $3, $4)");
            log.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _process });
            log.Parameters.Add(new NpgsqlParameter<int> { TypedValue = from });
            log.Parameters.Add(new NpgsqlParameter<int> { TypedValue = to });
            log.Parameters.Add(new NpgsqlParameter<long> { TypedValue = moved });
            write.BatchCommands.Add(log);
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_beforeCommit is { } pause)
        {
            await pause(from, to, moved, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return moved;
    }

    /// <summary>One account's balance, read under its key.</summary>
    [Guarded(Lock = nameof(_accounts), StripeBy = nameof(account))]
    private async Task<long> BalanceCoreAsync(int account, CancellationToken cancellationToken)
    {
        await using var connection = await _data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(connection, account, cancellationToken).ConfigureAwait(false);
    }

    private async Task<long> ReadAsync(NpgsqlConnection connection, int account, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT balance FROM {_table} WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = account });
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private NpgsqlBatchCommand Update(int account, long balance)
    {
        var command = new NpgsqlBatchCommand($"UPDATE {_table} SET balance = $2 WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = account });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = balance });
        return command;
    }
}
