using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A wrapper passed as a method group (<c>items.ForEach(Deposit)</c>, <c>Task.Run(Deposit)</c>) is called wherever the
/// delegate runs, as the lambda that calls it (<c>x =&gt; Deposit(x)</c>) would be: LSM0023, LSM0022 and LSM0027 report
/// it where they report the lambda form, and not where they do not.
/// </summary>
public sealed class WrapperPassedAsAMethodGroupTests
{
    /// <summary>
    /// LSM0023 (and LSM0022): run inline in a guarded core or a using scope of the lock; an async lock's also when
    /// started with the flow. Not for a deferred delegate of a synchronous lock, a returned query, work started under
    /// SuppressFlow, another object's wrapper, or code that holds nothing.
    /// </summary>
    [Fact]
    public void LSM0023_AMethodGroupRunInlineUnderTheHold() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) { }
            [Guarded(Lock = nameof(_lock))] private decimal PriceCore(decimal amount) => amount;
            [Guarded(Lock = nameof(_lock))] private decimal SweepCore(List<decimal> items, decimal[] xs, Account other)
            {
                items.ForEach({|LSM0023:Deposit|});
                Array.ForEach(xs, {|LSM0023:this.Deposit|});
                items.ForEach(new Action<decimal>({|LSM0023:Deposit|}));
                decimal sum = xs.Sum({|LSM0023:Price|});
                var list = xs.Select({|LSM0023:Price|}).ToList();
                foreach (var p in xs.Select({|LSM0023:Price|}))
                {
                    sum += p;
                }

                // Elsewhere, or later: another thread's wrapper waits for the hold; another object's lock is not held.
                Task.Run(() => items.ForEach(Deposit));
                Action<decimal> kept = Deposit;
                items.ForEach(other.Deposit);
                return sum + list.Count + kept.GetHashCode();
            }

            // Returned unenumerated: the caller enumerates it after the hold.
            [Guarded(Lock = nameof(_lock))] private IEnumerable<decimal> QueryCore(decimal[] xs) => xs.Select(Price);

            public void Scoped(List<decimal> items)
            {
                using (_lock.Acquire())
                {
                    items.ForEach({|LSM0023:Deposit|});
                }

                items.ForEach(Deposit);
            }
        }
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private async Task SweepCoreAsync(List<CancellationToken> tokens)
            {
                await Task.WhenAll(tokens.ConvertAll({|LSM0023:OpenAsync|}));
                await Task.WhenAll(tokens.Select({|LSM0023:OpenAsync|}).ToList());
                // Not known to run inline, but started with the flow, which carries the hold.
                await Task.WhenAll(tokens.Select({|LSM0023:OpenAsync|}));
                Task pending;
                using (ExecutionContext.SuppressFlow())
                {
                    pending = Task.WhenAll(tokens.Select(OpenAsync));
                }

                await pending;
            }

            [Guarded(Lock = nameof(_lock))] private async Task<IEnumerable<Task>> LaterCoreAsync(List<CancellationToken> tokens)
            {
                await Task.Yield();
                return tokens.Select(OpenAsync);
            }

            public async Task ScopedAsync(List<CancellationToken> tokens)
            {
                using (await _lock.AcquireAsync())
                {
                    await Task.WhenAll(tokens.ConvertAll({|LSM0023:OpenAsync|}));
                }

                await Task.WhenAll(tokens.ConvertAll(OpenAsync));
            }
        }
        public sealed partial class Till
        {
            [LockOrder(20)] private readonly ExclusiveLock _high = new();
            [LockOrder(10)] private readonly ExclusiveLock _low = new();
            [Guarded(Lock = nameof(_low))] private void TallyCore(int n) { }
            [Guarded(Lock = nameof(_high))] private void RingCore(List<int> items)
            {
                items.ForEach({|LSM0022:Tally|});
                Task.Run(() => items.ForEach(Tally));
            }
        }
        """));

    /// <summary>
    /// LSM0027: a synchronous lock's hold that waits, untimed, for a task that runs a wrapper of that lock passed as a
    /// method group. Not for a timed wait, a task not waited for or waited for after the scope, another object's
    /// wrapper, or a caller that holds nothing.
    /// </summary>
    [Fact]
    public void LSM0027_WaitingInAHoldForAMethodGroupThatTakesTheLock() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }
            [Guarded(Lock = nameof(_lock))] private decimal BalanceCore() => 0m;

            [Guarded(Lock = nameof(_lock))]
            private decimal FlushCore(Account other)
            {
                Task.Run({|LSM0027:Deposit|}).Wait();
                var kept = Task.Factory.StartNew({|LSM0027:Deposit|});
                kept.GetAwaiter().GetResult();
                Task.Run(Deposit).Wait(100);
                _ = Task.Run(Deposit);
                Task.Run(other.Deposit).Wait();
                return Task.Run({|LSM0027:Balance|}).Result;
            }

            public void Scoped()
            {
                Task later;
                using (_lock.Acquire())
                {
                    Task.Run({|LSM0027:Deposit|}).Wait();
                    later = Task.Run(Deposit);
                }

                later.Wait();
                Task.Run(Deposit).Wait();
            }
        }
        """));

    /// <summary>What LSM0023 says of a method group run inline is what happens: the wrapper throws LockRecursionException in the hold.</summary>
    [Fact]
    public void AWrapperPassedAsAMethodGroupToForEach_ThrowsInTheHold_AsLSM0023Says()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create("""
            using System.Collections.Generic;
            using Locksmith;
            namespace N;
            /// <summary>A core that passes a wrapper of its lock to ForEach.</summary>
            public sealed partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                private readonly List<decimal> _items = new() { 1m };
                [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) { }
                [Guarded(Lock = nameof(_lock))] private void EachCore() => _items.ForEach(Deposit);
            }
            """));
        Assert.Equal(["LSM0023 Deposit"], run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)));
        using var loaded = LoadedAssembly.Load(run, "method-group-for-each");
        var account = loaded.Create("N.Account");
        var thrown = Assert.Throws<System.Reflection.TargetInvocationException>(() => account.GetType().GetMethod("Each", System.Type.EmptyTypes)!.Invoke(account, null));
        Assert.IsType<System.Threading.LockRecursionException>(thrown.InnerException);
    }

    // A method group binds only where an overload fits the delegate: the cases must be ones that compile.
    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
