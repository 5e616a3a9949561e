using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lambda (or a local function made a delegate) passed to a method that runs it inline, on the calling thread
/// before it returns (<c>List&lt;T&gt;.ForEach</c>, <c>Array.ForEach</c>, <c>Sort</c> with a comparison, an immediate
/// <c>Enumerable</c> operator, a deferred one whose query is enumerated in the same expression), runs under the
/// caller's holds: a wrapper of a held lock called there fails with LockRecursionException, for a synchronous lock as
/// for an async one, so LSM0023 reports it and says why. A deferred query returned out of the hold runs after it.
/// </summary>
public sealed class WrapperCalledInAnInlineDelegateTests
{
    [Fact]
    public void LSM0023_InADelegateRunInline_UnderTheHold() => DiagnosticCheck.Verify("""
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
            [Guarded(Lock = nameof(_lock))] private decimal SweepCore(List<decimal> items, decimal[] xs)
            {
                items.ForEach(x => {|LSM0023:Deposit(x)|});
                Array.ForEach(xs, x => { {|LSM0023:Deposit(x)|}; });
                items.Sort((a, b) => {|LSM0023:Price(a)|}.CompareTo(b));
                Array.Sort(xs, (a, b) => a.CompareTo({|LSM0023:Price(b)|}));
                var list = xs.Select(x => {|LSM0023:Price(x)|}).ToList();
                decimal sum = xs.Sum(x => {|LSM0023:Price(x)|});
                foreach (var p in xs.Select(x => {|LSM0023:Price(x)|}))
                {
                    sum += p;
                }

                sum += xs.Where(x => x > 0).Select(x => {|LSM0023:Price(x)|}).OrderBy(x => x).First();
                sum += (from x in xs where x > 0 select {|LSM0023:Price(x)|}).Sum();
                var copy = new List<decimal>(xs.Select(x => {|LSM0023:Price(x)|}));
                items.ForEach(x => xs.ToList().ForEach(y => {|LSM0023:Deposit(y)|}));
                void Local(decimal x) => {|LSM0023:Deposit(x)|};
                items.ForEach(Local);

                // Elsewhere, or later: another thread's wrapper waits for the hold.
                Task.Run(() => items.ForEach(x => Deposit(x)));
                Task.Run(() => xs.Sum(x => Price(x)));
                Func<decimal, decimal> kept = x => Price(x);
                void Started() => Deposit(1m);
                Task.Run(() => items.ForEach(_ => Started()));
                var nested = xs.Select(x => xs.Select(y => Price(y))).ToList();
                return sum + list.Count + copy.Count + nested.Count + kept.GetHashCode();
            }

            // Returned unenumerated: the caller enumerates it after the hold.
            [Guarded(Lock = nameof(_lock))] private IEnumerable<decimal> QueryCore(decimal[] xs) => xs.Select(x => Price(x));
            [Guarded(Lock = nameof(_lock))] private IEnumerable<decimal> OrderedCore(decimal[] xs)
            {
                return xs.Where(x => x > 0).Select(x => Price(x)).OrderBy(x => x);
            }

            public decimal Scoped(List<decimal> items)
            {
                using var s = _lock.Acquire();
                items.ForEach(x => {|LSM0023:Deposit(x)|});
                return items.Sum(x => {|LSM0023:Price(x)|});
            }

            public IEnumerable<decimal> ScopedQuery(List<decimal> items)
            {
                using var s = _lock.Acquire();
                return items.Select(x => Price(x));
            }
        }
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync(int n) => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private async Task SweepCoreAsync(List<int> items)
            {
                items.ForEach(x => _ = {|LSM0023:OpenAsync(x)|});
                await Task.WhenAll(items.Select(x => {|LSM0023:OpenAsync(x)|}).ToList());
                await Task.WhenAll(items.Select(x => {|LSM0023:OpenAsync(x)|}));
            }

            [Guarded(Lock = nameof(_lock))] private Task<IEnumerable<Task>> LaterCoreAsync(List<int> items) => Task.FromResult(Later(items));
            private IEnumerable<Task> Later(List<int> items) => items.Select(x => OpenAsync(x));
        }
        public sealed partial class Till
        {
            [LockOrder(20)] private readonly ExclusiveLock _high = new();
            [LockOrder(10)] private readonly ExclusiveLock _low = new();
            [Guarded(Lock = nameof(_low))] private void TallyCore(int n) { }
            [Guarded(Lock = nameof(_high))] private void RingCore(List<int> items)
            {
                items.ForEach(x => {|LSM0022:Tally(x)|});
                Task.Run(() => items.ForEach(x => Tally(x)));
            }
        }
        """);

    private const string Shapes = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        namespace N;
        /// <summary>A synchronous lock whose cores run wrappers of it in delegates.</summary>
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly List<decimal> _items = new() { 1m, 2m };
            [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) { }
            [Guarded(Lock = nameof(_lock))] private decimal PriceCore(decimal amount) => amount;
            [Guarded(Lock = nameof(_lock))] private void EachCore() => _items.ForEach(x => Deposit(x));
            [Guarded(Lock = nameof(_lock))] private decimal SumCore() => _items.Sum(x => Price(x));
            [Guarded(Lock = nameof(_lock))] private decimal LoopCore()
            {
                decimal sum = 0m;
                foreach (var p in _items.Select(x => Price(x)))
                {
                    sum += p;
                }

                return sum;
            }

            [Guarded(Lock = nameof(_lock))] private IEnumerable<decimal> QueryCore() => _items.Select(x => Price(x));
        }
        /// <summary>An async lock whose core runs a wrapper of it in a delegate.</summary>
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync(int n) => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private Task SweepCoreAsync() => Task.WhenAll(new List<int> { 1, 2 }.Select(x => OpenAsync(x)).ToList());
        }
        """;

    /// <summary>
    /// What LSM0023 reports in a delegate run inline is what happens at run time: each reported wrapper throws
    /// LockRecursionException in the hold (sync and async), and the query returned out of the hold, not reported, runs
    /// after it and takes the lock.
    /// </summary>
    /// <summary>
    /// string.Join / string.Concat over a sequence and a collection expression's spread enumerate a deferred query before
    /// they return, as ToList does: its lambda runs in the hold. A query given to the params object[] form is not
    /// enumerated (it is formatted), and a query joined after the scope runs after it.
    /// </summary>
    [Fact]
    public void LSM0023_InAQueryEnumeratedByStringJoinOrASpread() => DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Linq;
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal PriceCore(decimal amount) => amount;
            [Guarded(Lock = nameof(_lock))] private string ListCore(decimal[] xs)
            {
                decimal[] spread = [.. xs.Select(x => {|LSM0023:Price(x)|})];
                List<decimal> doubled = [0m, .. xs.Where(x => {|LSM0023:Price(x)|} > 0).Select(x => x * 2)];
                string concatenated = string.Concat(xs.Select(x => {|LSM0023:Price(x)|}));
                string formatted = string.Join(",", "a", xs.Select(x => Price(x)));
                return string.Join(",", xs.Select(x => {|LSM0023:Price(x)|})) + spread.Length + doubled.Count + concatenated + formatted;
            }

            public string After(decimal[] xs)
            {
                IEnumerable<decimal> query;
                using (_lock.Acquire())
                {
                    string now = string.Join(';', xs.OrderBy(x => {|LSM0023:Price(x)|}));
                }

                return string.Join(",", xs.Select(x => Price(x)));
            }
        }
        """);

    [Fact]
    public void AWrapperInADelegateRunInline_ThrowsInTheHold_AsLSM0023Says_AndAReturnedQueryRunsAfterIt()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create(Shapes));
        var reported = run.LocksmithDiagnostics.OrderBy(static d => d.Location.SourceSpan.Start).Select(d => d.Id + " " + d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)).ToArray();
        Assert.Equal(["LSM0023 Deposit(x)", "LSM0023 Price(x)", "LSM0023 Price(x)", "LSM0023 OpenAsync(x)"], reported, StringComparer.Ordinal);
        using var loaded = LoadedAssembly.Load(run, "wrapper-in-inline-delegate");
        var account = loaded.Create("N.Account");
        var vault = loaded.Create("N.Vault");
        foreach (string wrapper in new[] { "Each", "Sum", "Loop" })
        {
            var thrown = Assert.Throws<System.Reflection.TargetInvocationException>(() => account.GetType().GetMethod(wrapper, Type.EmptyTypes)!.Invoke(account, null));
            Assert.IsType<System.Threading.LockRecursionException>(thrown.InnerException);
        }

        var query = (System.Collections.Generic.IEnumerable<decimal>)account.GetType().GetMethod("Query", Type.EmptyTypes)!.Invoke(account, null)!;
        Assert.Equal([1m, 2m], query.ToArray());
        var sweep = vault.GetType().GetMethods().Single(static m => m.Name == "SweepAsync");
        var arguments = sweep.GetParameters().Select(static _ => (object?)default(System.Threading.CancellationToken)).ToArray();
        Assert.Throws<System.Threading.LockRecursionException>(() => Await((System.Threading.Tasks.Task)sweep.Invoke(vault, arguments)!));
    }

    private static void Await(System.Threading.Tasks.Task task) => task.GetAwaiter().GetResult();
}
