using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Shapes users write to call a guarded core where its lock is held, each of which LSM0020 at a core's call must leave
/// alone (a warning there breaks a build that treats warnings as errors): TryAcquire scopes checked in their several
/// ways, a try/finally, overrides and base calls, static cores, [AcquiresLocksOf], a LockSet, a lock behind a property,
/// an alias of this, generic types, records and partial methods split over two files; beside them the unheld calls of
/// the same types that it must still report.
/// </summary>
public sealed class GuardedCoreCalledUnderItsLockShapesTests
{
    [Fact]
    public void NoLSM0020_WhereACoresLockIsHeldInTheShapesUsersWrite() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;

        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            public ExclusiveLock Gate => _lock;
            [Guarded(Lock = nameof(_lock))] private decimal _balance;

            [Guarded(Lock = nameof(_lock))]
            internal void DepositCore(decimal amount) => _balance += amount;

            [Guarded(Lock = nameof(_lock))]
            internal void WithdrawCore(decimal amount) => _balance -= amount;

            [Guarded(Lock = nameof(_lock))]
            private decimal ReadCore() => _balance;

            [Guarded(Lock = nameof(_lock))]
            private decimal Balance => ReadCore();

            [Guarded(Lock = nameof(Gate))]
            private void ThroughGateCore(decimal amount) { DepositCore(amount); this.WithdrawCore(amount); }

            public void UsingDeclaration() { using var scope = _lock.Acquire(); DepositCore(1); }
            public void UsingBlock() { using (_lock.Acquire()) DepositCore(1); }
            public void ThroughTheGate() { using var scope = Gate.Acquire(); DepositCore(1); }
            public void CheckedTry() { if (_lock.TryAcquire(TimeSpan.FromSeconds(1), out var scope)) { using (scope) { DepositCore(1); } } }
            public void BailingTry() { if (!_lock.TryAcquire(out var scope)) return; using (scope) { DepositCore(1); } }
            public void IsAcquiredTested() { _lock.TryAcquire(out var scope); using (scope) { if (!scope.IsAcquired) return; DepositCore(1); } }
            public void TryFinally() { var scope = _lock.Acquire(); try { DepositCore(1); } finally { scope.Dispose(); } }
            public decimal Timed() { using var scope = _lock.Acquire(TimeSpan.FromSeconds(1)); return ReadCore(); }
            public void Alias() { var self = this; using var scope = _lock.Acquire(); self.DepositCore(1); }
            public void Nested()
            {
                using var scope = _lock.Acquire();
                try { foreach (int i in new[] { 1, 2 }) { switch (i) { case 1: DepositCore(i); break; } } }
                finally { WithdrawCore(0); }
            }

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static void TransferCore(Account from, Account to, decimal amount)
            {
                from.WithdrawCore(amount);
                to.DepositCore(amount);
            }

            public static void BySet(Account from, Account to)
            {
                using var set = LockSet.Acquire(from._lock, to._lock);
                from.WithdrawCore(1);
                to.DepositCore(1);
            }

            public string Name() => nameof(DepositCore);

            public void Unheld() => {|LSM0020:DepositCore(1)|};
        }

        public sealed class Teller
        {
            public void Pay(Account account) { using var scope = account.Gate.Acquire(); account.DepositCore(1); }
            public void Unheld(Account account) => {|LSM0020:account.DepositCore(1)|};
        }

        public abstract partial class Machine
        {
            protected readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] protected int _steps;

            [Guarded(Lock = nameof(_lock))]
            protected virtual void StepCore() => _steps++;

            [Guarded(Lock = nameof(_lock))]
            protected abstract void ResetCore();
        }

        public partial class Press : Machine
        {
            protected override void StepCore() { base.StepCore(); ResetCore(); }
            protected override void ResetCore() => _steps = 0;

            [Guarded(Lock = nameof(_lock))]
            private void TwiceCore() { StepCore(); base.StepCore(); }

            public void Run() { using var scope = _lock.Acquire(); StepCore(); base.StepCore(); this.ResetCore(); }
            public void Unheld() => {|LSM0020:ResetCore()|};
        }

        public sealed partial class Stats
        {
            private static readonly ExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(s_lock))] private static int s_hits;
            [Guarded(Lock = nameof(s_lock))] private static void HitCore() => s_hits++;
            [Guarded(Lock = nameof(s_lock))] private static void TwoCore() { HitCore(); Stats.HitCore(); }
            [Guarded(Lock = nameof(s_lock))] private void FromAnInstanceCore() => HitCore();
            public static void Held() { using var scope = s_lock.Acquire(); HitCore(); Stats.HitCore(); }
            public void HeldByAnInstance() { using var scope = s_lock.Acquire(); HitCore(); }
            public static void Unheld() => {|LSM0020:HitCore()|};
        }

        public partial class Cache<T> where T : notnull
        {
            private readonly ReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<T, int> _map = new();

            [Guarded(Lock = nameof(_lock))]
            private void AddCore(T key) => _map[key] = 1;

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private bool HasCore(T key) => _map.ContainsKey(key);

            [Guarded(Lock = nameof(_lock))]
            private void ManyCore(IEnumerable<T> keys) { foreach (var key in keys) AddCore(key); }

            public void Write(T key) { using var scope = _lock.AcquireWrite(); if (!HasCore(key)) AddCore(key); }
            public bool Read(T key) { using var scope = _lock.AcquireRead(); return HasCore(key); }
            public static void Other(Cache<T> other, T key) { using var scope = other._lock.AcquireWrite(); other.AddCore(key); }
            public bool Unheld(T key) => {|LSM0020:HasCore(key)|};
        }

        public partial record Ledger(string Name)
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _entries;
            [Guarded(Lock = nameof(_lock))] private int NextCore() => ++_entries;
            public int Held() { using var scope = _lock.Acquire(); return NextCore(); }
            public int Unheld() => {|LSM0020:NextCore()|};
        }

        public partial class Inbox
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncReadWriteLock _rw = new();
            [Guarded(Lock = nameof(_lock))] private int _count;
            [Guarded(Lock = nameof(_rw))] private int _rate;

            [Guarded(Lock = nameof(_lock))]
            private async Task AddCoreAsync(int n) { await Task.Yield(); _count += n; }

            [Guarded(Lock = nameof(_lock))]
            private ValueTask<int> CountCoreAsync() => new(_count);

            [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)]
            private ValueTask<int> RateCoreAsync() => new(_rate);

            [Guarded(Lock = nameof(_lock))]
            private async Task BothCoreAsync() { await AddCoreAsync(1); _ = await CountCoreAsync(); }

            public async Task Awaited() { using var scope = await _lock.AcquireAsync(); await AddCoreAsync(1); }
            public async Task Configured() { using var scope = await _lock.AcquireAsync().ConfigureAwait(false); await AddCoreAsync(1).ConfigureAwait(false); }
            public async Task AwaitUsing() { await using var scope = await _lock.AcquireAsync(); await AddCoreAsync(1); }
            public async Task Timed() { using var scope = await _lock.TryAcquireAsync(TimeSpan.FromSeconds(1)); if (!scope.IsAcquired) return; await AddCoreAsync(1); }
            public async Task TimedChecked() { using var scope = await _lock.TryAcquireAsync(TimeSpan.FromSeconds(1)); if (scope.IsAcquired) { await AddCoreAsync(1); } }
            public async Task Together() { using var scope = await _lock.AcquireAsync(); await Task.WhenAll(AddCoreAsync(1), AddCoreAsync(2)); }
            public async Task Released() { var scope = await _lock.AcquireAsync(); try { await AddCoreAsync(1); } finally { await scope.DisposeAsync(); } }
            public async Task<int> Read() { using var scope = await _rw.AcquireReadAsync(); return await RateCoreAsync(); }
            public async Task Unheld() => await {|LSM0020:AddCoreAsync(1)|};
        }
        """));

    [Fact]
    public void NoLSM0020_WhereAPartialCoreIsCalledUnderItsLockFromTheOtherFile()
    {
        var run = GeneratorHarness.Run(
            """
            using Locksmith;
            public partial class Split
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;
                [Guarded(Lock = nameof(_lock))] private partial void BumpCore();
                [Guarded(Lock = nameof(_lock))] private partial void TwiceCore();
            }
            """,
            """
            using Locksmith;
            public partial class Split
            {
                private partial void BumpCore() => _n++;
                private partial void TwiceCore() { BumpCore(); BumpCore(); }
                public void Held() { using var scope = _lock.Acquire(); BumpCore(); }
                public void Unheld() => BumpCore();
            }
            """);

        var reported = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0020").ToList();
        Assert.True(reported.Count == 1, Snapshot.Render(run.LocksmithDiagnostics));
        Assert.Equal("BumpCore()", reported[0].Location.SourceTree!.GetText().ToString(reported[0].Location.SourceSpan));
        Assert.Equal(6, reported[0].Location.GetLineSpan().StartLinePosition.Line);
        Compiles(run);
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
