using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020's advice names the lock through the receiver the code used (<c>other._lock.Acquire()</c> for
/// <c>other.DepositCore(1)</c>), at a core call as at a field. Where that cannot be written — the lock is private to
/// another type, the receiver is not a plain expression to repeat (<c>all[i + 1]</c>, <c>Find(a)</c>, <c>other?.</c>,
/// whose <c>other._lock</c> would be CS8602 on a nullable receiver) — it said <c>_lock.Acquire()</c>, this object's lock
/// (none at all in a static method), which does not compile or takes the wrong lock: now it gives the wrapper advice
/// without a code line.
/// </summary>
public sealed class LSM0020AdviceThroughTheReceiverTests
{
    [Fact]
    public void LSM0020_AdviceNamesTheLockThroughTheReceiver_OrNoCodeLineWhereNoneCompiles() => Compiles(DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] internal decimal _balance;

            [Guarded(Lock = nameof(_lock))]
            private void DepositCore(decimal amount) => _balance += amount;

            public void This() { {|LSM0020:DepositCore(1)|}; _ = {|LSM0020:_balance|}; }
            public void Other(Account other) { {|LSM0020:other.DepositCore(1)|}; _ = {|LSM0020:other._balance|}; }
            public void Element(Account[] all, int i) { {|LSM0020:all[i + 1].DepositCore(1)|}; _ = {|LSM0020:all[i + 1]._balance|}; }
            public void Conditional(Account? other) { _ = other?{|LSM0020:._balance|}; other?{|LSM0020:.DepositCore(1)|}; }
            public static void Static(Account a) { {|LSM0020:Find(a).DepositCore(1)|}; _ = {|LSM0020:Find(a)._balance|}; _ = {|LSM0020:a._balance|}; }
            private static Account Find(Account a) => a;
        }

        public sealed class Report
        {
            public decimal Of(Account account) => {|LSM0020:account._balance|};
            public int Open(Ledger ledger) => {|LSM0020:ledger._open|} + {|LSM0020:Ledger.s_entries|};
        }

        public sealed class Ledger
        {
            internal readonly ExclusiveLock _gate = new();
            internal static readonly ExclusiveLock s_gate = new();
            [Guarded(Lock = nameof(_gate))] internal int _open;
            [Guarded(Lock = nameof(s_gate))] internal static int s_entries;
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
