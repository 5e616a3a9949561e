using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0057 for state guarded by a keyed lock and written under a hold of that lock (from a migration trial: a
/// <c>[Guarded(Lock = nameof(_stripes))] Dictionary</c> written in a <c>StripeBy</c> core compiled without a word and lost
/// updates under load, since two keys on different stripes run together). Reads, array elements (one per stripe),
/// <c>Interlocked</c>, constructors, writes without the lock (LSM0020) and a read core (LSM0021) are not LSM0057.
/// </summary>
public sealed class KeyedHoldWriteTests
{
    [Fact]
    public void LSM0057_ForGuardedStateWrittenUnderAStripe() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Hits
        {
            private readonly StripedLock<string> _stripes = new();
            private readonly StripedReadWriteLock<string> _rw = new();
            private readonly AsyncStripedLock<string> _async = new();
            [Guarded(Lock = nameof(_stripes))] private readonly Dictionary<string, int> _hits = new();
            [Guarded(Lock = nameof(_stripes))] private long _total;
            [Guarded(Lock = nameof(_rw))] private readonly List<string> _seen = new();
            [Guarded(Lock = nameof(_async))] private int _pulled;

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))]
            private void HitCore(string key) { {|LSM0057:_hits|}[key] = _hits.GetValueOrDefault(key) + 1; {|LSM0057:_total|}++; }

            [Guarded(Lock = nameof(_rw), StripeBy = nameof(key))]
            private void SeeCore(string key) => {|LSM0057:_seen|}.Add(key);

            public void Many(string a, string b)
            {
                using var scope = _stripes.AcquireMany(a, b);
                {|LSM0057:_total|} += 2;
            }

            public async Task PullAsync(string key, CancellationToken ct)
            {
                using var scope = await _async.AcquireAsync(key, ct);
                await Task.Yield();
                {|LSM0057:_pulled|}++;
            }
        }
        """));

    [Fact]
    public void NoLSM0057_ForReads_ArrayElements_Interlocked_Constructors_OrAnExclusiveLock() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using Locksmith;
        public sealed partial class Hits
        {
            private readonly StripedLock<string> _stripes = new(8);
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_stripes))] private readonly int[] _perStripe = new int[8];
            [Guarded(Lock = nameof(_stripes))] private long _total;
            [Guarded(Lock = nameof(_stripes))] private readonly Dictionary<string, int> _hits = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, int> _all = new();

            public Hits() { _total = 1; _hits["x"] = 0; }

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))]
            private int HitCore(string key) { _perStripe[_stripes.StripeOf(key)]++; Interlocked.Increment(ref _total); return _hits.GetValueOrDefault(key); }

            [Guarded(Lock = nameof(_lock))]
            private void AllCore(string key) => _all[key] = 1;
        }
        """));

    [Fact]
    public void AWriteInAReadScopeOfAStripe_IsLSM0021Only() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using Locksmith;
        public sealed partial class Hits
        {
            private readonly StripedReadWriteLock<string> _rw = new();
            [Guarded(Lock = nameof(_rw))] private int _n;
            [Guarded(Lock = nameof(_rw))] private readonly List<string> _seen = new();

            public void See(string key)
            {
                using var scope = _rw.AcquireRead(key);
                {|LSM0021:_n|}++;
                {|LSM0057:_seen|}.Add(key);
            }
        }
        """));

    /// <summary>
    /// A parallel loop under a stripe was reported twice for one write: LSM0056 (whose advice, a stripe in the body, still
    /// leaves one piece of state under many stripes) and LSM0057; it is LSM0057 only. A loop in work the hold does not wait
    /// for was LSM0020 and LSM0057, which said the stripe is held where the bodies may run after it: LSM0020 only. A body
    /// that takes its key's stripe itself is LSM0057.
    /// </summary>
    [Fact]
    public void AParallelBodyUnderAStripe_IsOneReport() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Hits
        {
            private readonly StripedLock<string> _stripes = new();
            [Guarded(Lock = nameof(_stripes))] private int _n;

            public void Spread(string key)
            {
                using var scope = _stripes.Acquire(key);
                Parallel.For(0, 4, i => {|LSM0057:_n|}++);
                _ = Task.Run(() => Parallel.For(0, 4, i => {|LSM0020:_n|}--));
                _ = Task.Run(() => Parallel.For(0, 4, i => { using var inner = _stripes.Acquire(key + i); {|LSM0057:_n|} += i; }));
            }
        }
        """));

    /// <summary>
    /// LSM0020 for a parallel loop in work a stripe's hold does not wait for advised a stripe in the body
    /// (<c>using var scope = _stripes.Acquire(key);</c>), which does not guard one piece of state shared by every key
    /// (LSM0057); it now gives LSM0057's advice: a lock that is not keyed, or per-key state in a ConcurrentDictionary. So
    /// does LSM0020 for a write directly in such work, which is not LSM0057 too (one report for one mistake).
    /// </summary>
    [Fact]
    public void ParallelLoopInDroppedWorkUnderAStripe_GivesLSM0057sAdvice()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Hits
            {
                private readonly StripedLock<string> _stripes = new();
                [Guarded(Lock = nameof(_stripes))] private int _n;

                public void Spread(string key)
                {
                    using var scope = _stripes.Acquire(key);
                    _ = Task.Run(() => Parallel.For(0, 4, i => {|LSM0020:_n|}--));
                    _ = Task.Run(() => {|LSM0020:_n|}++);
                }
            }
            """);
        Compiles(run);
        var messages = run.LocksmithDiagnostics.Where(d => d.Id == "LSM0020").Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, messages.Count);
        foreach (string message in messages)
        {
            Assert.DoesNotContain("Acquire(key)", message, System.StringComparison.Ordinal);
            Assert.Contains("a stripe of '_stripes' would not guard '_n'", message, System.StringComparison.Ordinal);
            Assert.Contains("with a lock that is not keyed (an ExclusiveLock or ReadWriteLock)", message, System.StringComparison.Ordinal);
            Assert.Contains("keep per-key state in a ConcurrentDictionary without [Guarded]", message, System.StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A [Guarded] ConcurrentDictionary written by its indexer under the key's stripe (the per-key layout LSM0057 itself
    /// advises, with the attribute kept) was LSM0057, saying the collection may be corrupted; its slots are safe to write
    /// from several threads, as its AddOrUpdate was already taken to be. A List's slot stays LSM0057.
    /// </summary>
    [Fact]
    public void NoLSM0057_ForAConcurrentCollectionsSlot() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using Locksmith;
        public sealed partial class Hits
        {
            private readonly StripedLock<string> _stripes = new();
            [Guarded(Lock = nameof(_stripes))] private readonly ConcurrentDictionary<string, int> _hits = new();
            [Guarded(Lock = nameof(_stripes))] private readonly List<int> _last = new() { 0 };

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))]
            private void HitCore(string key)
            {
                _hits[key] = _hits.GetValueOrDefault(key) + 1;
                _hits.AddOrUpdate(key, 1, (_, v) => v + 1);
                {|LSM0057:_last|}[0] = key.Length;
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
