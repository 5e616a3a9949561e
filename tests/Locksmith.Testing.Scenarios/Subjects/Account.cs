namespace Locksmith.Testing.Scenarios.Subjects;

/// <summary>A bank account whose balance its own lock guards; a transfer holds both accounts' locks.</summary>
public sealed class Account
{
    private decimal _balance;

    /// <summary>Creates an account; every account's lock has the same order level, so only a <see cref="LockSet"/> may hold two.</summary>
    public Account(string owner, decimal balance)
    {
        Lock = new ExclusiveLock($"account:{owner}", level: 10);
        _balance = balance;
    }

    /// <summary>The lock that guards the balance.</summary>
    public ExclusiveLock Lock { get; }

    /// <summary>The balance; read it holding <see cref="Lock"/>, or after the flows are done.</summary>
    public decimal Balance => _balance;

    /// <summary>Moves money; the caller holds both locks.</summary>
    public static void MoveHeld(Account from, Account to, decimal amount)
    {
        from._balance -= amount;
        to._balance += amount;
    }
}
