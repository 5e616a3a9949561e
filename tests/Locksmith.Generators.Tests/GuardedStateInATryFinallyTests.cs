using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lock held by a <c>try</c>/<c>finally</c> instead of a <c>using</c>: the scope of an acquisition made before the
/// <c>try</c> and disposed in its <c>finally</c> (<c>var scope = _lock.Acquire(); try { … } finally { scope.Dispose(); }</c>,
/// what a generated wrapper does and what LSM0053 suggests), or a lock acquired before it and released by hand there
/// (<c>_lock.Acquire(); try { … } finally { _lock.Release(); }</c>). Guarded state used in the <c>try</c> (a <c>catch</c>,
/// or the <c>finally</c> before the release) holds the lock: no LSM0020 (from a trial of the analyzers on realistic
/// code: every such access was reported). After the <c>finally</c>, in a <c>try</c> whose <c>finally</c> releases
/// another lock or another object's, or where a <c>TryAcquire…</c>'s success is not checked, it is still reported; and
/// a wrapper of the held lock called in the <c>try</c> is LSM0023, one of a lower level LSM0022, and work started and
/// left running in the <c>try</c> of an async lock's scope LSM0026, as in a <c>using</c>.
/// </summary>
public sealed class GuardedStateInATryFinallyTests
{
    [Fact]
    public void NoLSM0020_InATryWhoseFinallyDisposesTheScope_OrReleasesTheLock() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Till
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReadWriteLock _rw = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private decimal _cash;
            [Guarded(Lock = nameof(_lock))] private bool _busy;
            [Guarded(Lock = nameof(_rw))] private int _version;
            [Guarded(Lock = nameof(_async))] private int _pending;

            public void Disposed(decimal amount)
            {
                var scope = _lock.Acquire();
                try { _cash += amount; }
                finally { scope.Dispose(); }
            }

            public void DisposedThroughThis(decimal amount)
            {
                var scope = this._lock.Acquire(TimeSpan.FromSeconds(1));
                try { this._cash += amount; }
                catch (InvalidOperationException) { _cash = 0; throw; }
                finally { _busy = false; scope.Dispose(); }
            }

            public void ReleasedByHand(decimal amount)
            {
                _lock.Acquire();
                try { _cash -= amount; }
                finally { _lock.Release(); }
            }

            public void WriteReleasedByHand()
            {
                _rw.AcquireWrite();
                try { _version++; }
                finally { _rw.ReleaseWrite(); }
            }

            public bool Tried(TimeSpan timeout)
            {
                if (_lock.TryAcquire(timeout, out var scope))
                {
                    try { _cash = 0; return true; }
                    finally { scope.Dispose(); }
                }

                return false;
            }

            public void TriedLeavingEarly(TimeSpan timeout)
            {
                if (!_lock.TryAcquire(timeout, out var scope)) return;
                try { _busy = true; }
                finally { scope.Dispose(); }
            }

            public async Task AwaitedAsync()
            {
                var scope = await _async.AcquireAsync();
                try { await Task.Yield(); _pending++; }
                finally { await scope.DisposeAsync(); }
            }

            public async Task TriedAsync(TimeSpan timeout)
            {
                var scope = await _async.TryAcquireAsync(timeout);
                if (!scope.IsAcquired) return;
                try { _pending--; }
                finally { scope.Dispose(); }
            }
        }
        """));

    [Fact]
    public void LSM0020_AfterTheFinally_UnderAnotherLocksFinally_OrAnUncheckedTry() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Till
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ExclusiveLock _other = new();
            [Guarded(Lock = nameof(_lock))] private decimal _cash;

            public void After(decimal amount)
            {
                var scope = _lock.Acquire();
                try { _cash += amount; }
                finally { scope.Dispose(); }
                {|LSM0020:_cash|} = 0;
            }

            public void InTheFinallyAfterTheRelease()
            {
                var scope = _lock.Acquire();
                try { }
                finally { scope.Dispose(); {|LSM0020:_cash|} = 0; }
            }

            public void AnotherLock()
            {
                var scope = _other.Acquire();
                try { {|LSM0020:_cash|}++; }
                finally { scope.Dispose(); }
            }

            public void AnotherLockReleased()
            {
                _other.Acquire();
                try { {|LSM0020:_cash|}++; }
                finally { _other.Release(); }
            }

            public void NotAcquiredBeforeTheTry()
            {
                try { {|LSM0020:_cash|}++; }
                finally { _lock.Release(); }
            }

            public void AnotherObject(Till other)
            {
                var scope = other._lock.Acquire();
                try { {|LSM0020:_cash|}++; other._cash++; }
                finally { scope.Dispose(); }
            }

            public void Unchecked(TimeSpan timeout)
            {
                _lock.TryAcquire(timeout, out var scope);
                try { {|LSM0020:_cash|}++; }
                finally { scope.Dispose(); }
            }
        }
        """));

    [Fact]
    public void LSM0023_AndLSM0022_ForAWrapperCalledInTheTry() => Compiles(DiagnosticCheck.Verify("""
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

            public void Again()
            {
                var scope = _lock.Acquire();
                try { {|LSM0023:Add(1)|}; }
                finally { scope.Dispose(); }
            }

            public void Lower()
            {
                _lock.Acquire();
                try { {|LSM0022:_ledger.Post(1)|}; }
                finally { _lock.Release(); }
            }

            public void AfterTheFinally()
            {
                var scope = _lock.Acquire();
                try { _total++; }
                finally { scope.Dispose(); }
                Add(1);
                _ledger.Post(1);
            }
        }
        """));

    [Fact]
    public void LSM0026_ForWorkStartedInTheTry_OfAnAsyncScopeDisposedInTheFinally() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Pump
        {
            private readonly AsyncExclusiveLock _lock = new();
            private Task? _pending;
            private static Task SaveAsync(int x) => Task.CompletedTask;

            public async Task Started()
            {
                var scope = await _lock.AcquireAsync();
                try
                {
                    _ = {|LSM0026:Task.Run(() => 1)|};
                    _pending = {|LSM0026:SaveAsync(1)|};
                }
                finally { await scope.DisposeAsync(); }
            }

            public async Task AwaitedOrAfterOrSuppressed()
            {
                var scope = await _lock.AcquireAsync();
                try
                {
                    var saved = SaveAsync(2);
                    await saved;
                    using (ExecutionContext.SuppressFlow()) { _ = Task.Run(() => 1); }
                }
                finally { scope.Dispose(); }
                _ = Task.Run(() => 2);
            }
        }
        """));

    /// <summary>
    /// The scope acquired as a statement of the <c>try</c> into a local declared before it (<c>Scope s = default; try {
    /// s = _lock.Acquire(); … } finally { s.Dispose(); }</c>; a default scope's <c>Dispose</c> does nothing if the
    /// acquisition threw) holds after that statement: no LSM0020 (reported before, from the false-positive sweep). Before
    /// it, and after an early dispose, it is still reported.
    /// </summary>
    [Fact]
    public void NoLSM0020_AfterTheAcquisitionInTheTryWhoseFinallyDisposesIt() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Ledger
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_async))] private int _pulled;

            public int Take()
            {
                ExclusiveLock.Scope scope = default;
                try
                {
                    {|LSM0020:_n|}--;
                    scope = _lock.Acquire();
                    _n++;
                    scope.Dispose();
                    return {|LSM0020:_n|};
                }
                finally { scope.Dispose(); }
            }

            public async Task PullAsync()
            {
                AsyncLockScope scope = default;
                try
                {
                    scope = await _async.AcquireAsync().ConfigureAwait(false);
                    _pulled++;
                }
                finally { await scope.DisposeAsync(); }
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
