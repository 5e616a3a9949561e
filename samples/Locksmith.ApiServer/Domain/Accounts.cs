using System;
using System.Collections.Generic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Locksmith.ApiServer;

/// <summary>
/// One account with its own lock (<c>account-N</c> in the container, all at one level). A transfer takes both
/// accounts' locks at once in the global order (level, then lock id) through the generated <c>Transfer</c>, so two
/// opposite transfers cannot deadlock, and records itself in the <see cref="TransferJournal"/> (a higher level) while
/// holding them: that nesting shows as edges on <c>/locks</c>.
/// </summary>
public sealed partial class Account(int id, ExclusiveLock accountLock, decimal opening)
{
    [LockOrder(ApiServerLocks.AccountsLevel)]
    private readonly ExclusiveLock _lock = accountLock;

    [Guarded(Lock = nameof(_lock))]
    private decimal _balance = opening;

    /// <summary>The account's number.</summary>
    public int Id { get; } = id;

    [Guarded(Lock = nameof(_lock), WrapperName = "Balance")]
    private decimal ReadBalance() => _balance;

    /// <summary>Moves <paramref name="amount"/> unless <paramref name="from"/> lacks it; false then.</summary>
    [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
    private static bool TransferCore(Account from, Account to, decimal amount, TransferJournal journal)
    {
        if (from._balance < amount)
        {
            return false;
        }

        // The journal first: its wait can time out (a 503 the client retries), and then no money may have moved yet.
        journal.Record(amount);
        from._balance -= amount;
        to._balance += amount;
        return true;
    }

    /// <summary>
    /// Every balance read while all the accounts' locks are held together (one <see cref="LockSet"/>, in the global
    /// order), so a transfer is seen whole or not at all and the sum is the conserved total even while transfers run.
    /// </summary>
    internal static decimal[] SnapshotBalances(Account[] accounts)
    {
        using var scope = LockSet.AcquireLocksOf(LocksOf(accounts));
        var balances = new decimal[accounts.Length];
#pragma warning disable LSM0020 // the set above holds every account's lock; the analyzer follows only named objects
        for (int i = 0; i < accounts.Length; i++)
        {
            balances[i] = accounts[i]._balance;
        }
#pragma warning restore LSM0020
        return balances;
    }

    /// <summary>
    /// Every account back to <paramref name="opening"/> under all the accounts' locks at once, so a transfer running
    /// meanwhile lands wholly before or after the reset, never half on each side of it; then the journal to 0 (after
    /// the accounts, so /locks keeps one account → journal nesting per transfer).
    /// </summary>
    internal static void ResetAll(Account[] accounts, decimal opening, TransferJournal journal)
    {
        using (LockSet.AcquireLocksOf(LocksOf(accounts)))
        {
#pragma warning disable LSM0020 // the set above holds every account's lock
            foreach (var account in accounts)
            {
                account._balance = opening;
            }
#pragma warning restore LSM0020
        }

        journal.Reset();
    }

    private static ILockSetMember[] LocksOf(Account[] accounts)
    {
        var locks = new ILockSetMember[accounts.Length];
        for (int i = 0; i < accounts.Length; i++)
        {
            locks[i] = accounts[i]._lock;
        }

        return locks;
    }
}

/// <summary>Counts the transfers made, under the <c>journal</c> lock, taken while both accounts are held.</summary>
public sealed partial class TransferJournal([FromKeyedServices(ApiServerLocks.Journal)] ExclusiveLock journalLock)
{
    [LockOrder(ApiServerLocks.JournalLevel)]
    private readonly ExclusiveLock _lock = journalLock;

    [Guarded(Lock = nameof(_lock))]
    private long _count;

    [Guarded(Lock = nameof(_lock))]
    private decimal _volume;

    [Guarded(Lock = nameof(_lock))]
    private void RecordCore(decimal amount)
    {
        _count++;
        _volume += amount;
    }

    [Guarded(Lock = nameof(_lock), WrapperName = "Totals")]
    private (long Count, decimal Volume) ReadTotals() => (_count, _volume);

    [Guarded(Lock = nameof(_lock))]
    private void ResetCore()
    {
        _count = 0;
        _volume = 0;
    }
}

/// <summary>The accounts, each with its container lock <c>account-N</c>, and the money they hold between them.</summary>
public sealed class Bank
{
    private readonly Account[] _accounts;
    private readonly TransferJournal _journal;

    /// <summary>Resolves each account's lock from the container by its name.</summary>
    public Bank(IServiceProvider services, IOptions<ApiServerOptions> options, TransferJournal journal)
    {
        var settings = options.Value;
        _journal = journal;
        OpeningBalance = settings.OpeningBalance;
        _accounts = new Account[settings.Accounts];
        for (int i = 0; i < _accounts.Length; i++)
        {
            _accounts[i] = new Account(i, services.GetRequiredKeyedService<ExclusiveLock>(ApiServerLocks.Account(i)), OpeningBalance);
        }
    }

    /// <summary>How many accounts there are.</summary>
    public int Count => _accounts.Length;

    /// <summary>Each account's balance at the start (and after a reset).</summary>
    public decimal OpeningBalance { get; }

    /// <summary>What the accounts hold between them whatever the transfers: the conservation law.</summary>
    public decimal ExpectedTotal => OpeningBalance * _accounts.Length;

    /// <summary>The journal the transfers record into.</summary>
    public TransferJournal Journal => _journal;

    /// <summary>Whether both numbers name accounts.</summary>
    public bool Has(int id) => (uint)id < (uint)_accounts.Length;

    /// <summary>Moves money between two distinct accounts; false when the source lacks it.</summary>
    public bool Transfer(int from, int to, decimal amount) => Account.Transfer(_accounts[from], _accounts[to], amount, _journal);

    /// <summary>Every balance at one moment (all accounts held together), so they sum to the conserved total.</summary>
    public IReadOnlyList<decimal> Balances() => Account.SnapshotBalances(_accounts);

    /// <summary>Every account back to its opening balance, the journal to 0, at one moment.</summary>
    public void Reset() => Account.ResetAll(_accounts, OpeningBalance, _journal);
}
