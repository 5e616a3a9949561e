using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A <c>TryAcquire…</c> whose success is checked by a retry loop (<c>while (!_lock.TryAcquire(slice, out scope)) { … }</c>,
/// or <c>do { … } while (!scope.IsAcquired)</c>), which only ends once the lock is taken, or by a <c>bool</c> local that
/// keeps its result (<c>bool taken = _lock.TryAcquire(…, out var scope); if (!taken) return;</c>): the scope holds the
/// lock after it, as after <c>if (!scope.IsAcquired) return;</c> (from a trial of the analyzers on realistic code: both
/// were LSM0020, saying the code also runs when the lock was not taken). A loop that a <c>break</c> or <c>goto</c> may
/// leave early, and a <c>bool</c> local assigned again, still check nothing.
/// </summary>
public sealed class TryAcquireCheckedByARetryLoopTests
{
    [Fact]
    public void NoLSM0020_AfterARetryLoop_OrABoolLocalCheck() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Meter
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private int _reads;
            [Guarded(Lock = nameof(_async))] private int _flushes;

            public void Retry(CancellationToken ct)
            {
                ExclusiveLock.Scope scope;
                while (!_lock.TryAcquire(TimeSpan.FromMilliseconds(50), out scope))
                {
                    ct.ThrowIfCancellationRequested();
                }

                using (scope) { _reads++; }
            }

            public async Task RetryAsync(CancellationToken ct)
            {
                AsyncLockScope scope;
                do
                {
                    ct.ThrowIfCancellationRequested();
                    scope = await _async.TryAcquireAsync(TimeSpan.FromMilliseconds(50), ct);
                }
                while (!scope.IsAcquired);

                using (scope) { _flushes++; }
            }

            public bool Kept(TimeSpan timeout)
            {
                bool taken = _lock.TryAcquire(timeout, out var scope);
                if (!taken) return false;
                using (scope) { _reads = 0; }
                return true;
            }

            public void KeptIf(TimeSpan timeout)
            {
                var taken = _lock.TryAcquire(timeout, out var scope);
                if (taken) { using (scope) { _reads--; } }
            }
        }
        """));

    [Fact]
    public void LSM0020_AfterALoopABreakMayLeave_OrABoolLocalAssignedAgain() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using Locksmith;
        public sealed partial class Meter
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _reads;

            public void GivesUp(CancellationToken ct)
            {
                ExclusiveLock.Scope scope;
                while (!_lock.TryAcquire(TimeSpan.FromMilliseconds(50), out scope))
                {
                    if (ct.IsCancellationRequested) break;
                }

                using (scope) { {|LSM0020:_reads|}++; }
            }

            public void Overwritten(TimeSpan timeout, bool force)
            {
                bool taken = _lock.TryAcquire(timeout, out var scope);
                taken |= force;
                if (!taken) return;
                using (scope) { {|LSM0020:_reads|} = 0; }
            }

            public void LoopsOnSomethingElse(TimeSpan timeout)
            {
                int tries = 0;
                _lock.TryAcquire(timeout, out var scope);
                while (tries < 3) { tries++; }
                using (scope) { {|LSM0020:_reads|}++; }
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
