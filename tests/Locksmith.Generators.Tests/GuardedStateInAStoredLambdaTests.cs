using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lambda made under a hold and stored to run later (assigned to a property, a field others can reach, an indexer
/// slot; subscribed to an event; returned) runs when it is invoked, maybe after the hold: the
/// scope or guarded method around the place it is made does not hold in it, so guarded state it touches is LSM0020,
/// whose message says so and says to take the lock in the lambda (before, the hold around it counted and nothing was
/// reported). A lambda run inline, one kept in a local that the hold invokes, one that takes the lock itself, and one kept
/// in a private field the type only invokes through <c>this</c> still count as held.
/// </summary>
public sealed class GuardedStateInAStoredLambdaTests
{
    [Fact]
    public void LSM0020_InALambdaStoredToRunLater_NotInOneRunInTheHold()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Collections.Generic;
            using System.Linq;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Source
            {
                public event EventHandler? Changed;
                public void Raise() => Changed?.Invoke(this, EventArgs.Empty);
            }
            public sealed class Parser
            {
                public event EventHandler? Found;
                public Func<int, int>? Map { get; set; }
                public Func<int>[] Slots = new Func<int>[1];
                public void Run() => Found?.Invoke(this, EventArgs.Empty);
            }
            public sealed partial class Counter
            {
                private readonly ExclusiveLock _lock = new();
                private readonly ReadWriteLock _rw = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private int _count;
                [Guarded(Lock = nameof(_rw))] private int _shared;
                [Guarded(Lock = nameof(_async))] private int _flow;
                private readonly Dictionary<string, Action> _handlers = new();
                private Action? _kept;
                public Func<int>? Reader { get; set; }
                public Func<Func<int>>? Maker { get; set; }
                private Parser? _parser;

                public void Property() { using (_lock.Acquire()) { Reader = () => {|LSM0020:_count|}; } }
                public void Slot() { using var scope = _lock.Acquire(); _handlers["bump"] = () => {|LSM0020:_count|}++; }
                public void Subscribe(Source source) { using (_lock.Acquire()) { source.Changed += (s, e) => {|LSM0020:_count|}++; } }
                public Func<int> Snapshot() { using (_lock.Acquire()) { return () => {|LSM0020:_count|}; } }
                [Guarded(Lock = nameof(_lock))] private void WatchCore() => Reader = () => {|LSM0020:_count|};
                public void ReadScope() { using (_rw.AcquireRead()) { Reader = () => {|LSM0020:_shared|}++; } }
                public async Task Flow() { using (await _async.AcquireAsync()) { Reader = () => {|LSM0020:_flow|}; } }

                public void Inline(List<int> items) { using (_lock.Acquire()) { items.ForEach(x => _count += x); } }
                public void Local() { using (_lock.Acquire()) { Action bump = () => _count++; bump(); } }
                public void TakesItItself() { using (_lock.Acquire()) { Reader = () => { using (_lock.Acquire()) { return _count; } }; } }
                public void KeptPrivately() { using (_lock.Acquire()) { _kept = () => _count++; _kept(); } }
                public int MadeInline(List<int> items) { using (_lock.Acquire()) { return items.Select(i => (Func<int>)(() => _count + i)).Sum(f => f()); } }
                public int MadeByALocalFunction() { using (_lock.Acquire()) { Func<int> Make() => () => _count; return Make()(); } }
                public int MadeByALocalLambda() { using (_lock.Acquire()) { Func<Func<int>> make = () => () => _count; return make()(); } }
                public void MadeByAStoredLambda() { using (_lock.Acquire()) { Maker = () => () => {|LSM0020:_count|}; } }
                public void OnALocalsEvent() { using (_lock.Acquire()) { var parser = new Parser(); parser.Found += (s, e) => _count++; parser.Run(); } }
                public int InALocalsProperty(List<int> items) { using (_lock.Acquire()) { var p = new Parser { Map = x => x + _count }; return items.Select(p.Map).Sum(); } }
                public int InALocalsSlot() { using (_lock.Acquire()) { var p = new Parser(); p.Slots[0] = () => _count; p.Map = x => x - _count; return p.Slots[0]() + p.Map(1); } }
                public void InAFieldsObject() { using (_lock.Acquire()) { _parser = new Parser { Map = x => x + {|LSM0020:_count|} }; } }
            }
            """);

        string Message(string code) => run.LocksmithDiagnostics
            .Single(d => Line(d).Contains(code, StringComparison.Ordinal))
            .GetMessage(CultureInfo.InvariantCulture);

        Assert.Equal(
            "'_count' is guarded by '_lock' but is read here without holding it (in a lambda stored in 'Reader' where the lock is held: it runs when it is invoked, maybe after '_lock' is released, so the hold where it is made does not count); " +
                "take the lock in the lambda ('using var scope = _lock.Acquire();' at its start)",
            Message("void Property()"));
        Assert.Contains("(in a lambda stored in '_handlers[\"bump\"]' where the lock is held", Message("void Slot()"), StringComparison.Ordinal);
        Assert.Contains("(in a lambda subscribed to 'Changed' where the lock is held", Message("void Subscribe("), StringComparison.Ordinal);
        Assert.Contains("(in a lambda returned where the lock is held", Message("Snapshot()"), StringComparison.Ordinal);
        // A lambda returned by a lambda or local function goes to the code that invokes it, in the hold; one that the
        // stored lambda returns is stored with it.
        Assert.Contains("(in a lambda stored in 'Maker' where the lock is held", Message("MadeByAStoredLambda()"), StringComparison.Ordinal);
        // Kept in an object a local holds (an event, a property, a slot of it) is kept in a local; in one a field holds is not.
        Assert.Contains("(in a lambda stored in 'Map' where the lock is held", Message("InAFieldsObject()"), StringComparison.Ordinal);
        Assert.Contains("(in a lambda stored in 'Reader' where the lock is held", Message("WatchCore()"), StringComparison.Ordinal);
        // Written under a read scope but in a stored lambda: no lock at all there, so LSM0020 only (not LSM0021).
        Assert.EndsWith("take the lock in the lambda ('using var scope = _rw.AcquireWrite();' at its start)", Message("ReadScope()"), StringComparison.Ordinal);
        Assert.EndsWith(
            "take the lock in the lambda ('using var scope = await _async.AcquireAsync();' at its start), made async: '_async' is an async lock, taken by awaiting, and the lambda in 'Counter.Flow' is synchronous: make it an async lambda (of a delegate type that returns a Task)",
            Message("Flow()"));

        static string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
    }

    /// <summary>
    /// A local that only holds an object from outside the method (read once from a field or a parameter, or <c>this</c>, and
    /// never written again) is that object: a lambda stored in it (a slot, a property, an event) is kept where that object
    /// keeps it and outlives the hold, as when stored through the field itself (before, it counted as kept in a local and
    /// nothing was reported). A local holding an object the method makes or a property gives, written again, or a copy of a struct still
    /// counts as a local. In a constructor too: one subscribed there under its lock is LSM0020 as without the lock.
    /// </summary>
    [Fact]
    public void LSM0020_InALambdaStoredInAnObjectALocalReadsFromAField()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Collections.Generic;
            using Locksmith;
            public sealed class Source
            {
                public event EventHandler? Changed;
                public Func<int>? Map { get; set; }
                public void Raise() => Changed?.Invoke(this, EventArgs.Empty);
            }
            public struct Slot { public Func<int>? Map; }
            public sealed partial class Counter
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _count;
                private readonly Dictionary<string, Action> _handlers = new();
                private readonly Source _source = new();
                private Slot _slot = new();
                public Source Shared { get; } = new();
                public Source Fresh => new();

                public void Slot() { using (_lock.Acquire()) { var h = _handlers; h["x"] = () => {|LSM0020:_count|}++; } }
                public void Event() { using (_lock.Acquire()) { var s = _source; s.Changed += (_, _) => {|LSM0020:_count|}++; } }
                public void This() { using (_lock.Acquire()) { var self = this; self.Shared.Map = () => {|LSM0020:_count|}; } }
                public void Parameter(Source p) { using (_lock.Acquire()) { var s = p; s.Changed += (_, _) => {|LSM0020:_count|}++; } }

                public void Made() { using (_lock.Acquire()) { var s = new Source(); s.Changed += (_, _) => _count++; s.Raise(); } }
                public void WrittenAgain() { using (_lock.Acquire()) { var s = _source; s = new Source(); s.Map = () => _count; _count += s.Map(); } }
                public void FromAProperty() { using (_lock.Acquire()) { var s = Fresh; s.Map = () => _count; _count += s.Map(); } }
                public void StructCopy() { using (_lock.Acquire()) { var c = _slot; c.Map = () => _count; _count += c.Map(); } }

                public Counter(Source p) { var s = p; using (_lock.Acquire()) { s.Changed += (_, _) => {|LSM0020:_count|}++; } }
            }
            """);

        Assert.Empty(GeneratorHarness.CompileProblems(run));
        Assert.Contains(
            "(in a lambda stored in 'h[\"x\"]', of the object 'h' holds ('_handlers'), where the lock is held: it runs when it is invoked, maybe after '_lock' is released",
            run.LocksmithDiagnostics.Single(static d => Line(d).Contains("void Slot()", StringComparison.Ordinal)).GetMessage(CultureInfo.InvariantCulture),
            StringComparison.Ordinal);

        static string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
    }

    /// <summary>
    /// A constructor's own hold (a scope it takes) counts as a method's does: a lambda it subscribes there runs later,
    /// where the scope does not hold, so it is LSM0020 as a stored lambda, as the same subscription without the scope is
    /// (by the constructor's rule, once). A delegate a constructor keeps in a property stays held, as without the scope.
    /// </summary>
    [Fact]
    public void LSM0020_InALambdaAConstructorSubscribesInItsHold_AsInAMethodsHold()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using Locksmith;
            public sealed class Source
            {
                public event EventHandler? Changed;
                public void Raise() => Changed?.Invoke(this, EventArgs.Empty);
            }
            public sealed partial class Counter
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _count;
                public Func<int>? Reader { get; set; }

                public Counter(Source s) { using (_lock.Acquire()) { s.Changed += (_, _) => {|LSM0020:_count|}++; } }
                public Counter(Source s, int n) { s.Changed += (_, _) => {|LSM0020:_count|} += n; }
                public Counter() { using (_lock.Acquire()) { Reader = () => _count; } }
            }
            """);

        Assert.Equal(2, run.LocksmithDiagnostics.Count());
        Assert.Contains(
            "(in a lambda subscribed to 'Changed' where the lock is held: it runs when it is invoked, maybe after '_lock' is released, so the hold where it is made does not count); " +
                "take the lock in the lambda ('using var scope = _lock.Acquire();' at its start)",
            run.LocksmithDiagnostics.Single(static d => Line(d).Contains("using (_lock", StringComparison.Ordinal)).GetMessage(CultureInfo.InvariantCulture),
            StringComparison.Ordinal);

        static string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
    }
}
