using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0056 for guarded state written in a delegate of <c>Parallel.For</c>, <c>ForEach</c>, <c>ForEachAsync</c> or
/// <c>Invoke</c> made while the caller holds the lock (from a trial of the analyzers: <c>using (_lock.Acquire()) {
/// Parallel.For(0, n, i =&gt; _n++); }</c> was silent, since any lambda in a hold counts as holding it). The hold keeps
/// other code out, but the bodies run on several threads at once and race each other. Reads there, writes to locals or
/// unguarded fields, a body that takes the lock itself, and a loop outside any hold (LSM0020) are not LSM0056.
/// </summary>
public sealed class GuardedStateWrittenInAParallelBodyTests
{
    [Fact]
    public void LSM0056_ForAWriteInAParallelBodyUnderTheHold() => Compiles(DiagnosticCheck.Verify("""
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
            [Guarded(Lock = nameof(_lock))] private readonly int[] _slots = new int[8];
            [Guarded(Lock = nameof(_async))] private int _pulled;

            public void Count(int n, List<int> items)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, i => {|LSM0056:_n|}++);
                    Parallel.ForEach(items, x => { {|LSM0056:_sum|} += x; });
                    Parallel.Invoke(() => {|LSM0056:_n|} = 1, delegate { Bump(ref {|LSM0056:_n|}); });
                    Parallel.For(0, n, i => {|LSM0056:_slots|}[i % 8] = i);
                    Parallel.For(0, n, i => items.ForEach(x => {|LSM0056:_n|}--));
                }
            }

            private static void Bump(ref int x) => x++;

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int[] amounts) => Parallel.ForEach(amounts, a => {|LSM0056:_sum|} += a);

            public async Task PullAsync(int[] ids, CancellationToken ct)
            {
                using (await _async.AcquireAsync(ct))
                {
                    await Parallel.ForEachAsync(ids, ct, async (id, c) => { await Task.Delay(id, c); {|LSM0056:_pulled|}++; });
                    await Parallel.ForAsync(0, ids.Length, ct, async (i, c) => { await Task.Delay(ids[i], c); {|LSM0056:_pulled|}--; });
                }
            }
        }
        """));

    [Fact]
    public void NoLSM0056_ForReads_Locals_UnguardedState_OrABodyThatTakesTheLock() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly int[] _slots = new int[8];
            private int _unguarded;

            public Tally(int n) => Parallel.For(0, n, i => _slots[i % 8] = i);

            public long Read(int n)
            {
                long total = 0;
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, i => { int local = _n + _slots[i % 8]; local++; _unguarded++; });
                    Parallel.Invoke(() => System.Console.WriteLine(_n), () => Interlocked.Add(ref _n, 2));
                    total = _n;
                    _n++;
                }

                return total;
            }

            public void EachTakesIt(int n)
            {
                Parallel.For(0, n, i => { using (_lock.Acquire()) { _n++; } });
                Parallel.For(0, n, i => {|LSM0020:_n|}++);
            }
        }
        """));

    /// <summary>
    /// Each run of <c>Parallel.For</c> (<c>ForAsync</c>) gets its own index, so <c>_slots[i] = …</c> writes a slot no other
    /// run writes: no race, and no LSM0056 (reported before, from the false-positive sweep). An element found otherwise (a
    /// <c>ForEach</c> element, which may repeat, or an index assigned in the body) is still reported.
    /// </summary>
    [Fact]
    public void NoLSM0056_ForTheSlotOfTheRunsOwnIndex() => Compiles(Markup.AssertDiagnostics("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private readonly int[] _slots = new int[8];
            [Guarded(Lock = nameof(_async))] private readonly long[] _pulled = new long[8];

            public void Fill(List<int> items)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, _slots.Length, i => _slots[i] = i * 2);
                    Parallel.For(0L, 8L, (i, state) => { _slots[i] += 1; });
                    Parallel.ForEach(items, x => {|LSM0056:_slots|}[x] = 1);
                    Parallel.For(0, 8, i => { i = 0; {|LSM0056:_slots|}[i] = 1; });
                }
            }

            public async Task PullAsync(CancellationToken ct)
            {
                using (await _async.AcquireAsync(ct))
                {
                    await Parallel.ForAsync(0, _pulled.Length, ct, async (i, c) => { await Task.Delay(1, c); _pulled[i] = i; });
                }
            }
        }
        """));

    /// <summary>
    /// The loop classic: a guarded <c>List</c> filled from the bodies (<c>_items.Add(i)</c>). A call that changes a
    /// System.Collections.Generic collection is a write there; calls that only read it, and a concurrent collection
    /// (safe to change from several threads), are not.
    /// </summary>
    [Fact]
    public void LSM0056_ForAGuardedCollectionChangedInAParallelBody() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Catalog
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            [Guarded(Lock = nameof(_lock))] private readonly Queue<int> _queue = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<int, string> _names = new();
            [Guarded(Lock = nameof(_lock))] private readonly ICollection<int> _seen = new HashSet<int>();
            [Guarded(Lock = nameof(_lock))] private readonly ConcurrentBag<int> _bag = new();
            [Guarded(Lock = nameof(_lock))] private readonly ConcurrentDictionary<int, string> _byId = new();

            public int Fill(int n)
            {
                int found = 0;
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, i => {|LSM0056:_items|}.Add(i));
                    Parallel.For(0, n, i => {|LSM0056:_queue|}.Enqueue(i));
                    Parallel.For(0, n, i => {|LSM0056:_names|}.Remove(i));
                    Parallel.For(0, n, i => {|LSM0056:_seen|}.Add(i));
                    Parallel.For(0, n, i => { if (_items.Contains(i) && _names.TryGetValue(i, out _) && _queue.Count > 0) { System.Threading.Interlocked.Increment(ref found); } });
                    Parallel.For(0, n, i => _bag.Add(i));
                    Parallel.For(0, n, i => _byId[i] = "x");
                    Parallel.For(0, n, i => {|LSM0056:_names|}[i] = "x");
                }

                return found;
            }
        }
        """));

    /// <summary>
    /// A constructor holds no lock, and LSM0020 lets it write the state of the object it builds, which no other thread
    /// sees yet; but the bodies of a parallel loop it runs do see it, all at once, and race each other (from a trial of
    /// the analyzers: <c>Parallel.For(0, n, i =&gt; _n++)</c> in a constructor was silent). Guarded state written there is
    /// LSM0020, whose fix (take the lock in the body) is right there, since nothing holds it around the loop. An element of
    /// an array written (<c>_slots[i] = …</c>, bodies usually fill their own), a read, <c>Interlocked</c>, and a body
    /// that takes the lock are not reported; nor a lambda the constructor keeps for later, which LSM0020 judges as before.
    /// A static constructor's or a field initializer's loop is the same.
    /// </summary>
    [Fact]
    public void LSM0020_ForAWriteInAParallelBodyOfAConstructor() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly int[] _slots = new int[8];
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<int, int> _squares = new();

            public Tally(int n)
            {
                _n = n;
                Parallel.For(0, n, i => {|LSM0020:_n|}++);
                Parallel.For(0, n, i => {|LSM0020:_items|}.Add(i));
                Parallel.For(0, n, i => {|LSM0020:_squares|}[i] = i * i);
                Parallel.For(0, n, Step);
                Parallel.For(0, 8, i => _slots[i] = i + _n + _items.Count);
                Parallel.For(0, n, i => Interlocked.Increment(ref _n));
                Parallel.For(0, n, i => { using (_lock.Acquire()) { _n--; } });
                _items.ForEach(x => _n += x);
                void Step(int i) => {|LSM0020:_n|} -= i;
            }

            public Tally(int[] amounts, bool sum) : this(0) => Parallel.ForEach(amounts, a => { if (sum) { {|LSM0020:_n|} += a; } });
        }

        public sealed partial class Totals
        {
            private static readonly ExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(s_lock))] private static long s_total;
            [Guarded(Lock = nameof(s_lock))] private static int s_runs;
            private static readonly ParallelLoopResult s_filled = Parallel.For(0, 4, i => {|LSM0020:s_total|} += i);

            static Totals() => Parallel.Invoke(() => {|LSM0020:s_runs|}++, () => System.Console.WriteLine(s_total));
        }
        """));

    /// <summary>
    /// A parallel loop in work the hold does not wait for (a lambda given to <c>Task.Run</c>, <c>TaskFactory.StartNew</c> or
    /// <c>ThreadPool.QueueUserWorkItem</c> whose task is dropped: a statement of its own, a discard, a field; or a
    /// <c>ForAsync</c>/<c>ForEachAsync</c> whose own task is dropped) may run after the hold is released: its bodies write
    /// with no lock held, so a write there is LSM0020, saying so, not LSM0056 (before, LSM0056 said the lock was held
    /// around the loop). Work waited for or awaited in the hold, a hold taken inside the work around the loop, and a body
    /// that takes the lock itself stay as they were.
    /// </summary>
    [Fact]
    public void LSM0020_NotLSM0056_ForAParallelLoopInWorkTheHoldDoesNotWaitFor() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            [Guarded(Lock = nameof(_async))] private int _pulled;
            private Task? _background;

            public void Count(int n)
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(() => Parallel.For(0, n, i => {|LSM0020:_n|}++));
                    Task.Run(() => Parallel.For(0, n, i => {|LSM0020:_items|}.Add(i)));
                    _background = Task.Factory.StartNew(() => Parallel.For(0, n, {|LSM0020:BumpCore|}));
                    ThreadPool.QueueUserWorkItem(_ => Parallel.For(0, n, i => {|LSM0020:StepCore(i)|}));
                    Task.Run(() => Parallel.For(0, n, i => {|LSM0056:_n|}++)).Wait();
                    _ = Task.Run(() => { using (_lock.Acquire()) { Parallel.For(0, n, i => {|LSM0056:_n|}--); } });
                    _ = Task.Run(() => Parallel.For(0, n, i => { using (_lock.Acquire()) { _n++; } }));
                }
            }

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int n) => _ = Task.Run(() => Parallel.For(0, n, i => {|LSM0020:_n|} += i));

            public async Task PullAsync(int[] ids, CancellationToken ct)
            {
                using (await _async.AcquireAsync(ct))
                {
                    await Task.Run(() => Parallel.For(0, ids.Length, i => {|LSM0056:_pulled|}++));
                    await Parallel.ForEachAsync(ids, ct, async (id, c) => { await Task.Delay(id, c); {|LSM0056:_pulled|}++; });
                    _ = {|LSM0026:Parallel.ForEachAsync(ids, ct, async (id, c) => { await Task.Delay(id, c); {|LSM0020:_pulled|}--; })|};
                }
            }

            [Guarded(Lock = nameof(_lock))] private void BumpCore(int i) => _n += i;
            [Guarded(Lock = nameof(_lock))] private void StepCore(int i) => _n -= i;
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
