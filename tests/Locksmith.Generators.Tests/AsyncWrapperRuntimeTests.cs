using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Subjects;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Calls async wrappers the real generator wrote into the Subjects project over the real async locks:
/// AsyncReadWriteLock ([ReadMostly]), AsyncStripedLock&lt;string&gt; (StripeBy) and AsyncExclusiveLock through the
/// async LockSet ([AcquiresLocksOf]). Every core yields inside the lock, so a wrapper that let go early loses updates.
/// </summary>
public sealed class AsyncWrapperRuntimeTests
{
    [Fact]
    public async Task ReadMostly_AsyncReadWriteLock_ConcurrentReadersAndWriters_CounterIsExact_AndNoReadIsTorn()
    {
        const int Writes = 10_000;
        const int Reads = 10_000;
        var book = new AsyncPriceBook();

        var writers = Enumerable.Range(0, Writes).Select(_ => Task.Run(() => book.BumpAsync()));
        var readers = Enumerable.Range(0, Reads).Select(_ => Task.Run(async () => await book.ReadTwiceAsync()));
        var reading = Task.WhenAll(readers);
        await Task.WhenAll(writers.Append(reading));
        var readings = await reading;

        // A writer between a reader's two reads would make them differ.
        Assert.All(readings, r => Assert.Equal(r.First, r.Second));
        Assert.Equal(Writes, (await book.ReadTwiceAsync()).First);
        Assert.True(await book.HoldsReadAsync());
        Assert.Equal("Locksmith.Generators.Subjects.AsyncPriceBook._lock", book.Lock.Name);
        Assert.Equal(50, book.Lock.Level);
        Assert.Equal(ReadWritePolicy.WriterPreferred, book.Lock.Policy);
        Assert.False(book.Lock.IsWriteHeld);
        Assert.Equal(0, book.Lock.CurrentReaderCount);
    }

    [Fact]
    public async Task ReadMostly_ReadWrapper_SharesWithAnotherReader_ButShutsOutTheWriteWrapper()
    {
        var book = new AsyncPriceBook();
        await book.BumpAsync();

        var (holder, release) = await HoldReadInAnotherFlow(book.Lock);
        (bool Acquired, (long First, long Second) Result) read = await book.TryReadTwiceAsync(TimeSpan.Zero);
        bool wrote = await book.TryBumpAsync(TimeSpan.Zero);
        release.SetResult();
        await holder;

        Assert.True(read.Acquired);
        Assert.Equal((1L, 1L), read.Result);
        Assert.False(wrote);
        Assert.True(await book.TryBumpAsync(TimeSpan.Zero));
        Assert.Equal(2, (await book.ReadTwiceAsync()).First);
    }

    [Fact]
    public async Task StripeBy_AsyncStripedLock_PerKeyCountsAreExact_Over10000Calls()
    {
        const int Calls = 10_000;
        string[] skus = [.. Enumerable.Range(0, 16).Select(static i => "sku-" + i)];
        var stock = new AsyncStock(skus);

        // 16 keys over 8 stripes: keys that share a stripe serialize, the rest run side by side.
        var calls = Enumerable.Range(0, Calls).Select(i => Task.Run(() => stock.AddOneAsync(skus[i % skus.Length])));
        await Task.WhenAll(calls);

        foreach (string sku in skus)
        {
            Assert.Equal(Calls / skus.Length, await stock.CountAsync(sku));
        }

        Assert.Equal("Locksmith.Generators.Subjects.AsyncStock._stripes", stock.Lock.Name);
        Assert.All(skus, sku => Assert.False(stock.Lock.IsHeldByCurrentFlow(sku)));
    }

    [Fact]
    public async Task AcquiresLocksOf_AsyncExclusiveLocks_10000RandomTransfersFrom40Flows_KeepTheTotalExact()
    {
        const int Flows = 40;
        const int TransfersPerFlow = 250;
        const long Opening = 100_000;
        var a = new AsyncWallet(Opening);
        var b = new AsyncWallet(Opening);

        // Each flow returns how much it moved from a to b in all, so the end balances are known exactly.
        var flows = Enumerable.Range(0, Flows).Select(flow => Task.Run(async () =>
        {
            var random = new Random(1_000 + flow);
            long movedAToB = 0;
            for (int i = 0; i < TransfersPerFlow; i++)
            {
                long amount = random.Next(1, 100);
                if (random.Next(2) == 0)
                {
                    await AsyncWallet.TransferAsync(a, b, amount);
                    movedAToB += amount;
                }
                else
                {
                    await AsyncWallet.TransferAsync(b, a, amount);
                    movedAToB -= amount;
                }
            }

            return movedAToB;
        })).ToArray();
        long[] moved = await Task.WhenAll(flows);

        long balanceA = await a.BalanceAsync();
        long balanceB = await b.BalanceAsync();
        Assert.Equal(2 * Opening, balanceA + balanceB);
        Assert.Equal(Opening - moved.Sum(), balanceA);
        Assert.Equal(Opening + moved.Sum(), balanceB);
        Assert.True(await AsyncWallet.HoldsBothAsync(a, b));
        Assert.False(a.Lock.IsHeldByCurrentFlow);
        Assert.False(b.Lock.IsHeldByCurrentFlow);
        Assert.Equal("Locksmith.Generators.Subjects.AsyncWallet._lock", a.Lock.Name);
        Assert.Equal(60, b.Lock.Level);
    }

    [Fact]
    public async Task AcquiresLocksOf_TimedAsyncForm_ReturnsFalse_WhileOneWalletIsHeld_AndHoldsNeither()
    {
        var a = new AsyncWallet(10);
        var b = new AsyncWallet(10);
        await AsyncWallet.TransferAsync(a, b, 1);

        var (holder, release) = await HoldInAnotherFlow(b.Lock);
        bool moved = await AsyncWallet.TryTransferAsync(TimeSpan.FromMilliseconds(10), a, b, 5);
        bool aFreeMeanwhile = await a.TryBalanceAsync(TimeSpan.Zero) is (true, 9);
        release.SetResult();
        await holder;

        Assert.False(moved);
        Assert.True(aFreeMeanwhile);
        Assert.True(await AsyncWallet.TryTransferAsync(TimeSpan.Zero, a, b, 5));
        Assert.Equal(4, await a.BalanceAsync());
        Assert.Equal(16, await b.BalanceAsync());
    }

    /// <summary>
    /// Two named parameters may be one wallet at run time: every async wrapper form (the pair, the timed attribute's list,
    /// the Try form) takes its lock once, though LockSet's list forms refuse a lock listed twice.
    /// </summary>
    [Fact]
    public async Task AcquiresLocksOf_TheSameWalletTwice_TakesItsLockOnce_InEveryAsyncWrapperForm()
    {
        var a = new AsyncWallet(10);

        await AsyncWallet.TransferAsync(a, a, 5);
        Assert.True(await AsyncWallet.TryTransferAsync(TimeSpan.FromSeconds(5), a, a, 5));
        Assert.True(await AsyncWallet.HoldsBothAsync(a, a));

        // The core reads both balances before it writes them, so a transfer to itself credits: 10 + 5 + 5.
        Assert.Equal(20, await a.BalanceAsync());
        Assert.False(a.Lock.IsHeld);
    }

    /// <summary>Takes the lock in a flow of its own until released.</summary>
    private static async Task<(Task Holder, TaskCompletionSource Release)> HoldInAnotherFlow(AsyncExclusiveLock asyncLock)
    {
        var acquired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(async () =>
        {
            using var scope = await asyncLock.AcquireAsync();
            acquired.SetResult();
            await release.Task;
        });
        await acquired.Task;
        return (holder, release);
    }

    /// <summary>Takes the read lock in a flow of its own until released.</summary>
    private static async Task<(Task Holder, TaskCompletionSource Release)> HoldReadInAnotherFlow(AsyncReadWriteLock asyncLock)
    {
        var acquired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(async () =>
        {
            using var scope = await asyncLock.AcquireReadAsync();
            acquired.SetResult();
            await release.Task;
        });
        await acquired.Task;
        return (holder, release);
    }
}
