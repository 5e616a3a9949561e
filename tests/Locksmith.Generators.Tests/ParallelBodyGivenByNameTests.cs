using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A body of <c>Parallel.For</c>, <c>ForEach</c>, <c>ForEachAsync</c> or <c>Invoke</c> given by name instead of as a
/// lambda: a local function (<c>Parallel.For(0, n, Step)</c> with <c>void Step(int i) =&gt; _n++;</c>), or a method of
/// the same type (<c>Parallel.For(0, n, BumpCore)</c>). Its body runs on several threads at once under the caller's
/// hold, as the lambda's would (from a trial of the analyzers: LSM0056 stopped at a local function and never looked at a
/// method group, so both were silent). A local function that is called from a parallel body runs there too.
/// </summary>
public sealed class ParallelBodyGivenByNameTests
{
    [Fact]
    public void LSM0056_ForAWriteInALocalFunctionGivenAsTheBody() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private long _sum;
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            [Guarded(Lock = nameof(_async))] private int _pulled;

            public void Count(int n, int[] amounts)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, Step);
                    Parallel.ForEach(amounts, Add);
                    Parallel.Invoke(Reset, () => { });
                    Parallel.For(0, n, i => Twice(i));
                    void Step(int i) => {|LSM0056:_n|}++;
                    void Add(int a) { {|LSM0056:_sum|} += a; {|LSM0056:_items|}.Add(a); }
                    void Reset() => {|LSM0056:_n|} = 0;
                    void Twice(int i) { if (i > 0) { {|LSM0056:_n|} += 2; } }
                }
            }

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int[] amounts)
            {
                Parallel.ForEach(amounts, Post);
                void Post(int a) => {|LSM0056:_sum|} += a;
            }

            public void DeclaredAfterTheHold(int n)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, Step);
                }

                void Step(int i) => {|LSM0020:{|LSM0056:_n|}|}++;
            }

            public async Task PullAsync(int[] ids, CancellationToken ct)
            {
                using (await _async.AcquireAsync(ct))
                {
                    await Parallel.ForEachAsync(ids, ct, PullOne);
                    async ValueTask PullOne(int id, CancellationToken c)
                    {
                        await Task.Delay(id, c);
                        {|LSM0056:_pulled|}++;
                    }
                }
            }
        }
        """));

    [Fact]
    public void LSM0056_ForAWriteInAMethodOfTheTypeGivenAsTheBody() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();

            public void Count(int n, int[] amounts)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, {|LSM0056:BumpCore|});
                    Parallel.ForEach(amounts, {|LSM0056:this.KeepCore|});
                    Parallel.Invoke({|LSM0056:ResetCore|}, ReadCore);
                }
            }

            [Guarded(Lock = nameof(_lock))] private void BumpCore(int i) => _n += i;
            [Guarded(Lock = nameof(_lock))] private void KeepCore(int a) { if (a > 0) { _items.Add(a); } }
            [Guarded(Lock = nameof(_lock))] private void ResetCore() { _n = 0; _items.Clear(); }
            [Guarded(Lock = nameof(_lock))] private void ReadCore() => System.Console.WriteLine(_n + _items.Count);
        }
        """));

    /// <summary>
    /// No LSM0056 for a body given by name that only reads, writes through <c>Interlocked</c>, takes the lock itself, or
    /// runs outside any hold; nor for a local function only called outside a parallel body, a method of another object
    /// or type (calls are not followed), or one given to a method that is not a parallel loop.
    /// </summary>
    [Fact]
    public void NoLSM0056_ForABodyByNameThatReads_IsAtomic_TakesTheLock_OrRunsOutsideTheHold() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            private readonly Tally? _other;

            public void Count(int n, List<int> seen)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, Read);
                    Parallel.For(0, n, Atomic);
                    Parallel.For(0, n, Locked);
                    Parallel.For(0, n, ReadCore);
                    Parallel.For(0, n, AtomicCore);
                    Parallel.ForEach(seen, Tally.Log);
                    Parallel.For(0, n, (_other ?? this).Bump);
                    seen.ForEach(Inline);
                    _items.ForEach(x => Serial(x));
                    void Read(int i) { int local = _n + _items.Count + i; local++; }
                    void Atomic(int i) => Interlocked.Add(ref _n, i);
                    void Locked(int i) { using (_lock.Acquire()) { _n += i; } }
                    void Inline(int x) => _n += x;
                    void Serial(int x) => _n -= x;
                }
            }

            public void Unheld(int n)
            {
                Parallel.For(0, n, Unguarded);
                void Unguarded(int i) { using (_lock.Acquire()) { _n++; } }
            }

            public void Bump(int i) { using (_lock.Acquire()) { _n += i; } }
            [Guarded(Lock = nameof(_lock))] private void ReadCore(int i) => System.Console.WriteLine(_n + i);
            [Guarded(Lock = nameof(_lock))] private void AtomicCore(int i) => Interlocked.Increment(ref _n);
            private static void Log(int x) => System.Console.WriteLine(x);
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
