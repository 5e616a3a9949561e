using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020 judges a receiver written as an array element (<c>all[i]</c>) or a conditional access (<c>other?.</c>) as the
/// object whose lock the scope takes when it is the same element (same array, same constant or same local or parameter
/// as index) or the object the conditional access tests: a guarded core called, or guarded state used, under
/// <c>using (all[i]._lock.Acquire())</c> is held. Before, only plain receivers matched, so a core call there (newly
/// reported by 48fd9fa) broke a build that treats warnings as errors. Another index, or another array, is still reported.
/// </summary>
public sealed class GuardedStateOfAnElementOrConditionalReceiverTests
{
    [Fact]
    public void LSM0020_OnlyWhereTheElementOrReceiverIsAnotherObjectThanTheOneLocked() => Compiles(DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _balance;

            [Guarded(Lock = nameof(_lock))]
            private void DepositCore(decimal amount) => _balance += amount;

            public static void Element(Account[] all, int i)
            {
                using (all[i]._lock.Acquire())
                {
                    all[i].DepositCore(1);
                    all[i]._balance -= 1;
                    {|LSM0020:all[i + 1].DepositCore(1)|};
                }
            }

            public static void Constant(Account[] all, Account[] others)
            {
                using var scope = all[0]._lock.Acquire();
                all[0].DepositCore(1);
                {|LSM0020:all[1].DepositCore(1)|};
                {|LSM0020:others[0].DepositCore(1)|};
            }

            public static void Conditional(Account? other)
            {
                if (other is null) return;
                using (other._lock.Acquire())
                {
                    other?.DepositCore(1);
                    _ = other?._balance;
                }
            }

            public static void ConditionalOfAnother(Account? other, Account mine)
            {
                using var scope = mine._lock.Acquire();
                other?{|LSM0020:.DepositCore(1)|};
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
