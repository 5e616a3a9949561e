using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A using declaration's scope released early (<c>using var scope = await _lock.AcquireAsync(); … scope.Dispose();</c>,
/// <c>await scope.DisposeAsync()</c>) holds nothing after that statement: guarded state used there is LSM0020 (from a
/// trial of the analyzers on async code: it counted as held to the end of the block). A dispose in a branch that
/// leaves (<c>if (…) { scope.Dispose(); return; }</c>) does not end the hold for the code after it.
/// </summary>
public sealed class GuardedStateAfterTheScopeIsDisposedTests
{
    [Fact]
    public void LSM0020_AfterAnEarlyDispose_OfAUsingDeclarationsScope() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Feed
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly ExclusiveLock _sync = new();
            [Guarded(Lock = nameof(_lock))] private int _pending;
            [Guarded(Lock = nameof(_sync))] private int _count;

            public async Task DisposedAsync(CancellationToken ct)
            {
                await using var scope = await _lock.AcquireAsync(ct).ConfigureAwait(false);
                _pending++;
                await scope.DisposeAsync().ConfigureAwait(false);
                {|LSM0020:_pending|}++;
            }

            public async Task Disposed()
            {
                using var scope = await _lock.AcquireAsync();
                _pending++;
                scope.Dispose();
                await Task.Yield();
                if (true) { {|LSM0020:_pending|}--; }
            }

            public void DisposedSync()
            {
                using var scope = _sync.Acquire();
                _count++;
                scope.Dispose();
                {|LSM0020:_count|} = 0;
            }

            public async Task DisposedOnlyInABranchThatLeaves(bool stop)
            {
                using var scope = await _lock.AcquireAsync();
                if (stop) { scope.Dispose(); return; }
                _pending++;
                {
                    _pending--;
                }
            }
        }
        """));

    /// <summary>
    /// The scope released early through a local that copies it (<c>var t = scope; t.Dispose();</c>): the copy's
    /// <c>Dispose</c> releases the lock as the scope's own would, so guarded state used after it is LSM0020; and a scope
    /// of a <c>try</c>/<c>finally</c> (<c>var scope = _lock.Acquire(); try { … } finally { scope.Dispose(); }</c>) released
    /// early in the <c>try</c>, directly or through such a copy, holds nothing after that statement either. A copy assigned
    /// anything else too, disposed only in a branch that leaves, or of another lock's scope does not end the hold.
    /// </summary>
    [Fact]
    public void LSM0020_AfterAnEarlyDispose_ThroughACopyOfTheScope_OrInATry() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Feed
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly ExclusiveLock _sync = new();
            private readonly ExclusiveLock _other = new();
            [Guarded(Lock = nameof(_lock))] private int _pending;
            [Guarded(Lock = nameof(_sync))] private int _count;

            public void ThroughACopy()
            {
                using var scope = _sync.Acquire();
                _count++;
                var copy = scope;
                copy.Dispose();
                {|LSM0020:_count|}++;
            }

            public async Task ThroughAnAssignedCopyAsync()
            {
                using var scope = await _lock.AcquireAsync();
                _pending++;
                AsyncLockScope copy;
                copy = scope;
                await copy.DisposeAsync();
                {|LSM0020:_pending|}--;
            }

            public void InATry()
            {
                var scope = _sync.Acquire();
                try
                {
                    _count++;
                    scope.Dispose();
                    {|LSM0020:_count|}++;
                }
                finally
                {
                    scope.Dispose();
                }
            }

            public void InATryThroughACopy()
            {
                var scope = _sync.Acquire();
                try
                {
                    var copy = scope;
                    _count++;
                    copy.Dispose();
                    {|LSM0020:_count|}--;
                }
                finally
                {
                    scope.Dispose();
                }
            }

            public void NotTheSameScope(bool stop)
            {
                using var scope = _sync.Acquire();
                using var other = _other.Acquire();
                var copy = scope;
                copy = other;
                copy.Dispose();
                _count++;
                var kept = scope;
                if (stop) { kept.Dispose(); return; }
                _count--;
                var unused = scope;
                _count++;
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
