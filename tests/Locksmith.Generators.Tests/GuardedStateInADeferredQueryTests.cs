using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020 for guarded state read by a deferred LINQ query (<c>Where</c>, <c>Select</c>, query syntax) that is made
/// while the lock is held and kept in a local: the query reads its source, and runs its lambdas, where it is enumerated,
/// so every use of the local where the lock is not held (<c>foreach</c>, <c>Sum()</c>, <c>string.Join</c>, a spread
/// <c>[.. q]</c>, handing it on) reads the state without the lock. Uses inside the hold, a query materialized there
/// (<c>ToList()</c>), or a local assigned more than once (it may no longer be the query), are not reported.
/// </summary>
public sealed class GuardedStateInADeferredQueryTests
{
    [Fact]
    public void LSM0020_WhereAQueryKeptInALocalIsUsedAfterTheHold() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Book
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            [Guarded(Lock = nameof(_lock))] private int _limit;

            public int Source()
            {
                IEnumerable<int> q;
                using (_lock.Acquire())
                {
                    q = _items.Where(x => x > 0);
                }

                int sum = 0;
                foreach (var x in {|LSM0020:q|})
                {
                    sum += x;
                }

                return sum + {|LSM0020:q|}.Sum();
            }

            public string Joined()
            {
                IEnumerable<string> q;
                using (_lock.Acquire())
                {
                    q = from x in _items where x > 0 select x.ToString();
                }

                return string.Join(",", {|LSM0020:q|});
            }

            public int[] Spread(Book other)
            {
                IEnumerable<int> q;
                using (other._lock.Acquire())
                {
                    q = other._items.Select(x => x * 2).OrderBy(x => x);
                }

                return [.. {|LSM0020:q|}];
            }

            public int Lambda()
            {
                IEnumerable<int> q;
                using (_lock.Acquire())
                {
                    q = Enumerable.Range(0, 3).Select(i => i + _limit);
                }

                return {|LSM0020:q|}.Sum();
            }
        }
        public sealed partial class Shelf
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, int> _counts = new();

            public async Task<List<string>> NamesAsync()
            {
                IEnumerable<string> q;
                using (await _lock.AcquireAsync())
                {
                    q = _counts.Where(p => p.Value > 0).Select(p => p.Key);
                }

                await Task.Yield();
                return new List<string>({|LSM0020:q|});
            }
        }
        """));

    [Fact]
    public void NoLSM0020_ForAQueryEnumeratedInTheHoldOrMaterializedThere() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using Locksmith;
        public sealed partial class Book
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            private readonly List<int> _free = new();

            public string InTheHold()
            {
                using (_lock.Acquire())
                {
                    var q = _items.Where(x => x > 0);
                    int[] all = [.. q];
                    string joined = string.Join(",", q);
                    foreach (var x in q)
                    {
                        joined += x;
                    }

                    return joined + all.Length + q.Count();
                }
            }

            public int Materialized()
            {
                List<int> list;
                int count;
                using (_lock.Acquire())
                {
                    list = _items.Where(x => x > 0).ToList();
                    count = _items.Count(x => x > 0);
                }

                return list.Sum() + count;
            }

            public int Reassigned()
            {
                IEnumerable<int> q;
                using (_lock.Acquire())
                {
                    q = _items.Where(x => x > 0);
                    q = q.ToArray();
                }

                return q.Sum();
            }

            public int Unguarded()
            {
                IEnumerable<int> q;
                using (_lock.Acquire())
                {
                    q = _free.Where(x => x > 0);
                }

                return q.Sum();
            }

            [Guarded(Lock = nameof(_lock))] private int SumCore()
            {
                var q = _items.Where(x => x > 0);
                return q.Sum();
            }
        }
        """));

    /// <summary>The message says the state is read through the kept query, and how to keep the read in the hold.</summary>
    [Fact]
    public void LSM0020_MessageSaysTheQueryReadsItWhereItIsEnumerated()
    {
        var run = GeneratorHarness.Run("""
            using System.Collections.Generic;
            using System.Linq;
            using Locksmith;
            public sealed partial class Book
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
                public int Sum()
                {
                    IEnumerable<int> positive;
                    using (_lock.Acquire()) { positive = _items.Where(x => x > 0); }
                    return positive.Sum();
                }
            }
            """);
        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0020", diagnostic.Id);
        Assert.Equal(
            "'_items' is guarded by '_lock' but is read here without holding it (through the deferred query kept in 'positive', " +
            "made while the lock was held but run where it is enumerated); enumerate the query where the lock is held " +
            "(materialize it there: 'positive.ToList()'), or use it from a [Guarded(Lock = nameof(_lock))] method, or inside 'using var scope = _lock.Acquire();'",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
