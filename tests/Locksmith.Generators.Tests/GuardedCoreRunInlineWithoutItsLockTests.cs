using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020 at a guarded core that a method runs inline where its lock is not held: given by name
/// (<c>items.ForEach(AddCore)</c>, <c>items.Sum(PriceCore)</c>) or called in a lambda run inline
/// (<c>items.ForEach(x =&gt; AddCore(x))</c>). The list runs it before it returns, on the caller's thread, so it is the
/// caller's call of the core. A lambda or method group that runs elsewhere (stored, started as work, returned as a
/// query) is left to the rules made for those.
/// </summary>
public sealed class GuardedCoreRunInlineWithoutItsLockTests
{
    [Fact]
    public void LSM0020_WhereAListOrAQueryRunsACoreWithoutItsLock() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Basket
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _total;

            [Guarded(Lock = nameof(_lock))]
            private void AddCore(int x) => _total += x;

            [Guarded(Lock = nameof(_lock))]
            private int PriceCore(int x) => x * _total;

            public void ByName(List<int> xs) => xs.ForEach({|LSM0020:AddCore|});
            public void InALambda(List<int> xs) => xs.ForEach(x => {|LSM0020:AddCore(x)|});
            public int Summed(List<int> xs) => xs.Sum({|LSM0020:PriceCore|});
            public int SummedInALambda(List<int> xs) => xs.Sum(x => {|LSM0020:PriceCore(x)|});
            public void Enumerated(List<int> xs) { foreach (int p in xs.Select(x => {|LSM0020:PriceCore(x)|})) { } }
            public void InParallel(List<int> xs) => Parallel.ForEach(xs, {|LSM0020:AddCore|});
            public static void OfAnother(Basket other, List<int> xs) => xs.ForEach({|LSM0020:other.AddCore|});
        }
        """));

    [Fact]
    public void NoLSM0020_WhereTheLockIsHeldAroundTheRunOrTheCoreRunsElsewhere() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using Locksmith;
        public partial class Basket
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _total;
            private Action<int>? _onAdd;

            public Basket(List<int> xs) { xs.ForEach(AddCore); xs.ForEach(x => AddCore(x)); }

            [Guarded(Lock = nameof(_lock))]
            private void AddCore(int x) => _total += x;

            [Guarded(Lock = nameof(_lock))]
            private int PriceCore(int x) => x * _total;

            [Guarded(Lock = nameof(_lock))]
            private void AllCore(List<int> xs) { xs.ForEach(AddCore); xs.ForEach(x => AddCore(x)); _ = xs.Sum(PriceCore); }

            public void Held(List<int> xs)
            {
                using var scope = _lock.Acquire();
                xs.ForEach(AddCore);
                xs.ForEach(x => AddCore(x));
                _ = xs.Sum(PriceCore) + xs.Sum(x => PriceCore(x));
            }

            public static void HeldOther(Basket other, List<int> xs)
            {
                using (other._lock.Acquire())
                {
                    xs.ForEach(other.AddCore);
                }
            }

            public void Keep() => _onAdd = AddCore;

            public void RunKept()
            {
                using var scope = _lock.Acquire();
                _onAdd?.Invoke(1);
            }

            public Action<int> Give() => AddCore;

            public string Names() => nameof(AddCore) + nameof(this.PriceCore);
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
