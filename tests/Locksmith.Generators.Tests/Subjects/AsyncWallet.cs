using System.Threading.Tasks;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>Wallets behind AsyncExclusiveLocks: transfers take both wallets' locks through a generated async wrapper.</summary>
public sealed partial class AsyncWallet
{
    [LockOrder(60)]
    private readonly AsyncExclusiveLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private long _balance;

    /// <summary>Opens a wallet.</summary>
    /// <param name="balance">The opening balance.</param>
    public AsyncWallet(long balance) => _balance = balance;

    /// <summary>The wallet's lock, for tests.</summary>
    public AsyncExclusiveLock Lock => _lock;

    /// <summary>The balance.</summary>
    /// <returns>The balance.</returns>
    [Guarded(Lock = nameof(_lock))]
    private ValueTask<long> BalanceCoreAsync() => new(_balance);

    /// <summary>Moves money, yielding between the debit's read and the writes: exact only if both locks are held across the await.</summary>
    /// <param name="from">The wallet debited.</param>
    /// <param name="to">The wallet credited.</param>
    /// <param name="amount">The amount.</param>
    [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
    private static async Task TransferCoreAsync(AsyncWallet from, AsyncWallet to, long amount)
    {
        long fromBalance = from._balance;
        long toBalance = to._balance;
        await Task.Yield();
        from._balance = fromBalance - amount;
        to._balance = toBalance + amount;
    }

    /// <summary>Whether the calling flow holds both wallets' locks inside the wrapper.</summary>
    /// <param name="a">One wallet.</param>
    /// <param name="b">The other.</param>
    /// <returns>What the locks report inside the wrapper.</returns>
    [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock), TimeoutMilliseconds = 5000)]
    private static ValueTask<bool> HoldsBothCoreAsync(AsyncWallet a, AsyncWallet b) =>
        new(a._lock.IsHeldByCurrentFlow && b._lock.IsHeldByCurrentFlow);
}
