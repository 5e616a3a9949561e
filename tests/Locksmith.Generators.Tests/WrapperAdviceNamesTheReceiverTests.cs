using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020's advice for a guarded core called on another object without its lock names that object's wrapper through
/// the receiver (<c>await its wrapper 'other.DepositAsync'</c>, <c>'items[0].Deposit'</c>, <c>'other?.Deposit'</c>), as
/// the lock in the same advice is named (<c>other._lock</c>): it said <c>'DepositAsync'</c>, which called here is this
/// object's. A core of this object (implicit or <c>this.</c>) and a static one keep the wrapper's name alone.
/// </summary>
public sealed class WrapperAdviceNamesTheReceiverTests
{
    [Fact]
    public void LSM0020_AtACoreOfAnotherObject_NamesItsWrapperThroughTheReceiver()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                private static readonly ExclusiveLock s_lock = new();
                [Guarded(Lock = nameof(_lock))] private int _balance;
                [Guarded(Lock = nameof(_async))] private int _pending;
                [Guarded(Lock = nameof(s_lock))] private static int s_total;

                [Guarded(Lock = nameof(_lock))]
                private void DepositCore(int amount) => _balance += amount;

                [Guarded(Lock = nameof(_async))]
                private Task DepositCoreAsync(int amount) { _pending += amount; return Task.CompletedTask; }

                [Guarded(Lock = nameof(s_lock))]
                private static void TotalCore() => s_total++;

                public static async Task Other(Account other, Account[] items, Account maybe, List<int> amounts)
                {
                    await {|LSM0020:other.DepositCoreAsync(1)|};
                    {|LSM0020:other.DepositCore(1)|};
                    {|LSM0020:items[0].DepositCore(1)|};
                    maybe?{|LSM0020:.DepositCore(1)|};
                    amounts.ForEach({|LSM0020:other.DepositCore|});
                    {|LSM0020:Account.TotalCore()|};
                }

                public void Own()
                {
                    {|LSM0020:DepositCore(1)|};
                    {|LSM0020:this.DepositCore(1)|};
                }
            }
            """);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        Assert.Contains(messages, static m => m.Contains("await its wrapper 'other.DepositAsync'"));
        Assert.Contains(messages, static m => m.Contains("call its wrapper 'other.Deposit'"));
        Assert.Contains(messages, static m => m.Contains("call its wrapper 'items[0].Deposit'"));
        Assert.Contains(messages, static m => m.Contains("call its wrapper 'maybe?.Deposit'"));
        Assert.Contains(messages, static m => m.Contains("give 'List.ForEach' its wrapper 'other.Deposit' in its place"));
        Assert.Equal(2, messages.Count(static m => m.Contains("call its wrapper 'Deposit'")));
        Assert.Contains(messages, static m => m.Contains("call its wrapper 'Total'"));
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
