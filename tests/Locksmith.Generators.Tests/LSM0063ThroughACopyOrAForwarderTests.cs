using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0063 followed one step further: a local that only copies the kept task (<c>var t = _lock.AcquireAsync(); var u = t;
/// u.Result</c>, a few copies deep) is the same pooled task, and a method of this compilation that only returns an
/// acquisition (<c>ValueTask&lt;AsyncLockScope&gt; TakeAsync() =&gt; _lock.AcquireAsync();</c>, not async) returns it: a blocking
/// read of either throws under contention as one of the acquisition does. Still not reported: a copy (or the original)
/// also used another way, an async method's task (a real task a blocking read waits for), and a forwarder an override may
/// replace or one that returns anything else.
/// </summary>
public sealed class LSM0063ThroughACopyOrAForwarderTests
{
    [Fact]
    public void LSM0063_ThroughACopiedLocalOrAForwarder() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Orders
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly CountingSemaphore _slots = new(2, 2);

            private ValueTask<AsyncLockScope> TakeAsync() => _lock.AcquireAsync();
            private ValueTask<AsyncLockScope> TakeAgainAsync() { return TakeAsync(); }
            private ValueTask<AsyncLockScope> SlotAsync(bool now) { if (now) return _slots.TryAcquireAsync(1, TimeSpan.Zero); return _slots.AcquireAsync(); }

            public void Copied()
            {
                var pending = _lock.AcquireAsync();
                var copy = pending;
                using var scope = {|LSM0063:copy.Result|};
            }

            public void CopiedTwice()
            {
                var first = _lock.AcquireAsync();
                var second = first;
                ValueTask<AsyncLockScope> third = (second);
                using var scope = {|LSM0063:third.GetAwaiter().GetResult()|};
            }

            public void Forwarded()
            {
                using var a = {|LSM0063:TakeAsync().Result|};
                using var b = {|LSM0063:TakeAgainAsync().GetAwaiter().GetResult()|};
                using var c = {|LSM0063:SlotAsync(true).Result|};
                var kept = TakeAsync();
                using var d = {|LSM0063:kept.Result|};
            }
        }
        """));

    [Fact]
    public void NoLSM0063_WhereACopyIsUsedOtherwiseOrTheMethodIsNoForwarder() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public class Orders
        {
            private readonly AsyncExclusiveLock _lock = new();

            private async ValueTask<AsyncLockScope> TakeAsync() => await _lock.AcquireAsync();
            protected virtual ValueTask<AsyncLockScope> OverridableAsync() => _lock.AcquireAsync();
            private ValueTask<AsyncLockScope> EitherAsync(bool now) { if (now) return _lock.AcquireAsync(); return new ValueTask<AsyncLockScope>(TakeAsync().AsTask()); }

            public void CopyTested()
            {
                var pending = _lock.AcquireAsync();
                var copy = pending;
                if (copy.IsCompleted) { using var scope = copy.Result; }
            }

            public void OriginalTested()
            {
                var pending = _lock.AcquireAsync();
                var copy = pending;
                if (pending.IsCompletedSuccessfully) { using var scope = copy.Result; }
            }

            public async Task CopyAwaited()
            {
                var pending = _lock.AcquireAsync();
                var copy = pending;
                using var scope = await copy;
            }

            public void CopyAsTask()
            {
                var pending = _lock.AcquireAsync();
                var copy = pending.AsTask();
                using var scope = copy.Result;
            }

            public void NoForwarder()
            {
                using var flow = AsyncLockFlow.Begin();
                using var a = TakeAsync().Result;
                using var b = OverridableAsync().Result;
                using var c = EitherAsync(true).Result;
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
