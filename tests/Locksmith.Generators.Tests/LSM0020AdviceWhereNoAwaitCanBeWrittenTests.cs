using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020's advice for an async lock quotes <c>using var scope = await _lock.AcquireAsync();</c>, which only async code
/// can write. Where the state is touched in a synchronous method (or accessor, local function, or a lambda that is not
/// run inline under a hold around it), the advice says so and says how to get there: make that code async (with the
/// return type it then takes), or, where it cannot be async (a property accessor, a method with an out parameter), move
/// the use into an async method. Async code, a lambda an async method runs inline, and a synchronous lock keep the
/// plain advice.
/// </summary>
public sealed class LSM0020AdviceWhereNoAwaitCanBeWrittenTests
{
    [Fact]
    public void LSM0020_ForAnAsyncLock_InSynchronousCode_SaysToMakeItAsync_OrToMoveTheUse()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Collections.Generic;
            using System.Linq;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Queue
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly AsyncReadWriteLock _rw = new();
                private readonly ExclusiveLock _sync = new();
                [Guarded(Lock = nameof(_lock))] private int _count;
                [Guarded(Lock = nameof(_rw))] private readonly List<int> _items = new();
                [Guarded(Lock = nameof(_sync))] private int _plain;

                public void Bump() { {|LSM0020:_count|}++; }
                public int Peek() => {|LSM0020:_count|};
                public Task Reset() { {|LSM0020:_count|} = 0; return Task.CompletedTask; }
                public int Total => {|LSM0020:_count|};
                public bool TryPeek(out int n) { n = {|LSM0020:_count|}; return true; }
                public IEnumerable<int> Each() { yield return {|LSM0020:_count|}; }
                public int Sum(int[] xs) => xs.Sum(x => x + {|LSM0020:_count|});
                public void Local() { Step(); void Step() => {|LSM0020:_count|}++; }
                public int Length() => {|LSM0020:_items|}.Count;
                public async Task<Func<int>> Getter() { await Task.Yield(); return () => {|LSM0020:_count|}; }

                public async Task Unlocked() { await Task.Yield(); {|LSM0020:_count|}++; }
                public Func<Task> Later() => async () => { await Task.Yield(); {|LSM0020:_count|}++; };
                public async Task<int> SumAsync(int[] xs) { await Task.Yield(); return xs.Sum(x => x + {|LSM0020:_count|}); }
                public void Plain() { {|LSM0020:_plain|}++; }
            }
            """);

        string Message(string code) => run.LocksmithDiagnostics
            .Single(d => d.Id == "LSM0020" && Line(d).Contains(code, StringComparison.Ordinal))
            .GetMessage(CultureInfo.InvariantCulture);

        // Where no await can be written, the advice names that code and how it becomes async, or where the use goes.
        Assert.Contains("'Queue.Bump' is synchronous: make it async ('async Task' in place of 'void')", Message("Bump()"), StringComparison.Ordinal);
        Assert.Contains("'Queue.Peek' is synchronous: make it async ('async Task<int>' in place of 'int')", Message("Peek()"), StringComparison.Ordinal);
        Assert.Contains("'Queue.Reset' is synchronous: make it async", Message("Reset()"), StringComparison.Ordinal);
        Assert.Contains("the property accessor 'Queue.Total' cannot be async: use it in an async method", Message("Total =>"), StringComparison.Ordinal);
        Assert.Contains("'Queue.TryPeek' cannot be async (it has a ref or out parameter): use it in an async method", Message("TryPeek("), StringComparison.Ordinal);
        Assert.Contains("'Queue.Each' is a synchronous iterator: make it an async iterator ('async IAsyncEnumerable<T>')", Message("Each()"), StringComparison.Ordinal);
        // A lambda run inline (Enumerable.Sum) is under the holds of the method around it: that method is to become async.
        Assert.Contains("'Queue.Sum' is synchronous: make it async ('async Task<int>' in place of 'int')", Message("Sum(int[] xs)"), StringComparison.Ordinal);
        Assert.Contains("the local function 'Queue.Local.Step' is synchronous: make it async ('async Task' in place of 'void')", Message("void Step()"), StringComparison.Ordinal);
        Assert.Contains("use it from an async [Guarded(Lock = nameof(_rw))] method, or inside 'using var scope = await _rw.AcquireReadAsync();' in async code ('_rw' is an async lock, taken by awaiting, and 'Queue.Length' is synchronous", Message("Length()"), StringComparison.Ordinal);
        // A lambda kept to run later holds what it takes itself, even in an async method.
        Assert.Contains("the lambda in 'Queue.Getter' is synchronous: make it an async lambda", Message("Getter()"), StringComparison.Ordinal);

        // Async code (an async lambda in a synchronous method, a lambda an async method runs inline) keeps the plain advice.
        foreach (string code in new[] { "Unlocked()", "Later()", "SumAsync(" })
        {
            Assert.EndsWith("use it from a [Guarded(Lock = nameof(_lock))] method, or inside 'using var scope = await _lock.AcquireAsync();'", Message(code), StringComparison.Ordinal);
        }

        Assert.EndsWith("use it from a [Guarded(Lock = nameof(_sync))] method, or inside 'using var scope = _sync.Acquire();'", Message("Plain()"), StringComparison.Ordinal);

        string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
    }

    /// <summary>
    /// A void method given as a delegate (<c>button.Click += OnClick;</c>, <c>Later(Tick)</c>), or with an event handler's
    /// shape (<c>(object sender, EventArgs e)</c>, subscribed maybe from markup), keeps the void its delegate returns:
    /// 'async Task' in its place would not convert. 'async void' is the async form it can take, so the advice says that.
    /// </summary>
    [Fact]
    public void LSM0020_ForAnAsyncLock_InAVoidMethodUsedAsADelegate_SaysAsyncVoid()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using Locksmith;
            public sealed class Button
            {
                public event EventHandler? Click;
                public void Press() => Click?.Invoke(this, EventArgs.Empty);
                public void Later(Action action) => action();
            }
            public partial class Form
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _count;

                public Form(Button button) { button.Click += OnClick; button.Later(Tick); }
                private void OnClick(object? sender, EventArgs e) { {|LSM0020:_count|}++; }
                public void OnLoaded(object? sender, EventArgs e) { {|LSM0020:_count|} = 0; }
                private void Tick() { {|LSM0020:_count|}--; }
                public void Bump() { {|LSM0020:_count|} += 2; }
            }
            """);

        string Message(string code) => run.LocksmithDiagnostics
            .Single(d => d.Id == "LSM0020" && Line(d).Contains(code, StringComparison.Ordinal))
            .GetMessage(CultureInfo.InvariantCulture);

        const string AsyncVoid = "make it 'async void', the only async form that delegate allows, and let no exception escape it";
        Assert.Contains("'Form.OnClick' is given as a delegate that returns void: " + AsyncVoid, Message("void OnClick("), StringComparison.Ordinal);
        Assert.Contains("'Form.Tick' is given as a delegate that returns void: " + AsyncVoid, Message("void Tick("), StringComparison.Ordinal);
        Assert.Contains("'Form.OnLoaded' is an event handler, whose delegate returns void: " + AsyncVoid, Message("void OnLoaded("), StringComparison.Ordinal);
        foreach (string code in new[] { "void OnClick(", "void Tick(", "void OnLoaded(" })
        {
            Assert.DoesNotContain("'async Task' in place of 'void'", Message(code), StringComparison.Ordinal);
        }

        Assert.Contains("'Form.Bump' is synchronous: make it async ('async Task' in place of 'void')", Message("void Bump("), StringComparison.Ordinal);

        static string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
    }

    /// <summary>
    /// A void method given as a delegate from another type than its own keeps its void as well: from a type nested in it
    /// (<c>b.Click += owner.OnNested;</c>), from the type a nested one is in (<c>button.Later(_inner.OnInner)</c>), or from a
    /// sibling type (<c>other.Later(owner.OnSibling)</c>), so the advice says
    /// 'async void' there too (before, only its own type's declarations were searched, and it said 'async Task' for the last two).
    /// </summary>
    [Fact]
    public void LSM0020_ForAnAsyncLock_InAVoidMethodGivenAsADelegateByAnotherType_SaysAsyncVoid()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using Locksmith;
            public sealed class Button
            {
                public event Action? Click;
                public void Press() => Click?.Invoke();
                public void Later(Action action) => action();
            }
            public partial class Form
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _count;

                private void OnNested() { {|LSM0020:_count|}++; }
                internal void OnSibling() { {|LSM0020:_count|}--; }
                public void Plain() { {|LSM0020:_count|} += 2; }

                private readonly Inner _inner = new();
                public Form(Button button) => button.Later(_inner.OnInner);

                private sealed class Wiring
                {
                    public Wiring(Form owner, Button button) => button.Click += owner.OnNested;
                }

                private sealed partial class Inner
                {
                    private readonly AsyncExclusiveLock _gate = new();
                    [Guarded(Lock = nameof(_gate))] private int _n;
                    internal void OnInner() { {|LSM0020:_n|}++; }
                }
            }
            public static class Sibling
            {
                public static void Wire(Form owner, Button other) => other.Later(owner.OnSibling);
            }
            """);

        string Message(string code) => run.LocksmithDiagnostics
            .Single(d => d.Id == "LSM0020" && Line(d).Contains(code, StringComparison.Ordinal))
            .GetMessage(CultureInfo.InvariantCulture);

        const string AsyncVoid = "is given as a delegate that returns void: make it 'async void', the only async form that delegate allows, and let no exception escape it";
        Assert.Contains("'Form.OnNested' " + AsyncVoid, Message("void OnNested("), StringComparison.Ordinal);
        Assert.Contains("'Form.OnSibling' " + AsyncVoid, Message("void OnSibling("), StringComparison.Ordinal);
        Assert.Contains("'Inner.OnInner' " + AsyncVoid, Message("void OnInner("), StringComparison.Ordinal);
        Assert.Contains("'Form.Plain' is synchronous: make it async ('async Task' in place of 'void')", Message("void Plain("), StringComparison.Ordinal);

        static string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
    }

    /// <summary>Top-level statements may await whether or not they do yet: the plain advice fits there.</summary>
    [Fact]
    public void LSM0020_ForAnAsyncLock_InTopLevelStatements_KeepsThePlainAdvice()
    {
        var compilation = TestCompilation.Create("""
            using Locksmith;
            var queue = new Queue();
            queue.Count++;
            public partial class Queue
            {
                public readonly AsyncExclusiveLock Lock = new();
                [Guarded(Lock = nameof(Lock))] public int Count;
            }
            """);
        var run = GeneratorHarness.Run(compilation.WithOptions(compilation.Options.WithOutputKind(OutputKind.ConsoleApplication)));

        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0020", diagnostic.Id);
        Assert.EndsWith(
            "use it from a [Guarded(Lock = nameof(Lock))] method of 'Queue', or inside 'using var scope = await queue.Lock.AcquireAsync();'",
            diagnostic.GetMessage(CultureInfo.InvariantCulture),
            StringComparison.Ordinal);
    }
}
