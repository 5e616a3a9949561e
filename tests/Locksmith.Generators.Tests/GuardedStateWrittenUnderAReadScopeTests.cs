using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0021 for guarded state written in a read scope of its read-write lock (<c>using var scope = _lock.AcquireRead();</c>,
/// <c>AcquireReadAsync</c>, a checked <c>TryAcquireRead…</c>, a read lock released in a <c>finally</c>): other readers
/// hold it at the same time, so the write races with them, as in a read core (from a trial of the analyzers on realistic
/// code: the classic cache fill, <c>if (!_prices.TryGetValue(k, out p)) _prices[k] = p = Load(k);</c> under the read
/// lock, was silent, since LSM0020 counts any scope of the lock as holding it). Reads there, writes in a write scope,
/// and a write scope inside code that a read scope encloses no more, are silent.
/// </summary>
public sealed class GuardedStateWrittenUnderAReadScopeTests
{
    [Fact]
    public void LSM0021_ForAWriteInAReadScope() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class PriceCache
        {
            private readonly ReadWriteLock _lock = new();
            private readonly AsyncReadWriteLock _async = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, decimal> _prices = new();
            [Guarded(Lock = nameof(_lock))] private int _misses;
            [Guarded(Lock = nameof(_async))] private int _loads;

            public decimal Find(string sku)
            {
                using var scope = _lock.AcquireRead();
                if (!_prices.TryGetValue(sku, out var price))
                {
                    {|LSM0021:_misses|}++;
                    {|LSM0021:_prices|}[sku] = price = 1m;
                }

                return price;
            }

            public void Block(string sku)
            {
                using (_lock.AcquireRead()) { ({|LSM0021:_misses|}, _) = (0, 1); }
            }

            public bool Tried(TimeSpan timeout)
            {
                if (_lock.TryAcquireRead(timeout, out var scope))
                {
                    using (scope) { {|LSM0021:_misses|} = 0; return true; }
                }

                return false;
            }

            public void ReleasedByHand()
            {
                _lock.AcquireRead();
                try { {|LSM0021:_misses|}--; }
                finally { _lock.ReleaseRead(); }
            }

            public async Task LoadAsync()
            {
                using var scope = await _async.AcquireReadAsync();
                await Task.Yield();
                {|LSM0021:_loads|} += 1;
            }
        }
        """));

    [Fact]
    public void NoLSM0021_ForReadsInAReadScope_OrWritesInAWriteScope() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class PriceCache
        {
            private readonly ReadWriteLock _lock = new();
            private readonly ReadWriteLock _other = new();
            private readonly AsyncReadWriteLock _async = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, decimal> _prices = new();
            [Guarded(Lock = nameof(_lock))] private int _misses;
            [Guarded(Lock = nameof(_async))] private int _loads;

            public decimal Find(string sku)
            {
                decimal price;
                using (_lock.AcquireRead())
                {
                    if (_prices.TryGetValue(sku, out price)) return price;
                }

                using var scope = _lock.AcquireWrite();
                _misses++;
                _prices[sku] = price = _misses;
                return price;
            }

            public int Count() { using var scope = _lock.AcquireRead(); return _prices.Count + _misses; }

            public void Upgrade(string sku)
            {
                using var read = _lock.AcquireRead();
                bool found = _prices.ContainsKey(sku);
                read.Dispose();
                if (found) return;
                using var write = _lock.AcquireWrite();
                _misses++;
            }

            public void OtherLocksRead() { using var read = _other.AcquireRead(); using var write = _lock.AcquireWrite(); _misses = 0; }

            public async Task LoadAsync()
            {
                using var scope = await _async.AcquireWriteAsync();
                _loads++;
            }

            public static void AnotherObject(PriceCache a, PriceCache b)
            {
                using var read = a._lock.AcquireRead();
                using var write = b._lock.AcquireWrite();
                b._misses = a._misses;
            }
        }
        """));

    /// <summary>
    /// A hit counter bumped with <c>Interlocked</c> under the read lock is atomic, so the readers holding it together lose
    /// no update: no LSM0021, in a read scope or a read core (reported before, from the false-positive sweep). A plain
    /// increment there is still reported.
    /// </summary>
    [Fact]
    public void NoLSM0021_ForAnInterlockedWriteUnderTheReadLock() => Compiles(Markup.AssertDiagnostics("""
        using System.Collections.Generic;
        using System.Threading;
        using Locksmith;
        public partial class Cache
        {
            private readonly ReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private long _hits;
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<int, int> _items = new();

            public int Get(int key)
            {
                using var scope = _lock.AcquireRead();
                Interlocked.Increment(ref _hits);
                {|LSM0021:_hits|}++;
                return _items[key];
            }

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private int PeekCore(int key) { Interlocked.Add(ref _hits, 1); return _items[key]; }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
