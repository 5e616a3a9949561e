using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.ProcessTests;

/// <summary>
/// Two processes (not threads) moving money among 20 accounts of one PostgreSQL table through the generated wrappers
/// of tests/Locksmith.Postgres.TransferProcess, whose only protection is the distributed keyed lock: the balances are
/// read and written back, so a lost update would show. Each test has a table (and so locks) of its own.
/// </summary>
public sealed class TransferProcessTests
{
    private const int Accounts = 20;
    private const long Initial = 10_000;

    private static string ConnectionString { get; } =
        Environment.GetEnvironmentVariable("LOCKSMITH_POSTGRES") is { Length: > 0 } configured
            ? configured
            : "Host=127.0.0.1;Port=5432;Username=locksmith;Password=locksmith;Database=locksmith";

    /// <summary>
    /// 1,000 random transfers in each of two processes at once (both connect, then both are told to go), opposite
    /// directions included: both exit 0, every reported transfer is in the log, the total is exact, each balance is its
    /// start plus its logged moves, and the two processes' transfers interleave in the log.
    /// </summary>
    [Fact]
    public async Task TwoProcessesConserveTheTotal()
    {
        const int Transfers = 1_000;
        string table = await CreateTableAsync();
        try
        {
            using var first = TransferProcessRun.Start(ConnectionString, table, Transfers.ToString(), "1", "--wait-for-go");
            using var second = TransferProcessRun.Start(ConnectionString, table, Transfers.ToString(), "2", "--wait-for-go");
            await first.WaitForLineAsync("STARTED");
            await second.WaitForLineAsync("STARTED");
            await first.GoAsync();
            await second.GoAsync();
            int firstExit = await first.WaitForExitAsync();
            int secondExit = await second.WaitForExitAsync();
            Assert.True(firstExit == 0, first.Describe());
            Assert.True(secondExit == 0, second.Describe());

            Assert.Equal(Transfers, first.ReportedTransfers());
            Assert.Equal(Transfers, second.ReportedTransfers());
            var ledger = await ReadLedgerAsync(table);
            Assert.Equal(first.ReportedTransfers() + second.ReportedTransfers(), ledger.Moves.Count);
            Assert.Equal(Accounts * Initial, ledger.Balances.Values.Sum());
            AssertBalancesMatchTheLog(ledger);

            // The processes ran at the same time: in commit order, one's transfers come both before and after the other's.
            int switches = ledger.Moves.Zip(ledger.Moves.Skip(1)).Count(static pair => pair.First.Process != pair.Second.Process);
            Assert.True(switches >= 2, $"the log has the processes' transfers in {switches + 1} runs: they did not interleave");

            // Opposite directions did meet: some pair went one way in one process and the other way in the other.
            var byProcess = ledger.Moves.GroupBy(static m => m.Process).Select(static g => g.Select(static m => (m.From, m.To)).ToHashSet()).ToList();
            Assert.Equal(2, byProcess.Count);
            Assert.Contains(byProcess[0], pair => byProcess[1].Contains((pair.To, pair.From)));
        }
        finally
        {
            await DropTableAsync(table);
        }
    }

    /// <summary>
    /// A process killed mid-transfer (both keys held, writes made, not committed): the server ends its session, so
    /// its locks go and its transaction rolls back; the other process, waiting for the same two keys in the opposite
    /// direction, proceeds and finishes; the test then takes both keys through the library; no money is made or lost.
    /// </summary>
    [Fact]
    public async Task KilledHolderLosesItsLocksAndItsTransfer()
    {
        const int Transfers = 50;
        string table = await CreateTableAsync();
        try
        {
            await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
            {
                ConnectionString = ConnectionString,
                ConnectionBudget = 4,
                DefaultTimeout = TimeSpan.FromSeconds(60),
            });
            var accounts = provider.CreateKeyedLock<int>("accounts:" + table);

            // The pool's first connection opened now, with a timeout to spare: the try-once below gives an opening 2 s at
            // most, which a loaded machine overran (an NpgsqlException, "could not open a PostgreSQL session"). Key 0 is
            // no account's.
            await using (await accounts.AcquireAsync(0, TimeSpan.FromSeconds(60)))
            {
            }

            using var holder = TransferProcessRun.Start(ConnectionString, table, "1", "7", "--first", "3,5", "--pause-in-transfer");
            Assert.Equal("PAUSED-IN-TRANSFER from=3 to=5", await holder.WaitForLineAsync("PAUSED-IN-TRANSFER"));

            // The holder's keys are held on the server: this process cannot have them now.
            await using (var attempt = await accounts.TryAcquireAsync(3, TimeSpan.Zero))
            {
                Assert.False(attempt.IsAcquired);
            }

            using var other = TransferProcessRun.Start(ConnectionString, table, Transfers.ToString(), "8", "--first", "5,3");
            await other.WaitForLineAsync("STARTED");
            await using (var watcher = await OpenAsync())
            {
                await WaitUntilWaitingAsync(watcher, accounts.ClassId);
            }

            // The holder's writes are not committed: nobody sees them.
            var during = await ReadLedgerAsync(table);
            Assert.Empty(during.Moves);
            Assert.All(during.Balances.Values, static b => Assert.Equal(Initial, b));

            holder.Kill();

            Assert.True(await other.WaitForExitAsync() == 0, other.Describe());
            Assert.Equal(Transfers, other.ReportedTransfers());

            // The killed session's keys are free: the library takes both, in one ordered set.
            await using (var both = await accounts.AcquireManyAsync([5, 3]))
            {
                Assert.True(both.IsAcquired);
                Assert.Equal(2, both.Count);
            }

            var ledger = await ReadLedgerAsync(table);
            Assert.Equal(Transfers, ledger.Moves.Count);
            Assert.DoesNotContain(ledger.Moves, m => m.Process == $"{holder.ProcessId}:7");
            Assert.Contains(ledger.Moves, static m => (m.From, m.To) == (5, 3));
            Assert.Equal(Accounts * Initial, ledger.Balances.Values.Sum());
            AssertBalancesMatchTheLog(ledger);
        }
        finally
        {
            await DropTableAsync(table);
        }
    }

    /// <summary>Each balance is its start plus what the log moved in, less what it moved out: no update was lost.</summary>
    private static void AssertBalancesMatchTheLog(Ledger ledger)
    {
        var expected = Enumerable.Range(1, Accounts).ToDictionary(static id => id, static _ => Initial);
        foreach (var move in ledger.Moves)
        {
            expected[move.From] -= move.Amount;
            expected[move.To] += move.Amount;
        }

        Assert.Equal(expected.OrderBy(static p => p.Key), ledger.Balances.OrderBy(static p => p.Key));
        Assert.All(ledger.Balances.Values, static b => Assert.True(b >= 0));
    }

    private static async Task<string> CreateTableAsync()
    {
        string table = "transfers_" + Guid.NewGuid().ToString("N");
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            $"CREATE TABLE {table} (id int PRIMARY KEY, balance bigint NOT NULL); " +
            $"CREATE TABLE {table}_log (seq bigserial PRIMARY KEY, process text NOT NULL, from_id int NOT NULL, to_id int NOT NULL, amount bigint NOT NULL); " +
            $"INSERT INTO {table} (id, balance) SELECT g, {Initial} FROM generate_series(1, {Accounts}) AS g;",
            connection);
        await command.ExecuteNonQueryAsync();
        return table;
    }

    private static async Task DropTableAsync(string table)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand($"DROP TABLE IF EXISTS {table}; DROP TABLE IF EXISTS {table}_log;", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<Ledger> ReadLedgerAsync(string table)
    {
        await using var connection = await OpenAsync();
        var balances = new Dictionary<int, long>();
        await using (var command = new NpgsqlCommand($"SELECT id, balance FROM {table}", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                balances[reader.GetInt32(0)] = reader.GetInt64(1);
            }
        }

        var moves = new List<Move>();
        await using (var command = new NpgsqlCommand($"SELECT process, from_id, to_id, amount FROM {table}_log ORDER BY seq", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                moves.Add(new Move(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3)));
            }
        }

        Assert.Equal(Accounts, balances.Count);
        return new Ledger(balances, moves);
    }

    /// <summary>Waits (bounded by iterations) until some session waits on the server for a key of the lock class.</summary>
    private static async Task WaitUntilWaitingAsync(NpgsqlConnection watcher, int classId)
    {
        for (int i = 0; i < 3000; i++)
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid AND objsubid = 2", watcher);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (uint)classId });
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail("The other process never started waiting for the holder's keys.");
    }

    private static async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private sealed record Move(string Process, int From, int To, long Amount);

    private sealed record Ledger(Dictionary<int, long> Balances, List<Move> Moves);
}
