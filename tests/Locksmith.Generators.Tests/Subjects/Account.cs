using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>The seed's account: transfers take both accounts' locks in the global order.</summary>
public sealed partial class Account
{
    [LockOrder(10)]
    private readonly ExclusiveLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private decimal _balance;

    /// <summary>Opens an account.</summary>
    /// <param name="balance">The opening balance.</param>
    public Account(decimal balance) => _balance = balance;

    /// <summary>The account's lock, for tests.</summary>
    public ExclusiveLock Lock => _lock;

    /// <summary>The balance.</summary>
    [Guarded(Lock = nameof(_lock))]
    private decimal BalanceCore() => _balance;

    /// <summary>Moves money between two accounts.</summary>
    /// <param name="from">The account debited.</param>
    /// <param name="to">The account credited.</param>
    /// <param name="amount">The amount.</param>
    [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
    private static void TransferCore(Account from, Account to, decimal amount)
    {
        from._balance -= amount;
        to._balance += amount;
    }

    /// <summary>Moves money and charges a fee: three accounts' locks, of which two may be one account.</summary>
    /// <param name="from">The account debited.</param>
    /// <param name="to">The account credited.</param>
    /// <param name="fees">The account the fee goes to.</param>
    /// <param name="amount">The amount.</param>
    /// <param name="fee">The fee, debited from <paramref name="from"/> too.</param>
    [AcquiresLocksOf(nameof(from), nameof(to), nameof(fees), Lock = nameof(_lock))]
    private static void SettleCore(Account from, Account to, Account fees, decimal amount, decimal fee)
    {
        from._balance -= amount + fee;
        to._balance += amount;
        fees._balance += fee;
    }
}
