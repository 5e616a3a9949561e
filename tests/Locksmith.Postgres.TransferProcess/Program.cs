using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Postgres;
using Locksmith.Postgres.TransferProcess;
using Npgsql;

// A process of its own for tests/Locksmith.Postgres.ProcessTests: random transfers among the accounts of a table,
// through the Bank's generated wrappers over a distributed keyed lock.
//
//   dotnet Locksmith.Postgres.TransferProcess.dll <connection string> <table> <transfers> <seed>
//       [--first <from>,<to>]      the first transfer moves between these two accounts
//       [--pause-in-transfer]      the first transfer stops after its writes, before its commit, holding both keys,
//                                  prints "PAUSED-IN-TRANSFER from=<f> to=<t>" and waits to be killed
//       [--wait-for-go]            after "STARTED", waits for a line "GO" on standard input (so two processes start
//                                  transferring together)
//
// It prints "STARTED" once connected (one balance read: both pools open), then "TRANSFERS <n>" (transfers committed) and exits 0; any failure exits 1.
const int Accounts = 20;
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: <connection string> <table> <transfers> <seed> [--first a,b] [--pause-in-transfer]");
    return 2;
}

string connectionString = args[0];
string table = args[1];
int transfers = int.Parse(args[2], CultureInfo.InvariantCulture);
int seed = int.Parse(args[3], CultureInfo.InvariantCulture);
bool pause = Array.IndexOf(args, "--pause-in-transfer") >= 0;
bool waitForGo = Array.IndexOf(args, "--wait-for-go") >= 0;
(int From, int To)? first = null;
int firstIndex = Array.IndexOf(args, "--first");
if (firstIndex >= 0 && firstIndex + 1 < args.Length)
{
    string[] pair = args[firstIndex + 1].Split(',');
    first = (int.Parse(pair[0], CultureInfo.InvariantCulture), int.Parse(pair[1], CultureInfo.InvariantCulture));
}

Func<int, int, long, CancellationToken, Task>? beforeCommit = null;
if (pause)
{
    beforeCommit = static async (from, to, _, cancellationToken) =>
    {
        // The marker the test waits for: both keys are held and the writes are made but not committed.
        Console.Out.WriteLine($"PAUSED-IN-TRANSFER from={from} to={to}");
        Console.Out.Flush();
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    };
}

try
{
    await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
    {
        ConnectionString = connectionString,
        ConnectionBudget = 4,
        // Bounded waits: a lock that is never released fails this process instead of hanging it.
        DefaultTimeout = TimeSpan.FromSeconds(60),
    });
    await using var data = NpgsqlDataSource.Create(connectionString);
    var bank = new Bank(provider, data, table, $"{Environment.ProcessId}:{seed}", beforeCommit);

    // Connected before STARTED (the lock's pool, the data's pool, the code run once): a process told GO starts its transfers
    // at once, so two told together overlap instead of one finishing while the other still opens its connections.
    await bank.BalanceAsync(1, CancellationToken.None).ConfigureAwait(false);
    Console.Out.WriteLine("STARTED");
    Console.Out.Flush();
    if (waitForGo && await Console.In.ReadLineAsync().ConfigureAwait(false) != "GO")
    {
        Console.Error.WriteLine("expected GO on standard input");
        return 1;
    }

    var random = new Random(seed);
    int committed = 0;
    for (int i = 0; i < transfers; i++)
    {
        int from = random.Next(1, Accounts + 1);
        int to = random.Next(1, Accounts);
        to = to >= from ? to + 1 : to;
        if (i == 0 && first is { } pair)
        {
            (from, to) = pair;
        }

        await bank.TransferAsync(from, to, random.Next(1, 200), CancellationToken.None).ConfigureAwait(false);
        committed++;
    }

    long total = 0;
    for (int account = 1; account <= Accounts; account++)
    {
        total += await bank.BalanceAsync(account, CancellationToken.None).ConfigureAwait(false);
    }

    // The sum of reads one key at a time: only a hint while other processes transfer; the test checks the table.
    Console.Out.WriteLine($"TRANSFERS {committed}");
    Console.Out.WriteLine($"TOTAL-SEEN {total}");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine(e.ToString());
    return 1;
}
