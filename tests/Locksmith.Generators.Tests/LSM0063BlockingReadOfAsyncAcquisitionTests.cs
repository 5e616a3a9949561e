using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0063 where <c>.Result</c> or <c>.GetAwaiter().GetResult()</c> is read off the <c>ValueTask</c> of one async lock's
/// acquisition without awaiting it: under contention that task is a pooled wait, and the runtime throws
/// InvalidOperationException for a read of it while pending (Locksmith.Tests' <c>BlockedPermitReadWordingTests</c>,
/// <c>AsyncOwnershipTests</c>). Not reported for an await, a read through <c>.AsTask()</c> or <c>.Preserve()</c> (a task,
/// which a blocking read waits for), a local whose completion is tested, or the set acquisitions, whose pending task the
/// runtime makes a real task so a blocking read waits for it (<c>AsyncLockSetTests.BlockingOnAContendedSet_WaitsForTheSet_AndLeavesNothingHeld</c>).
/// </summary>
public sealed class LSM0063BlockingReadOfAsyncAcquisitionTests
{
    [Fact]
    public void LSM0063_WhereAPendingAcquisitionMayBeReadWithoutAwaitingIt() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Orders
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncReadWriteLock _rw = new();
            private readonly CountingSemaphore _slots = new(2, 2);
            private readonly AsyncStripedLock<string> _stripes = new();
            private int _count;

            public void Result()
            {
                using var scope = {|LSM0063:_lock.AcquireAsync().Result|};
                _count++;
            }

            public void GetResult()
            {
                using var scope = {|LSM0063:_lock.TryAcquireAsync(TimeSpan.FromSeconds(1)).GetAwaiter().GetResult()|};
                if (scope.IsAcquired) _count++;
            }

            public void ConfiguredGetResult()
            {
                using var scope = {|LSM0063:(_lock.AcquireAsync()).ConfigureAwait(false).GetAwaiter().GetResult()|};
            }

            public int ReadAndWrite()
            {
                using (var read = {|LSM0063:_rw.AcquireReadAsync().Result|}) { }
                using var write = {|LSM0063:this._rw.AcquireWriteAsync(TimeSpan.FromSeconds(1)).Result|};
                return _count;
            }

            public void Permits()
            {
                using var one = {|LSM0063:_slots.AcquireAsync().Result|};
                using var two = {|LSM0063:_slots.TryAcquireAsync(2, TimeSpan.Zero).GetAwaiter().GetResult()|};
            }

            public void Stripe(string key)
            {
                using var scope = {|LSM0063:_stripes.AcquireAsync(key).Result|};
            }

            public void KeptInALocal()
            {
                var pending = _lock.AcquireAsync();
                Console.WriteLine("later");
                using var scope = {|LSM0063:pending.Result|};
            }

            public async Task InAsyncCodeAsync()
            {
                await Task.Yield();
                using var scope = {|LSM0063:_lock.AcquireAsync().Result|};
            }

            public Action InALambda() => () => { using var scope = {|LSM0063:_lock.AcquireAsync().GetAwaiter().GetResult()|}; };

            public int Property
            {
                get
                {
                    using var scope = {|LSM0063:_lock.AcquireAsync().Result|};
                    return _count;
                }
            }
        }
        """));

    [Fact]
    public void NoLSM0063_WhereTheAcquisitionIsAwaitedOrBlockedOnAsATask() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Orders
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _other = new();
            private readonly AsyncStripedLock<string> _stripes = new();
            private readonly ExclusiveLock _sync = new();

            public async Task AwaitedAsync()
            {
                using var a = await _lock.AcquireAsync();
                using var b = await _other.AcquireAsync().ConfigureAwait(false);
                var pending = _lock.TryAcquireAsync(TimeSpan.Zero);
                using var c = await pending;
            }

            public void AsATask()
            {
                using (var a = _lock.AcquireAsync().AsTask().Result) { }
                using (var b = _lock.AcquireAsync().AsTask().GetAwaiter().GetResult()) { }
                var task = _lock.AcquireAsync().AsTask();
                task.Wait();
                task.Result.Dispose();
                using var c = _lock.AcquireAsync().Preserve().Result;
            }

            public void CompletionTestedFirst()
            {
                var pending = _lock.AcquireAsync();
                if (pending.IsCompletedSuccessfully)
                {
                    using var scope = pending.Result;
                }
                else
                {
                    pending.AsTask().Wait();
                }
            }

            public void Sets(string a, string b)
            {
                using (var set = LockSet.AcquireAsync(_lock, _other).Result) { }
                using (var keys = _stripes.AcquireManyAsync(new[] { a, b }).GetAwaiter().GetResult()) { }
            }

            public void Synchronous()
            {
                using var scope = _sync.Acquire();
                int n = Task.FromResult(1).Result + new ValueTask<int>(2).Result;
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
