using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Code that looks held by a helper's scope (<see cref="GuardedCoreHeldByAHelpersScopeTests"/>) but is not. A using of
/// an async helper's task that is not awaited (<c>using var t = TakeLedgerAsync();</c>, which compiles, since a Task is
/// IDisposable) disposes the task, and the lock may not even be taken yet: LSM0020 took it as holding. A helper whose
/// return is an <c>Acquire…</c>-named method of the project that is given the lock (<c>AcquireFor(_lock)</c>), or a
/// Locksmith acquisition that only reads the lock in an argument (<c>_other.Acquire(…_lock.OwnerThreadId…)</c>), was taken
/// as taking the lock by its name and arguments: it is now judged by its own body. Odd helpers (extern, abstract, a
/// partial with no body, recursion, errors in the code, one taking a parameter's lock) are refused, and no analyzer
/// throws on them.
/// </summary>
public sealed class HelperScopeSoundnessTests
{
    [Fact]
    public void LSM0020_InTheUsingOfAnAsyncHelpersTaskThatIsNotAwaited() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Ledger
        {
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_async))] private int _m;

            [Guarded(Lock = nameof(_async))]
            private Task BumpCoreAsync() { _m++; return Task.CompletedTask; }

            private async Task<AsyncLockScope> TakeLedgerAsync() => await _async.AcquireAsync();

            public async Task NotAwaited()
            {
                using var pending = TakeLedgerAsync();
                await {|LSM0020:BumpCoreAsync()|};
            }

            public async Task KeptAndNotAwaited()
            {
                var pending = TakeLedgerAsync();
                using (pending)
                {
                    {|LSM0020:_m|}++;
                }

                await Task.Yield();
            }

            public async Task DisposedInFinally()
            {
                var pending = TakeLedgerAsync();
                try
                {
                    await {|LSM0020:BumpCoreAsync()|};
                }
                finally
                {
                    pending.Dispose();
                }
            }

            public async Task AsTaskNotAwaited()
            {
                using (_async.AcquireAsync().AsTask())
                {
                    {|LSM0020:_m|}++;
                }

                await Task.Yield();
            }
        }
        """));

    [Fact]
    public void NoLSM0020_WhereTheHelpersTaskIsAwaited() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Ledger
        {
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_async))] private int _m;

            [Guarded(Lock = nameof(_async))]
            private Task BumpCoreAsync() { _m++; return Task.CompletedTask; }

            private async Task<AsyncLockScope> TakeLedgerAsync() => await _async.AcquireAsync();

            public async Task Awaited()
            {
                using var flow = AsyncLockFlow.Begin();
                using var s = await TakeLedgerAsync().ConfigureAwait(false);
                await BumpCoreAsync();
            }

            public async Task KeptThenAwaited()
            {
                using var flow = AsyncLockFlow.Begin();
                var pending = TakeLedgerAsync();
                using var s = await pending;
                _m++;
            }

            public async Task AsTaskAwaited()
            {
                using var s = await _async.AcquireAsync().AsTask();
                _m++;
            }
        }
        """));

    [Fact]
    public void LSM0020_WhereTheHelpersAcquireIsNotTheLocksOwn() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        public partial class Ledger
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ExclusiveLock _other = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            [Guarded(Lock = nameof(_lock))]
            private void BumpCore() => _n++;

            // Named like an acquisition and given the lock, but takes another one.
            private ExclusiveLock.Scope AcquireFor(ExclusiveLock which) => _other.Acquire();
            private ExclusiveLock.Scope TakeVia() => AcquireFor(_lock);
            // A Locksmith acquisition of another lock that only reads the lock in an argument.
            private ExclusiveLock.Scope TakeOtherTimed() => _other.Acquire(TimeSpan.FromMilliseconds(_lock.OwnerThreadId));
            // One that does take it through an Acquire…-named method of the project: judged by that method's body.
            private ExclusiveLock.Scope AcquireOwn() => _lock.Acquire();
            private ExclusiveLock.Scope TakeThroughOwn() => AcquireOwn();

            public void Cases()
            {
                using (TakeVia()) { {|LSM0020:BumpCore()|}; }
                using (TakeOtherTimed()) { {|LSM0020:_n|}++; }
                using (TakeThroughOwn()) { BumpCore(); }
            }
        }
        """));

    [Fact]
    public void LSM0020_InTheScopeOfOddHelpers_AndNoAnalyzerThrows()
    {
        var run = GeneratorHarness.Run("""
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            public abstract partial class Ledger
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                [Guarded(Lock = nameof(_lock))]
                private void BumpCore() => _n++;

                private static extern ExclusiveLock.Scope TakeExtern();
                protected abstract ExclusiveLock.Scope TakeAbstract();
                private partial ExclusiveLock.Scope TakePartial();
                private ExclusiveLock.Scope TakeA() => TakeB();
                private ExclusiveLock.Scope TakeB() => TakeA();
                private ExclusiveLock.Scope TakeSelf(int n) { if (n > 0) return TakeSelf(n - 1); return TakeSelf(n); }
                private ExclusiveLock.Scope TakeBroken() => _lock.Acquir();
                private ExclusiveLock.Scope TakeNoReturn() { }
                private ExclusiveLock.Scope TakeThrows() => throw new InvalidOperationException();
                private ExclusiveLock.Scope TakeDefault(bool ok) => ok ? _lock.Acquire() : default;
                private ExclusiveLock.Scope TakeLocal() { return Local(); ExclusiveLock.Scope Local() => _lock.Acquire(); }
                private ExclusiveLock.Scope TakeLambda() { Func<ExclusiveLock.Scope> take = () => _lock.Acquire(); return take(); }
                // On a parameter that is this object at the call, but need not be.
                private ExclusiveLock.Scope TakeFrom(Ledger self) => self._lock.Acquire();
                private static ExclusiveLock.Scope TakeOf(Ledger ledger) => ledger._lock.Acquire();
                private async Task<ExclusiveLock.Scope> TakeReleasedAsync()
                {
                    var s = _lock.Acquire();
                    try { await Task.Yield(); return _lock.Acquire(); } finally { s.Dispose(); }
                }

                public async Task Cases(bool ok)
                {
                    using (TakeExtern()) { BumpCore(); }
                    using (TakeAbstract()) { BumpCore(); }
                    using (TakePartial()) { BumpCore(); }
                    using (TakeA()) { BumpCore(); }
                    using (TakeSelf(1)) { BumpCore(); }
                    using (TakeBroken()) { BumpCore(); }
                    using (TakeNoReturn()) { BumpCore(); }
                    using (TakeThrows()) { BumpCore(); }
                    using (TakeDefault(ok)) { BumpCore(); }
                    using (TakeLocal()) { BumpCore(); }
                    using (TakeLambda()) { BumpCore(); }
                    using (await TakeReleasedAsync()) { BumpCore(); }
                    using (TakeMissing()) { BumpCore(); }
                    using (TakeFrom(this)) { BumpCore(); }
                    using (TakeOf(this)) { BumpCore(); }
                }
            }
            """);

        var thrown = run.AnalyzerDiagnostics.Where(static d => d.Id == "AD0001").ToList();
        Assert.True(thrown.Count == 0, Snapshot.Render(thrown));
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).Select(static d => d.Id).Distinct().ToList();
        Assert.Contains("CS1061", errors); // Acquir: the code has errors, as typed code often does
        // Every use is still reported: no odd helper is taken as holding the lock.
        int reported = run.LocksmithDiagnostics.Count(static d => d.Id == "LSM0020" && d.GetMessage().StartsWith("'BumpCore'", System.StringComparison.Ordinal));
        Assert.Equal(15, reported);
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
