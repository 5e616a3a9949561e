using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lambda kept in a local, or in a private field of this object that the type only assigns and invokes through
/// <c>this</c>, runs where it is invoked: LSM0020 judges guarded state it touches by the holds around those invocations,
/// not around the place it is made (before, a lambda made outside the hold and invoked in it was reported, and one made in
/// the hold and invoked after it was not).
/// </summary>
public sealed class GuardedStateInAKeptDelegateTests
{
    [Fact]
    public void LSM0020_InAKeptDelegate_WhereItIsInvoked()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Counter
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private int _count;
                [Guarded(Lock = nameof(_async))] private int _flow;
                private Action? _callback;
                private Action? _later;
                private Action? _guarded;
                private Action? _flowed;

                public void SetCallback() { _callback = () => _count++; }
                public void InvokeCallback() { using (_lock.Acquire()) { this._callback!(); } }
                public void InvokeCallbackAgain() { using var scope = _lock.Acquire(); _callback?.Invoke(); }

                public void SetLater() { using (_lock.Acquire()) { _later = () => {|LSM0020:_count|}++; } }
                public void InvokeLater() { _later!(); }

                public void SetGuarded() { _guarded = () => _count--; }
                [Guarded(Lock = nameof(_lock))] private void RunGuardedCore() => _guarded!();

                public void SetFlowed() { _flowed = () => _flow++; }
                public async Task RunFlowed() { using (await _async.AcquireAsync()) { _flowed!(); } }

                public void MadeOutside() { Action bump = () => _count++; using (_lock.Acquire()) { bump(); } }
                public void MadeInside() { Action bump; using (_lock.Acquire()) { bump = () => {|LSM0020:_count|}++; bump(); } bump(); }
                public void NeverInvoked() { Action bump = () => _count++; }
                public void TakesItItself() { Action bump = () => { using (_lock.Acquire()) { _count++; } }; bump(); }
                public void PassedOn() { Action bump = () => {|LSM0020:_count|}++; using (_lock.Acquire()) { Run(bump); } }

                private static void Run(Action action) => action();
            }
            """);

        Assert.Empty(GeneratorHarness.CompileProblems(run));
        Assert.Equal(
            "'_count' is guarded by '_lock' but is written here without holding it (in a lambda kept in '_later', which runs where it is invoked: in 'Counter.InvokeLater', where the lock is not held); " +
                "take the lock around that invocation, or in the lambda ('using var scope = _lock.Acquire();' at its start)",
            Message(run, "void SetLater()"));
        Assert.Contains("(in a lambda kept in 'bump', which runs where it is invoked: in 'Counter.MadeInside', where the lock is not held)", Message(run, "void MadeInside()"), StringComparison.Ordinal);
    }

    /// <summary>
    /// What holds without a lock still holds in a kept delegate invoked where no lock is held: an object it initializes
    /// (<c>new Counter { _count = 1 }</c>) and an initializer it is invoked in, which run before the object is shared; and a
    /// delegate invoking itself runs where it is first invoked, under the hold there.
    /// </summary>
    [Fact]
    public void KeptDelegate_InAnObjectInitializerOrAnInitializer_IsNotReported() => Assert.Empty(Markup.AssertDiagnostics("""
        using System;
        using Locksmith;
        public sealed partial class Counter
        {
            private static readonly ExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(s_lock))] private static int s_total;
            private static readonly int s_seed = Run(() => { Action bump = () => s_total++; bump(); });

            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;

            public static Counter Make() { Func<Counter> make = () => new Counter { _count = s_seed }; return make(); }
            public void Recurse(int n) { Action? step = null; step = () => { if (_count++ < n) step!(); }; using (_lock.Acquire()) { step(); } }
            private static int Run(Action action) { action(); return 1; }
        }
        """).LocksmithDiagnostics);

    /// <summary>
    /// An async lambda kept in a local runs at its invocation only up to its first await; the rest runs when that await
    /// resumes, after a synchronous lock's scope around the invocation has ended. So a synchronous lock held where it is
    /// invoked does not count for it (it is judged where it is made, as before); an async lock's flow keeps holding.
    /// </summary>
    [Fact]
    public void LSM0020_InAKeptAsyncLambda_ASynchronousHoldWhereItIsInvoked_DoesNotCount() => Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private int _count;
            [Guarded(Lock = nameof(_async))] private int _flow;

            public void Later() { Func<Task> later = async () => { await Task.Yield(); {|LSM0020:_count|}++; }; using (_lock.Acquire()) { _ = later(); } }
            public async Task Flowed() { Func<Task> later = async () => { await Task.Yield(); _flow++; }; using (await _async.AcquireAsync()) { await later(); } }
        }
        """);

    private static string Message(GeneratorRun run, string code) => run.LocksmithDiagnostics
        .Single(d => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString().Contains(code, StringComparison.Ordinal))
        .GetMessage(CultureInfo.InvariantCulture);
}
