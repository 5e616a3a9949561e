using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>A ledger whose audit path calls against the lock order, so a test sees the runtime refuse it.</summary>
public sealed partial class Ledger
{
    [LockOrder(10)]
    private readonly ExclusiveLock _accounts = new();

    [LockOrder(20)]
    private readonly ExclusiveLock _audit = new();

    private int _debits;

    /// <summary>Debits once.</summary>
    [Guarded(Lock = nameof(_accounts))]
    private void DebitCore() => _debits++;

    /// <summary>Audits, then debits: takes level 10 while holding level 20.</summary>
    [Guarded(Lock = nameof(_audit))]
    private void AuditThenDebitCore()
    {
        // The analyzer reports this call (LSM0022); the test checks that the runtime refuses it too.
#pragma warning disable LSM0022
        Debit();
#pragma warning restore LSM0022
    }
}
