using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A parallel body that reaches guarded state one step away: a lambda that calls a method of the same type
/// (<c>Parallel.For(0, n, i =&gt; Step(i))</c>), or a delegate kept in a local and given to the loop
/// (<c>Action&lt;int&gt; body = i =&gt; _n++; Parallel.For(0, n, body);</c>). Each runs as
/// <c>Parallel.For(0, n, Step)</c> does, which LSM0056 already read (<see cref="ParallelBodyGivenByNameTests"/>); both
/// shapes were silent.
/// </summary>
public sealed class ParallelBodyThroughACallOrALocalTests
{
    [Fact]
    public void LSM0056_ForAWriteInAMethodOfTheTypeCalledFromAParallelLambda() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private static readonly ExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(s_lock))] private static int s_runs;
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();

            public void Count(int n, int[] amounts)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, i => {|LSM0056:StepCore(i)|});
                    Parallel.ForEach(amounts, a => { if (a > 0) { {|LSM0056:this.KeepCore(a)|}; } });
                    Parallel.Invoke(() => {|LSM0056:ResetCore()|}, () => { });
                    Parallel.For(0, n, Local);
                    void Local(int i) => {|LSM0056:StepCore(i)|};
                }
            }

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int[] amounts) => Parallel.ForEach(amounts, a => {|LSM0056:KeepCore(a)|});

            public void Static(int n)
            {
                using (s_lock.Acquire())
                {
                    Parallel.For(0, n, i => {|LSM0056:RunCore(i)|});
                }
            }

            [Guarded(Lock = nameof(_lock))] private void StepCore(int i) => _n += i;
            [Guarded(Lock = nameof(_lock))] private void KeepCore(int a) => _items.Add(a);
            [Guarded(Lock = nameof(_lock))] private void ResetCore() { if (_n > 0) { _n = 0; } }
            [Guarded(Lock = nameof(s_lock))] private static void RunCore(int i) => s_runs += i;
        }
        """));

    /// <summary>
    /// No LSM0056 for a method called from a parallel lambda that only reads, writes through <c>Interlocked</c>, takes the
    /// lock itself, or whose call the lambda makes under its own scope; for a method of another type or object, a virtual
    /// one (an override may run instead), a call outside a parallel body, and a write two calls away (one level is followed).
    /// </summary>
    [Fact]
    public void NoLSM0056_ForACalledMethodThatReads_IsAtomic_TakesTheLock_IsAnothers_OrIsTwoCallsAway() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            private readonly Tally? _other;
            private readonly Counter _counter = new();

            public void Count(int n)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, i => ReadCore(i));
                    Parallel.For(0, n, i => AtomicCore(i));
                    Parallel.For(0, n, i => Locked(i));
                    Parallel.For(0, n, i => { using ({|LSM0023:_lock.Acquire()|}) { StepCore(i); } });
                    Parallel.For(0, n, i => _other?.Locked(i));
                    Parallel.For(0, n, i => _counter.Bump(i));
                    Parallel.For(0, n, i => OverridableCore(i));
                    Parallel.For(0, n, i => OuterCore(i));
                    StepCore(n);
                }
            }

            [Guarded(Lock = nameof(_lock))] private void ReadCore(int i) => System.Console.WriteLine(_n + i);
            [Guarded(Lock = nameof(_lock))] private void AtomicCore(int i) => Interlocked.Add(ref _n, i);
            private void Locked(int i) { using (_lock.Acquire()) { _n += i; } }
            [Guarded(Lock = nameof(_lock))] private void StepCore(int i) => _n += i;
            [Guarded(Lock = nameof(_lock))] protected virtual void OverridableCore(int i) => _n += i;
            [Guarded(Lock = nameof(_lock))] private void OuterCore(int i) => StepCore(i);
        }

        public sealed partial class Counter
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            public void Bump(int i) { using (_lock.Acquire()) { _n += i; } }
        }
        """));

    /// <summary>
    /// A method with no <c>[Guarded]</c> that writes guarded state, called from a parallel body under the hold, is LSM0020 in
    /// itself (LSM0020 does not follow calls: it is reported however the method is reached, and asks for a guard or a
    /// scope there) and LSM0056 at the call (which names the loop and the hold, and says not to take the lock again under
    /// it): two fixes, both needed, so both are kept. A helper only called serially under the hold is LSM0020 alone.
    /// </summary>
    [Fact]
    public void AnUnguardedHelperCalledFromAParallelBody_IsLSM0020InItself_AndLSM0056AtTheCall() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public void Count(int n)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, i => {|LSM0056:Step(i)|});
                    Serial(n);
                }
            }

            private void Step(int i) => {|LSM0020:_n|} += i;
            private void Serial(int i) => {|LSM0020:_n|} -= i;
        }
        """));

    /// <summary>
    /// A method of the type declared in another file of the partial type is read there, by a call from a parallel lambda
    /// and given by name alike (the compilation has its syntax).
    /// </summary>
    [Fact]
    public void LSM0056_ForAMethodDeclaredInAnotherPartOfTheType()
    {
        var run = GeneratorHarness.Run(
            """
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public void Count(int n)
                {
                    using (_lock.Acquire())
                    {
                        Parallel.For(0, n, i => StepCore(i));
                        Parallel.For(0, n, StepCore);
                        Parallel.For(0, n, i => ReadCore(i));
                    }
                }
            }
            """,
            """
            using Locksmith;
            public sealed partial class Tally
            {
                [Guarded(Lock = nameof(_lock))] private void StepCore(int i) => _n += i;
                [Guarded(Lock = nameof(_lock))] private void ReadCore(int i) => System.Console.WriteLine(_n + i);
            }
            """);

        Compiles(run);
        var found = run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)).OrderBy(static s => s).ToList();
        Assert.Equal(["LSM0056 StepCore", "LSM0056 StepCore(i)"], found);
    }

    [Fact]
    public void LSM0056_ForADelegateKeptInALocalAndGivenToTheLoop() => Compiles(DiagnosticCheck.Verify("""
        using System;
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
                    Action<int> body = i => {|LSM0056:_n|}++;
                    Parallel.For(0, n, body);
                    Action<int> keep = delegate (int a) { {|LSM0056:_items|}.Add(a); };
                    Parallel.ForEach(amounts, keep);
                    Action<int> local = Step;
                    Parallel.For(0, n, local);
                    Action<int> method = {|LSM0056:BumpCore|};
                    Parallel.For(0, n, method);
                    Action reset;
                    reset = () => {|LSM0056:_n|} = 0;
                    Parallel.Invoke(reset);
                    void Step(int i) => {|LSM0056:_n|} += i;
                }
            }

            public void MadeBeforeTheHold(int n)
            {
                Action<int> body = i => {|LSM0020:{|LSM0056:_n|}|}++;
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, body);
                }
            }

            [Guarded(Lock = nameof(_lock))] private void BumpCore(int i) => _n += i;
        }
        """));

    /// <summary>
    /// No LSM0056 for a delegate kept in a local that only reads, writes through <c>Interlocked</c> or takes the lock
    /// itself, a local assigned more than once (which value the loop runs is not known), one only invoked (serially, under
    /// the hold), or given to the loop outside the hold.
    /// </summary>
    [Fact]
    public void NoLSM0056_ForADelegateInALocalThatReads_IsAtomic_TakesTheLock_IsReassigned_OrRunsOutsideTheHold() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public void Count(int n, bool twice)
            {
                using (_lock.Acquire())
                {
                    Action<int> read = i => Console.WriteLine(_n + i);
                    Parallel.For(0, n, read);
                    Action<int> atomic = i => Interlocked.Add(ref _n, i);
                    Parallel.For(0, n, atomic);
                    Action<int> locked = i => { using (_lock.Acquire()) { _n += i; } };
                    Parallel.For(0, n, locked);
                    Action<int> serial = i => _n += i;
                    serial(1);
                    Action<int> changed = i => _n += i;
                    if (twice) { changed = i => Console.WriteLine(i); }
                    Parallel.For(0, n, changed);
                }

                Action<int> outside = i => { using (_lock.Acquire()) { _n += i; } };
                Parallel.For(0, n, outside);
            }
        }
        """));

    /// <summary>
    /// In a constructor, which holds nothing, a write in a delegate kept in a local and given to a parallel loop is
    /// LSM0020 (its runs race each other), as it is in a lambda given to the loop directly.
    /// </summary>
    [Fact]
    public void LSM0020_ForADelegateKeptInALocalThatAConstructorGivesToAParallelLoop() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public Tally(int n)
            {
                Action<int> body = i => {|LSM0020:_n|}++;
                Parallel.For(0, n, body);
                Action<int> kept = i => _n--;
                kept(1);
            }
        }
        """));

    /// <summary>
    /// A method of the same type called from a body of <c>Parallel.For</c>, <c>ForEach</c> or <c>Invoke</c> under the hold
    /// runs its wrapper calls there, as <c>Parallel.For(0, n, Step)</c> does: LSM0023 for the held lock (also when the body
    /// takes it itself around the call), LSM0022 against the order, reported at the call. Not outside the hold, for a call
    /// the method makes in work that may run elsewhere, a method of another type, or a wrapper two calls away.
    /// </summary>
    [Fact]
    public void LSM0023_AndLSM0022_ForAWrapperCalledByAMethodOfTheTypeThatAParallelBodyCalls() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void PostCore(int x) => _n += x;
            public void Touch(int x) => Post(x);
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
                    Parallel.For(0, amounts.Count, i => {|LSM0023:Step(i)|});
                    Parallel.Invoke(() => {|LSM0022:Forward()|});
                    Parallel.ForEach(amounts, a => { if (a > 0) { {|LSM0023:this.Each(a)|}; } });
                    Parallel.For(0, 2, Local);
                    void Local(int i) => {|LSM0023:Step(i)|};
                }

                Parallel.For(0, amounts.Count, i => Step(i));
                Parallel.For(0, 2, i => { using (_lock.Acquire()) { {|LSM0023:Step(i)|}; } });
            }

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int[] amounts) => Parallel.ForEach(amounts, a => {|LSM0023:Each(a)|});

            public void NotFollowed()
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, 2, i => Later(i));
                    Parallel.For(0, 2, i => Count(i));
                    Parallel.For(0, 2, i => Outer(i));
                    Parallel.For(0, 2, i => _ledger.Touch(i));
                }
            }

            private void Step(int i) => Add(i);
            private void Each(int a) { if (a > 0) { Add(a); } }
            private void Forward() => _ledger.Post(1);
            private void Later(int i) => Task.Run(() => Add(i));
            private static void Count(int i) => System.Console.WriteLine(i);
            private void Outer(int i) => Step(i);
        }
        """));

    /// <summary>
    /// A wrapper called in a delegate kept in a local (assigned once) that is given to <c>Parallel.For</c>,
    /// <c>ForEach</c> or <c>Invoke</c> is called under the holds where the loop takes the local, as in the lambda in its
    /// place: LSM0023 for the held lock, LSM0022 against the order, at the call. Not when the loop runs outside the hold,
    /// the local is assigned again, or the loop is <c>ForEachAsync</c> (a synchronous lock is not held in its bodies).
    /// </summary>
    [Fact]
    public void LSM0023_AndLSM0022_ForAWrapperCalledInADelegateKeptInALocalGivenToAParallelLoop() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
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

            public async Task SpreadAsync(int n, int[] ids, bool other, CancellationToken ct)
            {
                Action<int> before = i => {|LSM0023:Add(i)|};
                using (_lock.Acquire())
                {
                    Action<int> body = i => {|LSM0023:Add(i)|};
                    Parallel.For(0, n, body);
                    Action forward = () => {|LSM0022:_ledger.Post(1)|};
                    Parallel.Invoke(forward);
                    Parallel.For(0, n, before);
                    Action<int> changed = i => Add(i);
                    if (other) { changed = i => { }; }
                    Parallel.For(0, n, changed);
                    Func<int, CancellationToken, ValueTask> pull = (id, c) => { Add(id); return default; };
                    await Parallel.ForEachAsync(ids, ct, pull);
                }

                Action<int> outside = i => Add(i);
                Parallel.For(0, n, outside);
            }
        }
        """));

    /// <summary>
    /// A method group kept in a local (assigned once) that is given to <c>Parallel.For</c>, <c>ForEach</c> or <c>Invoke</c>
    /// runs under the holds where the loop takes the local, as the method group passed directly does: a wrapper kept so is
    /// called there, and a method of the type kept so has its body read there (LSM0023 for the held lock, LSM0022 against
    /// the order, at the method group). Not when the loop runs outside the hold, the local is assigned twice, the method is
    /// another type's, virtual, calls the wrapper only two calls away, or takes the lock itself around the core.
    /// </summary>
    [Fact]
    public void LSM0023_AndLSM0022_ForAMethodGroupKeptInALocalGivenToAParallelLoop() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        using System.Threading.Tasks;
        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void PostCore(int x) => _n += x;
            public void Touch(int x) => Post(x);
        }

        public partial class Bank
        {
            [LockOrder(20)] private readonly ExclusiveLock _lock = new();
            private readonly Ledger _ledger = new();
            [Guarded(Lock = nameof(_lock))] private int _total;
            [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _total += x;

            public void Spread(int n, bool other)
            {
                Action<int> made = {|LSM0023:Add|};
                using (_lock.Acquire())
                {
                    Parallel.For(0, n, made);
                    Action<int> step = {|LSM0023:Step|};
                    Parallel.For(0, n, step);
                    Action<int> post = {|LSM0022:_ledger.Post|};
                    Parallel.For(0, n, post);
                    Action forward = {|LSM0022:Forward|};
                    Parallel.Invoke(forward);
                    Action<int> twice = Add;
                    if (other) { twice = i => { }; }
                    Parallel.For(0, n, twice);
                    Action<int> touch = _ledger.Touch;
                    Parallel.For(0, n, touch);
                    Action<int> overridable = Virtual;
                    Parallel.For(0, n, overridable);
                    Action<int> outer = Outer;
                    Parallel.For(0, n, outer);
                    Action<int> locked = Locked;
                    Parallel.For(0, 1, locked);
                }

                Action<int> outside = Add;
                Parallel.For(0, n, outside);
            }

            private void Step(int i) => Add(i);
            private void Forward() => _ledger.Post(1);
            protected virtual void Virtual(int i) => Add(i);
            private void Outer(int i) => Step(i);
            private void Locked(int i) { using (_lock.Acquire()) { AddCore(i); } }
        }
        """));

    /// <summary>
    /// A method of the same type called on <c>this</c> (or static) from a lambda that another inline runner runs under
    /// the hold (<c>items.ForEach(x =&gt; Step(x))</c>, <c>Array.ForEach</c>, an immediate <c>Enumerable</c> operator, a
    /// deferred one enumerated in the same expression) is read one call deep, as <c>items.ForEach(Step)</c> is: LSM0023
    /// for the held lock, LSM0022 against the order, at the call. Not outside the hold, for a deferred query returned out of
    /// it, a method of another type, a virtual one, two calls away, or one that takes the lock itself around the core.
    /// </summary>
    [Fact]
    public void LSM0023_AndLSM0022_ForAWrapperCalledByAMethodOfTheTypeThatAnInlineLambdaCalls() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using Locksmith;
        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void PostCore(int x) => _n += x;
            public void Touch(int x) => Post(x);
        }

        public partial class Bank
        {
            [LockOrder(20)] private readonly ExclusiveLock _lock = new();
            private readonly Ledger _ledger = new();
            [Guarded(Lock = nameof(_lock))] private int _total;
            [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _total += x;

            public int Spread(List<int> items, int[] amounts)
            {
                using (_lock.Acquire())
                {
                    items.ForEach(x => {|LSM0023:Step(x)|});
                    Array.ForEach(amounts, a => { if (a > 0) { {|LSM0022:this.Forward(a)|}; } });
                    int sum = items.Sum(x => {|LSM0023:Price(x)|});
                    var kept = items.Select(x => {|LSM0023:Price(x)|}).ToList();
                    items.ForEach(x => _ledger.Touch(x));
                    items.ForEach(x => Virtual(x));
                    items.ForEach(x => Outer(x));
                    items.ForEach(x => Locked(x));
                    return sum + kept.Count;
                }
            }

            [Guarded(Lock = nameof(_lock))]
            private void EachCore(List<int> items) => items.ForEach(x => {|LSM0023:Step(x)|});

            public IEnumerable<int> Later(List<int> items)
            {
                items.ForEach(x => Step(x));
                using (_lock.Acquire())
                {
                    return items.Select(x => Price(x));
                }
            }

            private void Step(int i) => Add(i);
            private int Price(int x) { Add(x); return x; }
            private void Forward(int a) => _ledger.Post(a);
            protected virtual void Virtual(int i) => Add(i);
            private void Outer(int i) => Step(i);
            private void Locked(int i) { using (_lock.Acquire()) { AddCore(i); } }
        }
        """));

    /// <summary>
    /// A local function that another inline runner runs under the hold, given to it by name (<c>items.ForEach(Each)</c>)
    /// or called from a lambda it runs (<c>items.ForEach(x =&gt; Each(x))</c>), is followed one call deep as the lambda in
    /// its place is: a method of the type it calls on <c>this</c> is read, and a wrapper that method calls is LSM0023 or
    /// LSM0022 at the call in the local function (before, a call in a local function was not followed, unless a parallel
    /// loop ran it). Not for a local function also run elsewhere (<c>Task.Run(Later)</c>), one only called from the hold's
    /// own code, two calls away, or a virtual method.
    /// </summary>
    [Fact]
    public void LSM0023_AndLSM0022_ForAWrapperCalledByAMethodOfTheTypeThatAnInlineLocalFunctionCalls() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void PostCore(int x) => _n += x;
        }

        public partial class Bank
        {
            [LockOrder(20)] private readonly ExclusiveLock _lock = new();
            private readonly Ledger _ledger = new();
            [Guarded(Lock = nameof(_lock))] private int _total;
            [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _total += x;

            public int Spread(List<int> items, int[] amounts)
            {
                using (_lock.Acquire())
                {
                    void Each(int x) => {|LSM0023:Step(x)|};
                    items.ForEach(Each);
                    void Pass(int a) { if (a > 0) { {|LSM0022:Forward(a)|}; } }
                    Array.ForEach(amounts, Pass);
                    int Priced(int x) => {|LSM0023:Price(x)|};
                    int sum = items.Sum(x => Priced(x));
                    void Later(int x) => Step(x);
                    items.ForEach(Later);
                    _ = Task.Run(() => Later(1));
                    void Direct(int x) => Step(x);
                    Direct(1);
                    void Twice(int x) => Outer(x);
                    items.ForEach(Twice);
                    void Overridable(int x) => Virtual(x);
                    items.ForEach(Overridable);
                    return sum;
                }
            }

            private void Step(int i) => Add(i);
            private int Price(int x) { Add(x); return x; }
            private void Forward(int a) => _ledger.Post(a);
            protected virtual void Virtual(int i) => Add(i);
            private void Outer(int i) => Step(i);
        }
        """));

    /// <summary>
    /// LSM0023 reads a method of the type declared in another file of the partial type too, given by name or called
    /// from a parallel body (before, only a method in the same file was read).
    /// </summary>
    [Fact]
    public void LSM0023_ForAMethodDeclaredInAnotherPartOfTheType()
    {
        var run = GeneratorHarness.Run(
            """
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Bank
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _total;
                [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _total += x;

                public void Spread(int n)
                {
                    using (_lock.Acquire())
                    {
                        Parallel.For(0, n, i => Step(i));
                        Parallel.For(0, n, Step);
                    }
                }
            }
            """,
            """
            public sealed partial class Bank
            {
                private void Step(int i) => Add(i);
            }
            """);

        Compiles(run);
        var found = run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)).OrderBy(static s => s).ToList();
        Assert.Equal(["LSM0023 Step", "LSM0023 Step(i)"], found);
    }

    /// <summary>
    /// A constructor holds the object's state for its own thread only, so a guarded core of the object given by name to a
    /// parallel loop it runs (<c>Parallel.For(0, n, BumpCore)</c>), called from a body of one (<c>i =&gt; BumpCore(i)</c>),
    /// or kept in a local given to one, writes it from several threads at once: LSM0020 at the method group or call, as
    /// for the lambda in its place (the core's body is no hold: nothing takes the lock). Not for a core that only reads,
    /// writes through <c>Interlocked</c>, fills its own array element, or takes the lock itself, nor one called serially.
    /// </summary>
    [Fact]
    public void LSM0020_ForAGuardedCoreThatAConstructorRunsInAParallelLoop() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly int[] _slots = new int[8];

            public Tally(int n)
            {
                Parallel.For(0, n, {|LSM0020:BumpCore|});
                Parallel.For(0, n, i => {|LSM0020:BumpCore(i)|});
                Action<int> kept = {|LSM0020:BumpCore|};
                Parallel.For(0, n, kept);
                Parallel.For(0, n, ReadCore);
                Parallel.For(0, n, i => AtomicCore(i));
                Parallel.For(0, 8, FillCore);
                Parallel.For(0, n, Locked);
                Parallel.For(0, n, i => { using (_lock.Acquire()) { BumpCore(i); } });
                BumpCore(1);
            }

            [Guarded(Lock = nameof(_lock))] private void BumpCore(int i) => _n += i;
            [Guarded(Lock = nameof(_lock))] private void ReadCore(int i) => Console.WriteLine(_n + i);
            [Guarded(Lock = nameof(_lock))] private void AtomicCore(int i) => Interlocked.Add(ref _n, i);
            [Guarded(Lock = nameof(_lock))] private void FillCore(int i) => _slots[i] = i;
            private void Locked(int i) { using (_lock.Acquire()) { _n += i; } }
        }
        """));

    /// <summary>
    /// LSM0020 at a guarded core that a constructor runs in a parallel loop says what fixes it there: take the lock in each
    /// run around the call, or call the generated wrapper, by name, instead of the core. Not the advice for a plain access
    /// ("use it from a [Guarded] method"): the core already is one, and that is the trouble.
    /// </summary>
    [Fact]
    public void LSM0020_ForAGuardedCoreInAConstructorsParallelLoop_SaysToTakeTheLockInEachRunOrCallTheWrapper()
    {
        var run = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public Tally(int n)
                {
                    Parallel.For(0, n, BumpCore);
                    Parallel.For(0, n, i => BumpCore(i));
                }

                [Guarded(Lock = nameof(_lock))] private void BumpCore(int i) => _n += i;
            }
            """);

        Compiles(run);
        var messages = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0020").Select(static d => d.GetMessage()).ToList();
        Assert.Equal(2, messages.Count);
        Assert.All(messages, static m =>
        {
            Assert.Contains("; take '_lock' in each run, around the call of 'BumpCore' ('using var scope = _lock.Acquire();' in the body, before it)", m);
            Assert.EndsWith(", or call its wrapper 'Bump' instead of the core", m);
            Assert.DoesNotContain("[Guarded", m);
        });
    }

    /// <summary>
    /// Calls and kept delegates in odd shapes never make an analyzer throw: a call from a parallel lambda to an abstract,
    /// extern, generic or unbound method, to a partial method without an implementation (and to one with it, whose
    /// implementing part is read), to a method that gives itself to the loop, a local passed by <c>ref</c>, a local kept
    /// in a field initializer's lambda, and a delegate local never given to anything.
    /// </summary>
    [Fact]
    public void CallsAndKeptDelegates_InOddShapes_NeverMakeAnAnalyzerThrow()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create("""
            using System;
            using System.Collections.Generic;
            using System.Runtime.InteropServices;
            using System.Threading.Tasks;
            using Locksmith;
            public abstract partial class Tally<T>
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;
                private static readonly Action<int> s_kept = i => { Action<int> inner = j => { }; Parallel.For(0, i, inner); };

                public void Count(int n, List<T> items)
                {
                    using (_lock.Acquire())
                    {
                        Parallel.For(0, n, i => Abstract(i));
                        Parallel.For(0, n, i => Declared(i));
                        Parallel.For(0, n, i => Implemented(i));
                        Parallel.For(0, n, i => Native(i));
                        Parallel.ForEach(items, x => Generic(x));
                        Parallel.For(0, n, i => Missing(i));
                        Parallel.For(0, n, i => Self(i));
                        Action<int> byRef = i => _n++;
                        Swap(ref byRef);
                        Parallel.For(0, n, byRef);
                        Action<int> unused = i => _n--;
                        Action<int> unbound = i => _n++;
                        Parallel.For(0, n, unbound, 3);
                    }
                }

                private static void Swap(ref Action<int> a) { }
                protected abstract void Abstract(int i);
                partial void Declared(int i);
                partial void Implemented(int i);
                partial void Implemented(int i) => _n += i;
                [DllImport("none")] private static extern void Native(int i);
                private void Generic<TItem>(TItem item) { using (_lock.Acquire()) { _n++; } }
                private void Self(int i) { if (i == 0) { Parallel.For(0, 1, j => Self(j)); } }
            }
            """));

        var crashes = run.AnalyzerDiagnostics.Where(static d => d.Id == "AD0001").Select(static d => d.GetMessage()).ToList();
        Assert.True(crashes.Count == 0, string.Join("\n", crashes));
        Assert.Contains(run.LocksmithDiagnostics, static d => d.Id == "LSM0056" && d.GetMessage().Contains("in 'Implemented', called from the body"));
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
