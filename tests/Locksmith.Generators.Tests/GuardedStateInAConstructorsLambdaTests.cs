using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A constructor (or initializer) holds its own object's guarded state, since no other thread can see the object yet;
/// a lambda it keeps to run later does not: an event handler it subscribes, a delegate it gives to a constructor (<c>new Timer(…)</c>, <c>new Thread(…)</c>, <c>new Lazy&lt;T&gt;(…)</c>), or work it starts
/// (<c>Task.Run</c>, <c>ThreadPool.QueueUserWorkItem</c>) runs after the object is shared, beside the methods that take
/// the lock (from a trial of the analyzers on realistic code: <c>Changed += (s, e) =&gt; _count++;</c> in a constructor
/// was silent). Lambdas run in the constructor itself (<c>seed.ForEach(…)</c>, a query materialized there, a lambda
/// given to another method), delegates stored in a field or property (a condition's predicate cached there is run under
/// the lock, as in the worker sample's queue) and local functions stay silent: when unsure, the constructor holds.
/// </summary>
public sealed class GuardedStateInAConstructorsLambdaTests
{
    [Fact]
    public void LSM0020_InALambdaAConstructorKeepsToRunLater() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Feed
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            private readonly Timer _timer;
            private readonly Lazy<int> _total;
            private readonly Action _reset;
            private Func<int> Peek { get; }
            public event EventHandler? Changed;

            public Feed(Feed source, List<int> seed)
            {
                _items.AddRange(seed.Where(x => x > _count));
                seed.ForEach(x => _count += x);
                _count = seed.Select(x => x + _count).Sum();
                Bump();
                void Bump() => _count++;

                source.Changed += (sender, e) => {|LSM0020:_count|}++;
                source.Changed += delegate { {|LSM0020:_items|}.Clear(); };
                _timer = new Timer(_ => {|LSM0020:_count|}++, null, 0, 100);
                _total = new Lazy<int>(() => {|LSM0020:_items|}.Sum());
                _reset = () => _count = 0;
                Peek = () => _count;
                new Thread(() => {|LSM0020:_items|}.Add(1)).Start();
                _ = Task.Run(() => {|LSM0020:_count|}--);
                ThreadPool.QueueUserWorkItem(_ => {|LSM0020:_count|}++);
                source.Changed += (sender, e) => { using var scope = _lock.Acquire(); _count++; };
            }
        }

        public static partial class Totals
        {
            private static readonly ExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(s_lock))] private static int s_total = 1;
            private static readonly Func<int> s_peek = () => s_total;

            static Totals()
            {
                s_total = 2;
                AppDomain.CurrentDomain.ProcessExit += (sender, e) => {|LSM0020:s_total|} = 0;
            }
        }
        """));

    /// <summary>
    /// Work a constructor starts is known by the BCL's own types (top-level <c>System.Threading.Tasks.Task</c>,
    /// <c>TaskFactory</c>, <c>System.Threading.ThreadPool</c>), not by their simple names: a type of the user's named
    /// <c>Task</c> with a <c>Run</c> that runs the delegate at once, in another namespace or nested in a type of
    /// <c>System.Threading.Tasks</c> (a shim), runs it in the constructor, which holds the state for it. Before, the nested
    /// one was matched by its names and reported.
    /// </summary>
    [Fact]
    public void UsersTaskRun_IsNotWorkTheConstructorStarts() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using Locksmith;

        namespace Shims
        {
            public static class Task { public static void Run(Action work) => work(); }
        }

        namespace System.Threading.Tasks
        {
            public static class Shim
            {
                public static class Task { public static void Run(Action work) => work(); }
            }
        }

        namespace System.Threading
        {
            public static class Shim
            {
                public static class ThreadPool { public static void QueueUserWorkItem(Action work) => work(); }
            }
        }

        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public Tally()
            {
                Shims.Task.Run(() => _n++);
                System.Threading.Tasks.Shim.Task.Run(() => _n++);
                System.Threading.Shim.ThreadPool.QueueUserWorkItem(() => _n++);
                System.Threading.Tasks.Task.Run(() => {|LSM0020:_n|}++);
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
