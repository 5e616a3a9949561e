using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A local that is <c>this</c> under another name (<c>var self = this;</c>, in a class, never written again) denotes
/// the same object as <c>this</c>: its state is held by this object's scopes and guarded methods, and its lock's scope
/// holds this object's state (from a trial of the analyzers: <c>var self = this; using (_lock.Acquire()) { self._n++; }</c>
/// was LSM0020, the receivers being compared by syntax). A local assigned again, passed by <c>ref</c>/<c>out</c> or
/// deconstructed into may be another object and is not one.
/// </summary>
public sealed class GuardedStateThroughAnAliasOfThisTests
{
    [Fact]
    public void NoLSM0020_ThroughAnAliasOfThis_AndLSM0023_ForItsWrapper() => Compiles(DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Counter
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _n += x;

            public void AliasInThisScope()
            {
                var self = this;
                using (_lock.Acquire()) { self._n++; }
            }

            public void ThisInTheAliasScope()
            {
                Counter self = (this);
                using (self._lock.Acquire()) { _n++; this._n++; self._n++; }
            }

            [Guarded(Lock = nameof(_lock))]
            private void ResetCore()
            {
                var self = this;
                self._n = 0;
            }

            public void WrapperOfTheHeldLock()
            {
                var self = this;
                using (_lock.Acquire()) { {|LSM0023:self.Add(1)|}; }
            }
        }
        """));

    [Fact]
    public void LSM0020_ThroughALocalThatMayBeAnotherObject() => Compiles(DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Counter
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public void Reassigned(Counter other)
            {
                var self = this;
                self = other;
                using (_lock.Acquire()) { {|LSM0020:self._n|}++; }
            }

            public void PassedByRef(Counter other)
            {
                var self = this;
                Swap(ref self, other);
                using (_lock.Acquire()) { {|LSM0020:self._n|}++; }
            }

            public void Deconstructed(Counter other)
            {
                var self = this;
                int n;
                (self, n) = (other, 1);
                using (_lock.Acquire()) { {|LSM0020:self._n|} += n; }
            }

            public void AnotherObject()
            {
                var other = new Counter();
                using (_lock.Acquire()) { {|LSM0020:other._n|}++; _n++; }
                using (other._lock.Acquire()) { other._n++; }
            }

            private static void Swap(ref Counter target, Counter value) => target = value;
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
