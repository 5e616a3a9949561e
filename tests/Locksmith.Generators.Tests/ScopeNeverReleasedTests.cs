using System;
using System.Linq;
using System.Reflection;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0053: the scope of an acquisition discarded, or kept in a local that never releases it, so the lock stays held
/// for good (a new user's trial: the build was silent and the next acquisition hung). Any use that might release it is silent.
/// </summary>
public sealed class ScopeNeverReleasedTests
{
    [Fact]
    public void LSM0053_DiscardedScopes_SyncAsyncLockSetAndStriped()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;

            public class Leaks
            {
                private readonly ExclusiveLock _l = new();
                private readonly AsyncExclusiveLock _al = new();
                private readonly AsyncExclusiveLock _al2 = new();
                private readonly ReadWriteLock _rw = new();
                private readonly CountingSemaphore _sem = new(2, 2);
                private readonly ExclusiveLock _a = new(), _b = new();
                private readonly StripedLock<string> _striped = new(8);
                private readonly AsyncStripedLock<string> _asyncStriped = new(8);
                private int _n;

                public void Leak() { {|LSM0053:_l.Acquire()|}; _n++; }
                public void Bodied() => {|LSM0053:_l.Acquire()|};
                public void Discard() { _ = {|LSM0053:_l.Acquire(TimeSpan.FromSeconds(1))|}; _n++; }
                public void Parenthesized() { _ = ({|LSM0053:this._l.Acquire()|}); }
                public void ReadWrite() { {|LSM0053:_rw.AcquireRead()|}; {|LSM0053:_rw.AcquireWrite()|}; }
                public void Permits() { {|LSM0053:_sem.Acquire(2)|}; }
                public void Stripes() { {|LSM0053:_striped.Acquire("a")|}; {|LSM0053:_striped.AcquireMany("a", "b")|}; }
                public void Set() { {|LSM0053:LockSet.Acquire(_a, _b)|}; }
                public async Task Leak3() { await {|LSM0053:_al.AcquireAsync()|}; _n++; }
                public async Task Configured() { await {|LSM0053:_al.AcquireAsync()|}.ConfigureAwait(false); }
                public async Task DiscardAwaited() { _ = await {|LSM0053:_al.TryAcquireAsync(TimeSpan.Zero)|}; }
                public async Task AsyncStripes() { await {|LSM0053:_asyncStriped.AcquireAsync("a")|}; await {|LSM0053:_asyncStriped.AcquireManyAsync(new[] { "a", "b" })|}; }
                public async Task AsyncSet() { await {|LSM0053:LockSet.AcquireAsync(_al, _al2)|}; }
                public void Unawaited() { {|LSM0053:_al.AcquireAsync()|}; _ = {|LSM0053:_al.AcquireAsync()|}; }
                public void InALambda() { Action leak = () => { {|LSM0053:_l.Acquire()|}; _n++; }; leak(); }
            }

            // Released by hand: the sync lock's dropped scope may be deliberate; an async lock has no Release.
            public class ReleasedByHand
            {
                private readonly ExclusiveLock _l = new();
                private readonly AsyncExclusiveLock _al = new();
                public async Task Run() { _l.Acquire(); await {|LSM0053:_al.AcquireAsync()|}; _l.Release(); }
            }

            // A release of another lock, or a Release of something else, does not release this one.
            public class ReleasesSomethingElse
            {
                private readonly ExclusiveLock _l = new();
                private readonly ExclusiveLock _other = new();
                private readonly System.Threading.SemaphoreSlim _pool = new(1);
                public void Run() { {|LSM0053:_l.Acquire()|}; _other.Acquire(); _other.Release(); _pool.Release(); }
            }
            """);
        Assert.Empty(GeneratorHarness.CompileProblems(run));
    }

    [Fact]
    public void LSM0053_ScopesKeptInLocals_NeverUsedOrOnlyRead_OutVarsAndTryForms()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;

            public class Leaks
            {
                private readonly ExclusiveLock _l = new();
                private readonly AsyncExclusiveLock _al = new();
                private readonly ReadWriteLock _rw = new();
                private readonly CountingSemaphore _sem = new(2, 2);
                private readonly ExclusiveLock _a = new(), _b = new();
                private readonly StripedLock<string> _striped = new(8);
                private int _n;

                public void Leak2() { var s = {|LSM0053:_l.Acquire()|}; _n++; }
                public void Typed() { ExclusiveLock.Scope s = {|LSM0053:_l.Acquire()|}; if (s.IsAcquired) _n++; }
                public void Counted() { var held = {|LSM0053:_sem.Acquire(2)|}; _n += held.Count + nameof(held).Length; }
                public async Task Awaited() { var s = await {|LSM0053:_al.AcquireAsync()|}; Console.WriteLine(s.IsAcquired); }
                public async Task Tried()
                {
                    var s = await {|LSM0053:_al.TryAcquireAsync(TimeSpan.FromSeconds(1))|};
                    if (!s.IsAcquired) return;
                    _n++;
                }
                public void Leak4() { {|LSM0053:_l.TryAcquire(TimeSpan.FromSeconds(1), out var s)|}; _n++; }
                public void TriedTyped() { if ({|LSM0053:_l.TryAcquire(out ExclusiveLock.Scope s)|}) _n++; }
                public void TriedRead() { if (!{|LSM0053:_rw.TryAcquireRead(TimeSpan.Zero, out var read)|}) return; _n++; }
                public void TriedStripe() { if ({|LSM0053:_striped.TryAcquire("a", out var stripe)|} && stripe.IsAcquired) _n++; }
                public void TriedSet() { if ({|LSM0053:LockSet.TryAcquire(TimeSpan.Zero, out var both, _a, _b)|}) _n += both.Count; }
                public void TriedPermit() { _ = {|LSM0053:_sem.TryAcquire(out var permit)|}; }
                public async Task CheckedAndDropped() { if ((await {|LSM0053:_al.TryAcquireAsync(TimeSpan.Zero)|}).IsAcquired) _n++; _n += {|LSM0053:_l.Acquire()|}.IsAcquired ? 1 : 0; }
            }
            """);
        Assert.Empty(GeneratorHarness.CompileProblems(run));
    }

    /// <summary>
    /// A scope assigned to a local declared before it (<c>s = _l.Acquire();</c>, <c>TryAcquire(out s)</c>), or written over
    /// by another value, is no more released than one in a local's declaration when the local is never used but to be
    /// written or have its properties read (before, any write of the local was taken to release it). A local disposed, in a
    /// <c>using</c>, passed by <c>ref</c> or captured stays silent, as the try/finally that disposes it does.
    /// </summary>
    [Fact]
    public void LSM0053_ScopesAssignedToALocalDeclaredBefore()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;

            public class Leaks
            {
                private readonly ExclusiveLock _l = new();
                private readonly AsyncExclusiveLock _al = new();
                private int _n;

                public void Assigned() { ExclusiveLock.Scope s; s = {|LSM0053:_l.Acquire()|}; _n++; }
                public async Task AssignedAwaited() { AsyncLockScope s = default; s = await {|LSM0053:_al.AcquireAsync()|}; if (s.IsAcquired) _n++; }
                public void OutToALocal() { ExclusiveLock.Scope s; if ({|LSM0053:_l.TryAcquire(out s)|}) _n++; }
                public void WrittenOver() { var s = {|LSM0053:_l.Acquire()|}; _n++; s = default; }

                public void Disposed() { ExclusiveLock.Scope s; s = _l.Acquire(); _n++; s.Dispose(); }
                public void DisposedInFinally() { ExclusiveLock.Scope s = default; try { s = _l.Acquire(); _n++; } finally { s.Dispose(); } }
                public void OutDisposed() { ExclusiveLock.Scope s; if (_l.TryAcquire(out s)) { using (s) { _n++; } } }
                public void ByRef() { ExclusiveLock.Scope s; s = _l.Acquire(); Drop(ref s); }
                public async Task Captured() { AsyncLockScope s = default; Action release = () => s.Dispose(); s = await _al.AcquireAsync(); release(); }
                public void WrittenOverAndDisposed() { var s = _l.Acquire(); s.Dispose(); s = _l.Acquire(); s.Dispose(); }

                private static void Drop(ref ExclusiveLock.Scope scope) => scope.Dispose();
            }
            """);
        Assert.Empty(GeneratorHarness.CompileProblems(run));
    }

    /// <summary>
    /// A scope deconstructed out of a tuple literal into a local that never releases it, or into a discard
    /// (<c>var (s, n) = (await _l.AcquireAsync(), 1);</c>, <c>(_, n) = …</c>), is never disposed either; before, neither
    /// analyzer saw it. A local disposed or returned afterwards stays silent.
    /// </summary>
    [Fact]
    public void LSM0053_ScopesDeconstructedIntoALocalOrADiscard()
    {
        var run = Markup.AssertDiagnostics("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;

            public class Leaks
            {
                private readonly AsyncExclusiveLock _al = new();
                private int _n;

                public async Task Declared() { var (s, n) = (await {|LSM0053:_al.AcquireAsync()|}, 1); _n += n; }
                public async Task Assigned() { AsyncLockScope s; int n; (s, n) = (await {|LSM0053:_al.AcquireAsync()|}, 2); if (s.IsAcquired) _n += n; }
                public async Task Discarded() { int n; (_, n) = (await {|LSM0053:_al.AcquireAsync()|}, 3); _n += n; }

                public async Task Disposed() { var (s, n) = (await _al.AcquireAsync(), 1); s.Dispose(); _n += n; }
                public async Task<AsyncLockScope> Returned() { var (s, n) = (await _al.AcquireAsync(), 1); _n += n; return s; }
            }
            """);
        Assert.Empty(GeneratorHarness.CompileProblems(run));
    }

    [Fact]
    public void ScopesThatMayBeReleased_AreNotReported() => Assert.Empty(Markup.AssertDiagnostics("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;

        public class Holder { public AsyncLockScope Scope; }

        public class Careful
        {
            private readonly ExclusiveLock _l = new();
            private readonly AsyncExclusiveLock _al = new();
            private readonly ReadWriteLock _rw = new();
            private readonly ExclusiveLock _a = new(), _b = new();
            private AsyncLockScope _kept;
            private int _n;

            public void UsingVar() { using var s = _l.Acquire(); _n++; }
            public void UsingStatement() { using (_l.Acquire()) { _n++; } using (var s = _rw.AcquireRead()) { _n += s.IsAcquired ? 1 : 0; } }
            public async Task AwaitUsing() { await using var s = await _al.AcquireAsync(); await using (await {|LSM0023:_al.AcquireAsync()|}) { _n++; } }
            public async Task UsingAwaited() { using var s = await _al.AcquireAsync().ConfigureAwait(false); _n++; }
            public ExclusiveLock.Scope Returned() => _l.Acquire();
            public ExclusiveLock.Scope ReturnedLocal() { var s = _l.Acquire(); _n++; return s; }
            public async Task<AsyncLockScope> ReturnedAsync() { var s = await _al.AcquireAsync(); return s; }
            public void Passed() { var s = _l.Acquire(); Drop(ref s); }
            public async Task PassedOn() { var s = await _al.AcquireAsync(); Keep(s); }
            public void DisposedInFinally() { var s = _l.Acquire(); try { _n++; } finally { s.Dispose(); } }
            public void DisposedIfAcquired() { if (_l.TryAcquire(out var s)) { using (s) { _n++; } } }
            public void DisposedOut() { _l.TryAcquire(TimeSpan.Zero, out var s); try { _n++; } finally { s.Dispose(); } }
            public async Task DisposedAsync() { var s = await _al.AcquireAsync(); try { _n++; } finally { await s.DisposeAsync(); } }
            public async Task InAField() { _kept = await _al.AcquireAsync(); var s = await _al.AcquireAsync(); _kept = s; }
            public async Task InAnObject(Holder holder) { var s = await _al.AcquireAsync(); holder.Scope = s; }
            public async Task InAList(List<AsyncLockScope> all) { all.Add(await _al.AcquireAsync()); var s = await _al.AcquireAsync(); all.Add(s); }
            public async Task<(AsyncLockScope, int)> InATuple() { var s = await _al.AcquireAsync(); return (s, 1); }
            public async Task Captured() { var s = await _al.AcquireAsync(); Action release = () => s.Dispose(); release(); }
            public async Task ReadInALambda() { var s = await _al.AcquireAsync(); Func<bool> held = () => s.IsAcquired; _n += held() ? 1 : 0; }
            public async Task LocalFunction() { var s = await _al.AcquireAsync(); void Free() => s.Dispose(); Free(); }
            public void AssignedToAnother() { var s = _l.Acquire(); var t = s; t.Dispose(); }
            public async Task Matched() { var s = await _al.AcquireAsync(); if (s is IDisposable d) d.Dispose(); }
            // A lambda that is only the acquisition: whoever runs it decides; here it is expected to fail.
            public void ExpectedToThrow()
            {
                Throws(() => _l.Acquire(TimeSpan.Zero));
                Throws(() => { _rw.AcquireWrite(TimeSpan.Zero); });
                Throws(() => _ = _l.Acquire(TimeSpan.Zero));
            }
            public Task ExpectedToThrowAsync() => ThrowsAsync(async () => await _al.AcquireAsync(TimeSpan.Zero));
            private static void Throws(Action action) { try { action(); } catch (LockTimeoutException) { } }
            private static async Task ThrowsAsync(Func<Task> action) { try { await action(); } catch (LockTimeoutException) { } }
            public void Probed() { if (_l.TryAcquire(out _)) _n++; Console.WriteLine(_rw.TryAcquireWrite(out _)); }
            public async Task TaskKept() { var task = _al.AcquireAsync(); using var s = await task; Task<AsyncLockScope> later = {|LSM0023:_al.AcquireAsync()|}.AsTask(); using var t = await later; }
            public async Task Set() { using var s = LockSet.Acquire(_a, _b); await using var t = await LockSet.AcquireAsync(_al, _al); }

            private static void Drop(ref ExclusiveLock.Scope scope) => scope.Dispose();
            private void Keep(AsyncLockScope scope) => _kept = scope;
        }

        // A lock that has a release of its own, which the type calls (an Enter/Exit pair, a finally): maybe deliberate.
        public class ByHand
        {
            private readonly ExclusiveLock _l = new();
            private readonly ReadWriteLock _rw = new();
            private readonly CountingSemaphore _sem = new(1, 1);
            public void Enter() => _l.Acquire();
            public void Exit() => _l.Release();
            public void Read() { var s = _rw.AcquireRead(); try { } finally { _rw.ReleaseRead(); } }
            public void Signal() { _sem.Acquire(); Action<int> later = _sem.Release; later(1); }
        }

        // The same, through an indexer (the name-only rule) and through '?.' and '!'.
        public class ByHandOtherwise
        {
            private readonly Dictionary<string, ExclusiveLock> _locks = new();
            private readonly ExclusiveLock? _maybe = new();
            private readonly ExclusiveLock? _forgiven = new();
            public void Enter(string key) => _locks[key].Acquire();
            public void Exit(string key) => _locks[key].Release();
            public void EnterMaybe() => _maybe!.Acquire();
            public void ExitMaybe() => _maybe?.Release();
            public void EnterForgiven() => _forgiven!.Acquire();
            public void ExitForgiven() => _forgiven!.Release();
        }

        // A type of its own with the same names: not a Locksmith acquisition.
        public readonly struct Scope : IDisposable { public bool IsAcquired => true; public void Dispose() { } }
        public sealed class ExclusiveLock2
        {
            public Scope Acquire() => default;
            public bool TryAcquire(out Scope scope) { scope = default; return true; }
            public ValueTask<Scope> AcquireAsync() => default;
        }
        public class Lookalike
        {
            private readonly ExclusiveLock2 _l = new();
            public async Task Use() { _l.Acquire(); var s = _l.Acquire(); _l.TryAcquire(out var t); await _l.AcquireAsync(); }
        }
        """).LocksmithDiagnostics.Where(static d => d.Id == "LSM0053"));

    [Fact]
    public void GeneratedWrappers_NeverTriggerIt()
    {
        var run = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Locksmith;

            public partial class Ledger
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                private readonly ReadWriteLock _rw = new();
                private readonly StripedLock<int> _stripes = new(8);
                private int _n;

                [Guarded(Lock = nameof(_lock))] private void PostCore() => _n++;
                [Guarded(Lock = nameof(_async))] private Task PostCoreAsync() { _n++; return Task.CompletedTask; }
                [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)] private int ReadCore() => _n;
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(id))] private void MoveCore(int id) => _n += id;
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))] private static void TransferCore(Ledger from, Ledger to) => from._n--;
            }
            """);

        Assert.Empty(GeneratorHarness.CompileProblems(run));
        Assert.Contains("Acquire", run.GeneratedText, StringComparison.Ordinal);
        Assert.Empty(run.LocksmithDiagnostics);
    }

    [Fact]
    public void LSM0053_PostgresScopes()
    {
        var run = Markup.AssertDiagnostics(
            """
            using System;
            using System.Threading.Tasks;
            using Locksmith.Postgres;

            public class Jobs
            {
                public async Task Leak(PostgresExclusiveLock nightly, PostgresKeyedLock<int> accounts)
                {
                    await {|LSM0053:nightly.AcquireAsync()|};
                    var s = await {|LSM0053:nightly.TryAcquireAsync(TimeSpan.FromSeconds(1))|};
                    if (s.IsLost) return;
                    await {|LSM0053:accounts.AcquireManyAsync(new[] { 1, 2 })|};
                    _ = await {|LSM0053:PostgresLockSet.AcquireAsync(accounts.Request(1), accounts.Request(2))|};
                }

                public async Task Careful(PostgresExclusiveLock nightly, PostgresKeyedLock<int> accounts)
                {
                    await using var s = await nightly.AcquireAsync();
                    await using (var both = await PostgresLockSet.AcquireAsync(accounts.Request(1), accounts.Request(2))) { }
                    using var one = await accounts.AcquireAsync(3);
                }
            }
            """,
            MetadataReference.CreateFromFile(typeof(Locksmith.Postgres.PostgresLockProvider).Assembly.Location));
        Assert.Empty(GeneratorHarness.CompileProblems(run));
    }

    /// <summary>
    /// The list of scope types the analyzer knows is every public disposable struct named <c>…Scope</c> of the runtime
    /// and of Locksmith.Postgres that holds a lock: a new scope type fails this until it is added.
    /// <see cref="AsyncLockFlowScope"/> is a flow's claim, not a hold (LSM0058 knows it by its own name).
    /// </summary>
    [Fact]
    public void KnownScopeTypes_AreEveryPublicScopeOfTheRuntime()
    {
        var scopes = new[] { typeof(ExclusiveLock).Assembly, typeof(Locksmith.Postgres.PostgresLockProvider).Assembly }
            .SelectMany(static a => a.GetExportedTypes())
            .Where(static t => t.IsValueType && t.Name.EndsWith("Scope", StringComparison.Ordinal) &&
                t.GetMethod("Dispose", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes) is not null &&
                t != typeof(AsyncLockFlowScope))
            .Select(static t => t.FullName!)
            .Order(StringComparer.Ordinal);

        Assert.Equal(scopes, KnownNames.ScopeTypes.Order(StringComparer.Ordinal));
    }
}
