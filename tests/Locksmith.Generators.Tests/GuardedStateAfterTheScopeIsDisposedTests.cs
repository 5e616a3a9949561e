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

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
