using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0063 leaves alone an async acquisition that is kept or passed on rather than read while pending: stored in a
/// field, returned, blocked on or awaited as a task (<c>Task.WhenAll(pending.AsTask())</c>), awaited in a test's lambda
/// (<c>Assert.ThrowsAsync(async () =&gt; await pending)</c>), or the task of a generated timed wrapper, which is no pooled
/// wait; beside them the blocking reads of the same code that it reports.
/// </summary>
public sealed class LSM0063AcquisitionPassedOnTests
{
    [Fact]
    public void NoLSM0063_WhereTheAcquisitionIsKeptOrPassedOn() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        public static class Check
        {
            public static Task<T> ThrowsAsync<T>(Func<Task> test) where T : Exception => Task.FromResult<T>(null!);
        }

        public sealed partial class Queue
        {
            private readonly AsyncExclusiveLock _lock = new();
            private ValueTask<AsyncLockScope> _pending;
            [Guarded(Lock = nameof(_lock))] private string _name = "";

            [Guarded(Lock = nameof(_lock))]
            private Task<string> NameCoreAsync() => Task.FromResult(_name);

            public void Start() => _pending = _lock.AcquireAsync();
            public ValueTask<AsyncLockScope> Enter() => _lock.AcquireAsync();
            public Task<AsyncLockScope> EnterAsTask() => _lock.AcquireAsync().AsTask();

            public async Task TogetherAsync()
            {
                var pending = _lock.AcquireAsync();
                await Task.WhenAll(pending.AsTask());
                using var scope = await pending;
            }

            public async Task CancelledAsync(CancellationToken ct)
            {
                var pending = _lock.AcquireAsync(ct);
                await Check.ThrowsAsync<OperationCanceledException>(async () => await pending);
                await Check.ThrowsAsync<OperationCanceledException>(() => _lock.AcquireAsync(ct).AsTask());
            }

            public bool Timed() => TryNameAsync(TimeSpan.Zero).Result.Acquired;

            public void Blocking()
            {
                using var scope = {|LSM0063:_lock.AcquireAsync(CancellationToken.None).ConfigureAwait(false).GetAwaiter().GetResult()|};
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
