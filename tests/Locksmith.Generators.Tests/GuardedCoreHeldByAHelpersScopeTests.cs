using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A using scope whose resource is a call of the type's own helper that returns its lock's acquisition
/// (<c>ExclusiveLock.Scope TakeLedger() =&gt; _lock.Acquire();</c>, <c>async Task&lt;AsyncLockScope&gt; TakeLedgerAsync() =&gt;
/// await _async.AcquireAsync();</c>) holds that lock for LSM0020, as the acquisition written there would: a guarded core
/// called, or guarded state used, in it was reported (a false positive under TreatWarningsAsErrors). Only a helper whose
/// body is read and every return of which is an exclusive or write acquisition of the lock on its own object (or a static
/// lock), directly or through another such helper, called on the object whose lock the use needs; a read one
/// (<c>_rw.AcquireRead()</c>) only for a read core called or state read there, outside a lambda. Anything else is
/// still reported.
/// </summary>
public sealed class GuardedCoreHeldByAHelpersScopeTests
{
    [Fact]
    public void NoLSM0020_InTheScopeOfAHelperReturningTheLocksAcquisition() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Ledger
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            private readonly ReadWriteLock _rw = new();
            private static readonly ExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_async))] private int _m;
            [Guarded(Lock = nameof(_rw))] private int _rate;
            [Guarded(Lock = nameof(s_lock))] private static int s_total;

            [Guarded(Lock = nameof(_lock))]
            private void BumpCore() => _n++;

            [Guarded(Lock = nameof(_async))]
            private Task BumpCoreAsync() { _m++; return Task.CompletedTask; }

            [Guarded(Lock = nameof(_rw))]
            private void RateCore() => _rate++;

            [Guarded(Lock = nameof(s_lock))]
            private static void TotalCore() => s_total++;

            [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)]
            private int RateReadCore() => _rate;

            private ExclusiveLock.Scope TakeLedger() => _lock.Acquire();
            private ExclusiveLock.Scope TakeLedgerAgain() { return TakeLedger(); }
            private async Task<AsyncLockScope> TakeLedgerAsync() => await _async.AcquireAsync();
            private ValueTask<AsyncLockScope> TakeLedgerForwardAsync(CancellationToken ct) => _async.AcquireAsync(ct);
            private ReadWriteLock.WriteScope TakeRate() => _rw.AcquireWrite();
            private static ExclusiveLock.Scope TakeTotal() => s_lock.Acquire();
            private ReadWriteLock.ReadScope TakeRates() => _rw.AcquireRead();

            public int Read()
            {
                using var s = TakeRates();
                return RateReadCore() + _rate;
            }

            public void Sync()
            {
                using var s = TakeLedger();
                BumpCore();
                _n++;
            }

            public void Finally()
            {
                var s = TakeLedger();
                try
                {
                    BumpCore();
                }
                finally
                {
                    s.Dispose();
                }
            }

            public void Forwarded()
            {
                using (TakeLedgerAgain())
                {
                    BumpCore();
                }
            }

            public async Task Async()
            {
                using var flow = AsyncLockFlow.Begin();
                using var s = await TakeLedgerAsync();
                await BumpCoreAsync();
                _m++;
            }

            public async Task ForwardAsync()
            {
                using var s = await TakeLedgerForwardAsync(default).ConfigureAwait(false);
                await BumpCoreAsync();
            }

            public void Write()
            {
                using var s = this.TakeRate();
                RateCore();
            }

            public static void Static()
            {
                using var s = TakeTotal();
                TotalCore();
            }

            public static void Other(Ledger other)
            {
                using var s = other.TakeLedger();
                other.BumpCore();
                other._n++;
            }

            public void Work()
            {
                using var s = TakeLedger();
                _ = Task.Run(() =>
                {
                    using var inner = TakeLedger();
                    _n++;
                });
            }
        }
        """));

    [Fact]
    public void LSM0020_InTheScopeOfAHelperThatMayNotHoldThatLock() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        public partial class Ledger
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ExclusiveLock _other = new();
            private readonly ReadWriteLock _rw = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_rw))] private int _rate;

            [Guarded(Lock = nameof(_lock))]
            private void BumpCore() => _n++;

            [Guarded(Lock = nameof(_rw))]
            private void RateCore() => _rate++;

            private ExclusiveLock.Scope TakeOther() => _other.Acquire();
            private ReadWriteLock.ReadScope TakeRead() => _rw.AcquireRead();
            public virtual ExclusiveLock.Scope TakeVirtual() => _lock.Acquire();
            private ExclusiveLock.Scope TakeReleased() { var s = _lock.Acquire(); s.Dispose(); return s; }
            private ExclusiveLock.Scope TakeEither(bool first) { if (first) return _lock.Acquire(); return _other.Acquire(); }
            private ExclusiveLock.Scope TakeFrom(Ledger other) => other._lock.Acquire();
            private ExclusiveLock.Scope TakeTried() { _lock.TryAcquire(TimeSpan.Zero, out var s); return s; }

            public void Cases(Ledger other, bool first)
            {
                using (TakeOther()) { {|LSM0020:BumpCore()|}; }
                using (other.TakeLedgerOf()) { {|LSM0020:BumpCore()|}; }
                using (TakeRead()) { {|LSM0020:RateCore()|}; }
                using (TakeVirtual()) { {|LSM0020:BumpCore()|}; }
                using (TakeReleased()) { {|LSM0020:BumpCore()|}; }
                using (TakeEither(first)) { {|LSM0020:BumpCore()|}; }
                using (TakeFrom(other)) { {|LSM0020:BumpCore()|}; }
                using (TakeTried()) { {|LSM0020:BumpCore()|}; }
                using (TakeOther()) { {|LSM0020:_n|}++; }
                using (TakeRead()) { {|LSM0020:_rate|}++; }
            }

            private ExclusiveLock.Scope TakeLedgerOf() => _lock.Acquire();
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
