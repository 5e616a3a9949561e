using System;
using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>What a 40P01 names besides the locks: who holds what each session of the cycle waits for.</summary>
public sealed class PostgresDeadlockHolderTests
{
    /// <summary>
    /// A reader (a shared advisory hold) closes a cycle with a writer: before, the DeadlockException named the locks and
    /// no holder at all, and a shared hold has no single holder this process tracks. Now each wait of the cycle names the
    /// session it is blocked by, the flow when that session is one of this process's, the reader included.
    /// </summary>
    [Fact]
    public async Task ADeadlockThroughASharedHold_NamesTheReaderAsTheHolder()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        string prices = PostgresServer.Unique("prices"), ledger = PostgresServer.Unique("ledger");
        var bothHold = new CountdownEvent(2);

        // The reader holds prices shared, then wants the ledger; the writer holds the ledger, then wants to write prices.
        async Task<(DeadlockException? Error, int Pid)> Reader()
        {
            await using var read = await first.CreateReadWriteLock(prices).AcquireReadAsync();
            return (await ThenAsync(() => first.CreateExclusiveLock(ledger).AcquireAsync(TimeSpan.FromSeconds(60))), read.SessionProcessId);
        }

        async Task<(DeadlockException? Error, int Pid)> Writer()
        {
            await using var held = await second.CreateExclusiveLock(ledger).AcquireAsync();
            return (await ThenAsync(() => second.CreateReadWriteLock(prices).AcquireWriteAsync(TimeSpan.FromSeconds(60))), held.SessionProcessId);
        }

        async Task<DeadlockException?> ThenAsync(Func<ValueTask<PostgresLockScope>> acquire)
        {
            bothHold.Signal();
            if (!bothHold.Wait(TimeSpan.FromMinutes(2)))
            {
                throw new TimeoutException("The other flow never took its first lock (a hang guard, not a measurement).");
            }

            try
            {
                await using var then = await acquire();
                return null;
            }
            catch (DeadlockException e)
            {
                return e;
            }
        }

        Task<(DeadlockException? Error, int Pid)> reader, writer;
        using (ExecutionContext.SuppressFlow())
        {
            reader = Task.Run(Reader);
            writer = Task.Run(Writer);
        }

        var (readerError, readerPid) = await reader;
        var (writerError, writerPid) = await writer;
        var victim = Assert.Single(new[] { readerError, writerError }, static e => e is not null)!;

        // Both waits of the cycle, whoever the victim: the writer is blocked by the reader's shared hold, and named so.
        Assert.Matches(
            $@"flow #\d+[^;]* of this process \(backend pid {writerPid}\) waits for '{prices}' \(advisory lock [^)]+\), held by flow #\d+[^;]* of this process \(backend pid {readerPid}\)",
            victim.Message);
        Assert.Matches(
            $@"flow #\d+[^;]* of this process \(backend pid {readerPid}\) waits for '{ledger}' \(advisory lock [^)]+\), held by flow #\d+[^;]* of this process \(backend pid {writerPid}\)",
            victim.Message);
        Assert.Equal(0, first.ConnectionsInUse);
        Assert.Equal(0, second.ConnectionsInUse);
    }

    /// <summary>
    /// The victim of a cycle is named first, with its thread, as timeouts, cancellations and misuse name their flow: it
    /// read "PostgreSQL detected a deadlock and refused flow #3 ('…') its wait for …", the flow mid-sentence and no thread.
    /// The lock, the cycle, the advice and the server's detail are all still there.
    /// </summary>
    [Fact]
    public async Task ADeadlock_StartsWithTheVictimFlowAndItsThread()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        string cash = PostgresServer.Unique("cash"), stock = PostgresServer.Unique("stock");
        var bothHold = new CountdownEvent(2);

        Task<DeadlockException?> one, other;
        using (ExecutionContext.SuppressFlow())
        {
            one = Task.Run(() => PostgresServer.HoldThenAskAsync(first, cash, stock, bothHold, "pay-order"));
            other = Task.Run(() => PostgresServer.HoldThenAskAsync(second, stock, cash, bothHold, "restock"));
        }

        var victim = Assert.Single(new[] { await one, await other }, static e => e is not null)!;
        var start = Regex.Match(
            victim.Message,
            @"^Flow #\d+ \('(?<who>pay-order|restock)'\) \(on thread \d+( \('[^']*'\))?\) was waiting for '(?<what>[^']+)'.* when PostgreSQL " +
            "detected a deadlock and refused the wait: sessions wait for each other in a cycle over ");
        Assert.True(start.Success, victim.Message);
        Assert.Equal(start.Groups["who"].Value == "pay-order" ? stock : cash, start.Groups["what"].Value);
        Assert.Contains("Take the locks together through PostgresLockSet", victim.Message, StringComparison.Ordinal);
        Assert.Contains("Server detail: Process ", victim.Message, StringComparison.Ordinal);
    }
}
