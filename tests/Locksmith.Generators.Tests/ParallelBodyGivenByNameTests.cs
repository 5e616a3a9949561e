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
                    Parallel.ForEach(amounts, Generic);
                    void Step(int i) => {|LSM0056:_n|}++;
                    void Generic<T>(T item) => {|LSM0056:_n|}++;
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
                    void Locked(int i) { using ({|LSM0023:_lock.Acquire()|}) { _n += i; } }
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

    /// <summary>
    /// A wrapper called in a local function given by name to a parallel loop (or to another method that runs it inline)
    /// in a <c>using</c> scope is called under that scope, as in the lambda in its place: LSM0023 for the held lock, LSM0022
    /// against the order. A local function is a boundary for a scope only because it may be called before the scope
    /// begins: one whose every use is in the scope runs in it. One also used outside the scope, or started as work that
    /// may run elsewhere (<c>Task.Run(Later)</c>), is not.
    /// </summary>
    [Fact]
    public void LSM0023_AndLSM0022_ForAWrapperCalledInALocalFunctionRunInTheScope() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void PostCore(int x) => _n += x;
        }

        public sealed partial class Bank
        {
            [LockOrder(20)] private readonly ExclusiveLock _lock = new();
            private readonly Ledger _ledger = new();
            [Guarded(Lock = nameof(_lock))] private int _total;
            [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _total += x;

            public void InAScope(List<int> amounts)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, amounts.Count, Step);
                    Parallel.Invoke(First, Second);
                    amounts.ForEach(Each);
                    Twice();
                    void Each(int a) => {|LSM0023:Add(a)|};
                }

                void Step(int i) => {|LSM0023:Add(amounts[i])|};
                void First() => {|LSM0023:Add(1)|};
                void Second() => {|LSM0022:_ledger.Post(2)|};
                void Twice() { Parallel.For(0, 2, Inner); void Inner(int i) => {|LSM0023:Add(i)|}; }
            }

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int[] amounts)
            {
                Parallel.ForEach(amounts, Each);
                void Each(int a) => {|LSM0023:Add(a)|};
            }

            public void AlsoOutsideTheHold(List<int> amounts)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, amounts.Count, Step);
                }

                Parallel.For(0, amounts.Count, Step);
                void Step(int i) { Add(amounts[i]); _ledger.Post(i); }
            }

            public void StartedElsewhere()
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(Later);
                    Never();
                }

                void Later() { Add(1); _ledger.Post(1); }
                void Never() { }
                void Unused() => Add(2);
            }
        }
        """));

    /// <summary>
    /// A method of the same type given by name on <c>this</c> to a method that runs it inline under the hold
    /// (<c>Parallel.For(0, n, Step)</c>, <c>items.ForEach(Each)</c>): its one body is read as the lambda in its place
    /// would be, and a wrapper it calls is LSM0023 (the held lock) or LSM0022 (against the order), reported at the method
    /// group (another object's wrapper of the same lock is LSM0022, its level being no higher, as in the lambda). Not where
    /// it may run elsewhere (<c>Task.Run(Forward)</c>, for a synchronous lock), for a call in a lambda of its own that may,
    /// or outside the hold.
    /// </summary>
    [Fact]
    public void LSM0023_AndLSM0022_ForAMethodOfTheTypeGivenAsTheBody() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void PostCore(int x) => _n += x;
        }

        public sealed partial class Bank
        {
            [LockOrder(20)] private readonly ExclusiveLock _lock = new();
            private readonly Ledger _ledger = new();
            private readonly Bank? _peer;
            [Guarded(Lock = nameof(_lock))] private int _total;
            [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _total += x;

            public void InAScope(List<int> amounts)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, amounts.Count, {|LSM0023:Step|});
                    Parallel.Invoke({|LSM0022:Forward|});
                    amounts.ForEach({|LSM0023:this.Each|});
                }

                Parallel.For(0, amounts.Count, Step);
            }

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int[] amounts) => Parallel.ForEach(amounts, {|LSM0023:Each|});

            public void NotInline()
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(Forward);
                    Parallel.For(0, 2, Later);
                    Parallel.For(0, 2, {|LSM0022:Peer|});
                    Parallel.For(0, 2, Count);
                }
            }

            private void Step(int i) => Add(i);
            private void Each(int a) { if (a > 0) { Add(a); } }
            private void Forward() => _ledger.Post(1);
            private void Later(int i) => Task.Run(() => Add(i));
            private void Peer(int i) => _peer?.Add(i);
            private static void Count(int i) => System.Console.WriteLine(i);
        }
        """));

    /// <summary>
    /// A method of the type that an override may replace (virtual, abstract or an override, in a type that is not sealed)
    /// is not read when it is given by name, directly or through a local, as it is not when it is called from a body
    /// (<c>i =&gt; Step(i)</c>): the body read may not be the one that runs (before, the method group's body was read, so
    /// LSM0056 and LSM0023 reported what an override may not do). A sealed override, or any method of a sealed type, is read.
    /// </summary>
    [Fact]
    public void AMethodAnOverrideMayReplace_IsNotReadWhenGivenByName_UnlessSealed() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Tally
        {
            protected readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] protected int _n;
            [Guarded(Lock = nameof(_lock))] protected void AddCore(int x) => _n += x;

            public void Count(int n, List<int> items)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, BumpCore);
                    Action<int> body = BumpCore;
                    Parallel.For(0, n, body);
                    Parallel.For(0, n, Step);
                    items.ForEach(Step);
                    Action<int> kept = Step;
                    Parallel.For(0, n, kept);
                }
            }

            [Guarded(Lock = nameof(_lock))] protected virtual void BumpCore(int i) => _n += i;
            protected virtual void Step(int i) => Add(i);
        }

        public partial class Sub : Tally
        {
            public void Again(int n, List<int> items)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, {|LSM0056:BumpCore|});
                    items.ForEach({|LSM0023:Step|});
                }
            }

            [Guarded(Lock = nameof(_lock))] protected sealed override void BumpCore(int i) => _n += i;
            protected sealed override void Step(int i) => Add(i);
        }

        public sealed partial class Leaf : Tally
        {
            public void Last(int n)
            {
                using (_lock.Acquire())
                {
                    Action<int> body = {|LSM0056:BumpCore|};
                    Parallel.For(0, n, body);
                }
            }

            [Guarded(Lock = nameof(_lock))] protected override void BumpCore(int i) => _n -= i;
        }
        """));

    /// <summary>
    /// LSM0027 for work given by name as a local function (<c>Task.Run(Work).Wait()</c> with <c>void Work() =&gt;
    /// Deposit(1);</c>), or as a method of the type, that the hold of the wrapper's lock waits for, as for the lambda in its
    /// place (from a trial of the analyzers: a local function as the work was skipped, a method's body never read). Not for
    /// work that is not waited for, waited for with a timeout, or waited for after the hold.
    /// </summary>
    [Fact]
    public void LSM0027_ForALocalFunctionAsTheWorkTheHoldWaitsFor() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _balance;
            [Guarded(Lock = nameof(_lock))] private void DepositCore(int x) => _balance += x;

            [Guarded(Lock = nameof(_lock))]
            private void SweepCore()
            {
                Task.Run(Work).Wait();
                void Work() => {|LSM0027:Deposit(1)|};
            }

            public void Scoped()
            {
                using (_lock.Acquire())
                {
                    var t = Task.Run(Later);
                    t.Wait();
                }

                void Later() { {|LSM0027:Deposit(2)|}; }
            }

            public void NotWaitedFor_OrAfterTheHold()
            {
                Task t;
                using (_lock.Acquire())
                {
                    _ = Task.Run(Free);
                    t = Task.Run(After);
                }

                t.Wait();
                void Free() => Deposit(3);
                void After() => Deposit(4);
            }

            [Guarded(Lock = nameof(_lock))]
            private void FlushCore()
            {
                Task.Run({|LSM0027:Work|}).Wait();
                Task.Run(Work).Wait(100);
                Task.Run(Quiet).Wait();
                _ = Task.Run(Work);
            }

            private void Work() => Deposit(5);
            private void Quiet() { }
        }
        """));

    /// <summary>
    /// LSM0026 looks at the call that starts the work, so work given by name (a method group, a local function) is
    /// reported as a lambda is: <c>Task.Run(Refresh)</c> left running in an async lock's hold.
    /// </summary>
    [Fact]
    public void LSM0026_ForWorkGivenByNameLeftRunningInAnAsyncHold() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Feed
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _seen;

            public async Task PullAsync(CancellationToken ct)
            {
                using (await _lock.AcquireAsync(ct))
                {
                    _ = {|LSM0026:Task.Run(Refresh)|};
                    _ = {|LSM0026:Task.Run(Local)|};
                    await Task.Run(Refresh);
                    _seen++;
                    void Local() { }
                }
            }

            private static void Refresh() { }
        }
        """));

    /// <summary>
    /// The analyzers read bodies given by name without throwing in odd shapes: a method group of a method without a body
    /// (abstract, partial without an implementation, extern), of a generic or static method, of a method that does not
    /// bind, local functions that call themselves or each other, a method group in a field initializer, and a method that
    /// gives itself to the loop.
    /// </summary>
    [Fact]
    public void BodiesGivenByName_InOddShapes_NeverMakeAnAnalyzerThrow()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create("""
            using System;
            using System.Collections.Generic;
            using System.Runtime.InteropServices;
            using System.Threading.Tasks;
            using Locksmith;
            public abstract partial class Tally<T>
            {
                private static readonly ExclusiveLock s_lock = new();
                [Guarded(Lock = nameof(s_lock))] private static int s_n;
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;
                private static readonly ParallelLoopResult s_filled = Parallel.For(0, 2, Fill);

                public void Count(int n, List<T> items)
                {
                    using (_lock.Acquire())
                    {
                        Parallel.For(0, n, Abstract);
                        Parallel.For(0, n, Declared);
                        Parallel.For(0, n, Native);
                        Parallel.ForEach(items, Generic);
                        Parallel.For(0, n, Fill);
                        Parallel.For(0, n, Missing);
                        Parallel.For(0, n, Self);
                        Parallel.For(0, n, Ping);
                        void Ping(int i) { if (i > 0) { Pong(i - 1); } _n++; }
                        void Pong(int i) { if (i > 0) { Ping(i - 1); } _n--; }
                        items.ForEach(Echo);
                        void Echo(T x) => Echo(x);
                    }
                }

                protected abstract void Abstract(int i);
                partial void Declared(int i);
                [DllImport("none")] private static extern void Native(int i);
                private void Generic<TItem>(TItem item) => _n++;
                private static void Fill(int i) => s_n += i;
                private void Self(int i) { if (i == 0) { Parallel.For(0, 1, Self); } _n += i; }
            }
            """));

        var crashes = run.AnalyzerDiagnostics.Where(static d => d.Id == "AD0001").Select(static d => d.GetMessage()).ToList();
        Assert.True(crashes.Count == 0, string.Join("\n", crashes));
        Assert.Contains(run.LocksmithDiagnostics, static d => d.Id == "LSM0056");
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
