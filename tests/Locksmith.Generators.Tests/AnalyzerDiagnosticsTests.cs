using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>One test per analyzer diagnostic, with the places that must stay silent beside the ones that must not.</summary>
public sealed class AnalyzerDiagnosticsTests
{
    /// <summary>
    /// A local function declared before the scope runs only where it is called: called only inside the scope, it holds
    /// the lock (reported before, from the false-positive sweep). One also called outside, or made a delegate, is still
    /// reported.
    /// </summary>
    [Fact]
    public void NoLSM0020_InALocalFunctionDeclaredBeforeTheScopeAndCalledOnlyInIt() => Markup.AssertDiagnostics("""
        using System;
        using Locksmith;
        public partial class Counter
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public int OnlyInside()
            {
                void Add() => _n++;
                int Twice() { Add(); Add(); return _n; }
                using var scope = _lock.Acquire();
                return Twice();
            }

            public void AlsoOutside()
            {
                void Add() => {|LSM0020:_n|}++;
                Add();
                using (_lock.Acquire()) { Add(); }
            }

            public Action MadeADelegate()
            {
                void Add() => {|LSM0020:_n|}++;
                using var scope = _lock.Acquire();
                Add();
                return Add;
            }
        }
        """);

    /// <summary>
    /// An <c>init</c> accessor runs only while an object initializer (or <c>with</c>) builds its object, as a constructor
    /// does: its own guarded state written there is no LSM0020 (reported before, from the false-positive sweep). Another
    /// object's state is still reported.
    /// </summary>
    [Fact]
    public void NoLSM0020_ForOwnStateWrittenInAnInitAccessor() => Markup.AssertDiagnostics("""
        using Locksmith;
        public partial class Counter
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            private readonly Counter? _peer = null;

            public int Start { init { _n = value; this._n += 1; } }
            public int PeerStart { init { if (_peer is not null) { {|LSM0020:_peer._n|} = value; } } }
            public static Counter Make() => new() { Start = 3 };
        }
        """);

    /// <summary>An async lock is held after an awaited AcquireAsync in a using (declaration, statement, await using), and in async cores.</summary>
    [Fact]
    public void LSM0020_AsyncLock_HeldAfterAwaitedAcquire_NotWithoutIt() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Queue
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;

            public async Task Declaration(CancellationToken token)
            {
                using var scope = await _lock.AcquireAsync(token).ConfigureAwait(false);
                await Task.Yield();
                _count++;
            }

            public async Task Statement() { using (await _lock.AcquireAsync(TimeSpan.FromSeconds(1))) { _count++; } }
            public async Task AwaitUsing() { await using var scope = await _lock.AcquireAsync(); _count++; }
            public async Task<bool> Timed()
            {
                using var scope = await _lock.TryAcquireAsync(TimeSpan.Zero);
                if (!scope.IsAcquired) { return false; }
                _count++;
                return true;
            }

            public async Task Unlocked() { await Task.Yield(); {|LSM0020:_count|}++; }
            public async Task Before() { {|LSM0020:_count|} = 0; using var scope = await _lock.AcquireAsync(); }

            [Guarded(Lock = nameof(_lock))]
            private async Task AddCoreAsync(int amount) { await Task.Yield(); _count += amount; }

            [Guarded(Lock = nameof(_lock))]
            private async Task ReenterCoreAsync() { await {|LSM0023:AddAsync(1)|}; _count++; }
        }
        """);

    /// <summary>Lock order through async wrappers: holding a higher level and awaiting a wrapper of a lower one.</summary>
    [Fact]
    public void LSM0022_AsyncWrapperCalledAgainstTheOrder() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Ledger
        {
            [LockOrder(10)] private readonly AsyncExclusiveLock _low = new();
            [LockOrder(20)] private readonly AsyncExclusiveLock _high = new();

            [Guarded(Lock = nameof(_low))] private Task DebitCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_high))] private Task AuditCoreAsync() => Task.CompletedTask;

            [Guarded(Lock = nameof(_high))] private async Task AuditThenDebitCoreAsync() => await {|LSM0022:DebitAsync()|};
            [Guarded(Lock = nameof(_low))] private async Task DebitThenAuditCoreAsync() => await AuditAsync();
        }
        """);

    /// <summary>
    /// An [AcquiresLocksOf] naming keys of the type's own async keyed lock holds that lock (AcquireManyAsync), so the
    /// state it guards is used with its lock there, as in a [Guarded] method with StripeBy; another object's is not.
    /// Writing the shared dictionary there is LSM0057, though: a move of other keys holds other stripes at the same time.
    /// </summary>
    [Fact]
    public void LSM0020_KeysOfTheOwnKeyedLock_HoldItForTheOwnObject() => DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Bank
        {
            private readonly AsyncStripedLock<string> _accounts = new();
            [Guarded(Lock = nameof(_accounts))] private readonly Dictionary<string, long> _balances = new();

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_accounts))]
            private async Task MoveCoreAsync(string from, string to, long amount, Bank other, CancellationToken ct)
            {
                _balances.TryGetValue(from, out long f);
                await Task.Yield();
                {|LSM0057:_balances|}[from] = f - amount;
                {|LSM0057:this._balances|}[to] = this._balances.GetValueOrDefault(to) + amount;
                {|LSM0020:other._balances|}.Clear();
            }

            [Guarded(Lock = nameof(_accounts), StripeBy = nameof(key))]
            private Task<long> GetCoreAsync(string key) => Task.FromResult(_balances.GetValueOrDefault(key));
        }
        """);

    [Fact]
    public void LSM0020_GuardedMemberUsedWithoutLock() => DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _balance = 1;
            [Guarded(Lock = nameof(_lock))] private int Version { get; set; }

            public Account(decimal balance) { _balance = balance; Version = 1; }

            public decimal Peek() => {|LSM0020:_balance|};
            public void Bump() => {|LSM0020:Version|}++;
            public string Name => nameof(_balance);
            public static Account Create() => new Account(0) { Version = 2 };

            public void UsingDeclaration() { using var scope = _lock.Acquire(); _balance++; }
            public void UsingStatement() { using (_lock.Acquire(TimeSpan.FromSeconds(1))) { _balance++; } }
            public void TryScope()
            {
                if (_lock.TryAcquire(TimeSpan.Zero, out var scope))
                {
                    using (scope) { _balance++; }
                }
            }

            public void Before() { {|LSM0020:_balance|} = 0; using var scope = _lock.Acquire(); }
            public void OtherObject(Account other) { using var scope = _lock.Acquire(); {|LSM0020:other._balance|} = 1; }
            public void OtherObjectLocked(Account other) { using var scope = other._lock.Acquire(); other._balance = 1; }

            [Guarded(Lock = nameof(_lock))] private void AddCore(decimal amount) => _balance += amount;
            [Guarded(Lock = nameof(_lock))] private void AddOtherCore(Account other) => {|LSM0020:other._balance|} += 1;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static void TransferCore(Account from, Account to, decimal amount)
            {
                from._balance -= amount;
                to._balance += amount;
            }
        }
        """);

    [Fact]
    public void LSM0021_ReadAccessMethodWrites() => DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using Locksmith;
        [ReadMostly]
        public partial class PriceCache
        {
            private readonly ReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, decimal> _prices = new();
            [Guarded(Lock = nameof(_lock))] private int _hits;

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private decimal FindCore(string sku)
            {
                {|LSM0021:_hits|}++;
                return _prices[sku];
            }

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private void SneakCore(string sku) => {|LSM0021:_prices|}[sku] = 0;

            [Guarded(Lock = nameof(_lock))]
            private void SetCore(string sku, decimal price)
            {
                _hits = 0;
                _prices[sku] = price;
            }
        }
        """);

    [Fact]
    public void LSM0022_CallAgainstLockOrder() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _accounts = new();
            [LockOrder(20)] private readonly ExclusiveLock _audit = new();

            [Guarded(Lock = nameof(_audit))] private void RecordCore() => {|LSM0022:Debit()|};
            [Guarded(Lock = nameof(_accounts))] private void DebitCore() => Record();
            [Guarded(Lock = nameof(_accounts))] private void CopyCore(Ledger other) => {|LSM0022:other.Debit()|};
        }
        """);

    [Fact]
    public void LSM0023_SelfDeadlock() => DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReentrantLock _reentrant = new();

            [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) { }
            [Guarded(Lock = nameof(_lock))] private void RefundCore(decimal amount) => {|LSM0023:Deposit(amount)|};
            [Guarded(Lock = nameof(_lock))] private void RetryCore(decimal amount) => {|LSM0023:this.TryDeposit(amount, TimeSpan.Zero)|};
            [Guarded(Lock = nameof(_lock))] private void ForwardCore(Account other) => other.Deposit(1);

            [Guarded(Lock = nameof(_reentrant))] private void OuterCore() => Inner();
            [Guarded(Lock = nameof(_reentrant))] private void InnerCore() { }
        }
        """);

    /// <summary>
    /// A read core that calls a write wrapper of its own read-write lock: before, LSM0023 said "call 'BumpCoreAsync'
    /// instead", which would write under the read lock, a race no diagnostic reports (the check does not follow calls).
    /// Now it says that a read lock does not upgrade and that the core needs the write lock. A write core calling a
    /// write wrapper keeps the advice to call the body.
    /// </summary>
    [Fact]
    public void LSM0023_AReadCoreCallingAWriteWrapper_IsToldThatAReadLockDoesNotUpgrade()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;

            [ReadMostly]
            public sealed partial class Counts
            {
                private readonly AsyncReadWriteLock _lock = new();
                private readonly ReadWriteLock _sync = new();
                [Guarded(Lock = nameof(_lock))] private int _n;
                [Guarded(Lock = nameof(_sync))] private int _m;

                [Guarded(Lock = nameof(_lock))] private Task BumpCoreAsync() { _n++; return Task.CompletedTask; }
                [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
                private async Task<int> PeekThenBumpCoreAsync() { await {|LSM0023:BumpAsync()|}; return _n; }
                [Guarded(Lock = nameof(_lock))]
                private async Task BumpTwiceCoreAsync() { await {|LSM0023:BumpAsync()|}; }

                [Guarded(Lock = nameof(_sync))] private void SetCore(int m) => _m = m;
                [Guarded(Lock = nameof(_sync), Access = LockAccess.Read)] private int ReadThenSetCore() { {|LSM0023:Set(1)|}; return _m; }
            }
            """);
        var messages = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0023").Select(static d => d.GetMessage()).ToList();
        Assert.Equal(3, messages.Count);
        Assert.Contains(messages, static m => m.Contains("'Counts.PeekThenBumpCoreAsync' already holds '_lock' for reading", System.StringComparison.Ordinal) &&
            m.Contains("a read lock does not upgrade", System.StringComparison.Ordinal) && !m.Contains("call 'BumpCoreAsync' instead", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("'Counts.ReadThenSetCore' already holds '_sync' for reading", System.StringComparison.Ordinal) &&
            !m.Contains("call 'SetCore' instead", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("'Counts.BumpTwiceCoreAsync' already holds '_lock' and", System.StringComparison.Ordinal) &&
            m.EndsWith("call 'BumpCoreAsync' instead", System.StringComparison.Ordinal));
    }

    /// <summary>
    /// An [AcquiresLocksOf] wrapper takes the locks of its arguments, not of the object it is called on: it is a self-deadlock
    /// only when an argument is the object whose lock the caller holds (this for [Guarded], the parameter for
    /// [AcquiresLocksOf]). Other accounts' locks of the same level are LSM0022, and unordered ones nothing; LSM0023's
    /// advice to call the body there would drop their locks.
    /// </summary>
    [Fact]
    public void LSM0023_OnlyWhenAnAcquiresLocksOfArgumentIsTheObjectWhoseLockIsHeld() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            [LockOrder(10)] private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _balance;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static Task TransferCoreAsync(Account from, Account to, decimal amount) { from._balance -= amount; to._balance += amount; return Task.CompletedTask; }

            [Guarded(Lock = nameof(_lock))] private Task<decimal> PeekCoreAsync() => Task.FromResult(_balance);

            [Guarded(Lock = nameof(_lock))] private Task SettleCoreAsync(Account x, Account y) => {|LSM0022:TransferAsync(x, y, 1)|};
            [Guarded(Lock = nameof(_lock))] private Task SelfCoreAsync(Account x) => {|LSM0023:TransferAsync(x, this, 1)|};
            [AcquiresLocksOf(nameof(a), Lock = nameof(_lock))] private Task<decimal> ReadCoreAsync(Account a) => {|LSM0023:a.PeekAsync()|};
            [AcquiresLocksOf(nameof(a), Lock = nameof(_lock))] private Task<decimal> OwnCoreAsync(Account a) => {|LSM0022:PeekAsync()|};
        }
        public sealed partial class Box
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static void MoveCore(Box from, Box to) { from._count--; to._count++; }

            [Guarded(Lock = nameof(_lock))] private void SpreadCore(Box x, Box y) => Move(x, y);
            [Guarded(Lock = nameof(_lock))] private void GiveCore(Box x) => {|LSM0023:Move(this, x)|};
        }
        """);

    /// <summary>
    /// Code that holds a lock through a using scope (a declaration or a statement, of Acquire, a timed Acquire, a checked
    /// TryAcquire or a LockSet) holds it as a guarded method does: calling a wrapper that takes the same non-reentrant lock
    /// of the same object is LSM0023. Not another object's lock, a reentrant lock, a keyed one, a scope that ended or was
    /// disposed before the call, an unchecked TryAcquire, nor a call in a lambda (which may run elsewhere, later); an
    /// indexed object is the same only at the same index.
    /// </summary>
    [Fact]
    public void LSM0023_UsingScopeOfTheLock_ThenItsWrapper() => DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Account
        {
            private static readonly ExclusiveLock s_lock = new();
            private readonly ExclusiveLock _lock = new();
            private readonly ReentrantLock _reentrant = new();
            private readonly ReadWriteLock _rw = new();
            private readonly StripedLock<string> _stripes = new();
            [Guarded(Lock = nameof(_lock))] private decimal _balance;

            [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) => _balance += amount;
            [Guarded(Lock = nameof(_reentrant))] private void NoteCore() { }
            [Guarded(Lock = nameof(_rw))] private void SetCore() { }
            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private void TouchCore(string key) { }
            [Guarded(Lock = nameof(s_lock))] private static void CountCore() { }

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static void MoveCore(Account from, Account to) { }

            public void Declaration() { using var scope = _lock.Acquire(); {|LSM0023:Deposit(1)|}; }
            public void Statement() { using (_lock.Acquire()) { {|LSM0023:this.Deposit(1)|}; } }
            public void Timed() { using (this._lock.Acquire(TimeSpan.FromSeconds(1))) { {|LSM0023:TryDeposit(1, TimeSpan.Zero)|}; } }
            public void Nested() { using var scope = _lock.Acquire(); if (_balance > 0) { for (int i = 0; i < 2; i++) { {|LSM0023:Deposit(i)|}; } } }
            public void Static() { using var scope = s_lock.Acquire(); {|LSM0023:Count()|}; }
            public void OthersLock(Account other) { using var scope = other._lock.Acquire(); {|LSM0023:other.Deposit(1)|}; Deposit(1); }
            public void ReadThenWrite() { using var scope = _rw.AcquireRead(); {|LSM0023:Set()|}; }
            public void Pair(Account a, Account b) { using var scope = LockSet.Acquire(a._lock, b._lock); {|LSM0023:b.Deposit(1)|}; Deposit(1); }
            public void Argument(Account other) { using var scope = _lock.Acquire(); {|LSM0023:Move(other, this)|}; }
            public void Checked()
            {
                if (_lock.TryAcquire(TimeSpan.Zero, out var scope))
                {
                    using (scope) { {|LSM0023:Deposit(1)|}; }
                }
            }

            public void OtherObject(Account other) { using var scope = _lock.Acquire(); other.Deposit(1); Move(other, other); }
            public void Reentrant() { using var scope = _reentrant.Acquire(); Note(); }
            public void Stripe() { using var scope = _stripes.Acquire("a"); Touch("a"); }
            public void AfterTheStatement() { using (_lock.Acquire()) { _balance++; } Deposit(1); }
            public void Before() { Deposit(1); using var scope = _lock.Acquire(); }
            public void NotAUsing() { var scope = _lock.Acquire(); scope.Dispose(); Deposit(1); }
            public void DisposedFirst() { using var scope = _lock.Acquire(); _balance++; scope.Dispose(); Deposit(1); }
            public void Unchecked() { _lock.TryAcquire(TimeSpan.Zero, out var scope); using (scope) { Deposit(1); } }
            public void InALambda() { using var scope = _lock.Acquire(); Task.Run(() => Deposit(1)); }
            public void InALocalFunction() { using var scope = _lock.Acquire(); void Later() => Deposit(1); _ = (Action)Later; }
            public void Indexed(List<Account> all, int i, int j)
            {
                using var scope = all[0]._lock.Acquire();
                all[1].Deposit(1);
                {|LSM0023:all[0].Deposit(1)|};
                using var other = all[i]._lock.Acquire();
                all[j].Deposit(1);
                {|LSM0023:all[i].Deposit(1)|};
            }
        }
        """);

    /// <summary>The same for async locks: after an awaited AcquireAsync (with or without ConfigureAwait, await using, a using statement) and a checked TryAcquireAsync.</summary>
    [Fact]
    public void LSM0023_AsyncUsingScopeOfTheLock_ThenItsWrapper() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Queue
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _other = new();

            [Guarded(Lock = nameof(_lock))] private Task AddCoreAsync(int amount) => Task.CompletedTask;

            public async Task Declaration(CancellationToken ct) { using var scope = await _lock.AcquireAsync(ct); await {|LSM0023:AddAsync(1)|}; }
            public async Task Configured(CancellationToken ct) { using var scope = await _lock.AcquireAsync(ct).ConfigureAwait(false); await {|LSM0023:AddAsync(1, ct)|}.ConfigureAwait(false); }
            public async Task AwaitUsing() { await using var scope = await _lock.AcquireAsync(); await {|LSM0023:AddAsync(1)|}; }
            public async Task Statement() { using (await _lock.AcquireAsync()) { await {|LSM0023:TryAddAsync(TimeSpan.Zero, 1)|}; } }
            public async Task TimedChecked()
            {
                using var scope = await _lock.TryAcquireAsync(TimeSpan.Zero);
                if (!scope.IsAcquired) { return; }
                await {|LSM0023:AddAsync(1)|};
            }

            public async Task OtherLock() { using var scope = await _other.AcquireAsync(); await AddAsync(1); }
            public async Task OtherQueue(Queue queue) { using var scope = await _lock.AcquireAsync(); await queue.AddAsync(1); }
            public async Task TimedUnchecked() { using var scope = await _lock.TryAcquireAsync(TimeSpan.Zero); await AddAsync(1); }
            public async Task Released() { using (await _lock.AcquireAsync()) { } await AddAsync(1); }
        }
        """);

    /// <summary>
    /// An [AcquiresLocksOf] over keys of the type's own keyed lock takes that lock (AcquireManyAsync), so it is
    /// order-checked as a [Guarded] method with StripeBy is: holding it while calling a wrapper of a lower level, or
    /// calling it while holding a higher one, is LSM0022.
    /// </summary>
    [Fact]
    public void LSM0022_KeySetWrappers_AreOrderChecked() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Bank
        {
            [LockOrder(10)] private readonly AsyncExclusiveLock _ledger = new();
            [LockOrder(20)] private readonly AsyncStripedLock<string> _accounts = new();
            [LockOrder(30)] private readonly AsyncExclusiveLock _audit = new();

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_accounts))]
            private Task MoveCoreAsync(string from, string to) => Task.CompletedTask;

            [Guarded(Lock = nameof(_ledger))] private Task PostCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_audit))] private Task AuditCoreAsync() => Task.CompletedTask;

            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_accounts))]
            private async Task SettleCoreAsync(string a, string b) { await {|LSM0022:PostAsync()|}; await AuditAsync(); }

            [Guarded(Lock = nameof(_audit))] private Task ReviewCoreAsync() => {|LSM0022:MoveAsync("x", "y")|};
            [Guarded(Lock = nameof(_ledger))] private Task BookCoreAsync() => MoveAsync("x", "y");
        }
        """);

    /// <summary>
    /// A lock held through a using scope is ordered as one a guarded method holds: calling a wrapper of a lower (or the
    /// same) level inside it is LSM0022. Re-entering a reentrant lock that is held takes no new level, so it is no call
    /// against the order, from a guarded method or a scope.
    /// </summary>
    [Fact]
    public void LSM0022_InsideAUsingScope_AndNotForReenteringAReentrantLock() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _accounts = new();
            [LockOrder(20)] private readonly ExclusiveLock _audit = new();
            [LockOrder(30)] private readonly ReentrantLock _journal = new();
            [LockOrder(40)] private readonly AsyncExclusiveLock _archive = new();
            [LockOrder(5)] private readonly AsyncExclusiveLock _index = new();

            [Guarded(Lock = nameof(_accounts))] private void DebitCore() { }
            [Guarded(Lock = nameof(_audit))] private void RecordCore() { }
            [Guarded(Lock = nameof(_journal))] private void NoteCore() { }
            [Guarded(Lock = nameof(_journal))] private void NoteTwiceCore() => Note();
            [Guarded(Lock = nameof(_index))] private Task IndexCoreAsync() => Task.CompletedTask;

            public void AuditThenDebit() { using var scope = _audit.Acquire(); {|LSM0022:Debit()|}; }
            public void AuditThenDebitElsewhere(Ledger other) { using (_audit.Acquire()) { {|LSM0022:other.Debit()|}; } }
            public void DebitThenAudit() { using var scope = _accounts.Acquire(); Record(); }
            public void Both(Ledger a) { using var scope = LockSet.Acquire(_accounts, a._audit); {|LSM0022:a.Debit()|}; }
            public void Checked() { if (_audit.TryAcquire(TimeSpan.Zero, out var scope)) { using (scope) { {|LSM0022:Debit()|}; } } }
            public void Unchecked() { _audit.TryAcquire(TimeSpan.Zero, out var scope); using (scope) { Debit(); } }
            public void Ended() { using (_audit.Acquire()) { } Debit(); }
            public void Lambda() { using var scope = _audit.Acquire(); Action later = () => Debit(); }
            public async Task Archive() { using var scope = await _archive.AcquireAsync(); await {|LSM0022:IndexAsync()|}; }
            public void Reenter() { using var scope = _journal.Acquire(); Note(); }
            public void JournalThenAudit() { using var scope = _journal.Acquire(); {|LSM0022:Record()|}; }
        }
        """);

    [Fact]
    public void LSM0024_LockStatementOnLocksmithLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReadWriteLock _rw = new();
            private readonly object _monitor = new();
            private int _count;

            public void Increment()
            {
                lock ({|LSM0024:_lock|}) { _count++; }
                lock ({|LSM0024:_rw|}) { _count++; }
                lock (_monitor) { _count++; }
            }
        }
        """);

    [Fact]
    public void LSM0026_TaskStartedWhileAnAsyncLockIsHeld() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Cache
        {
            private readonly AsyncExclusiveLock _gate = new();
            private readonly AsyncReadWriteLock _rw = new();
            private readonly AsyncExclusiveLock _other = new();
            private Task? _refresh;
            [Guarded(Lock = nameof(_gate))] private int _count;

            public async Task FillAsync()
            {
                Task awaitedAfterTheHold;
                using (await _gate.AcquireAsync())
                {
                    {|LSM0026:Task.Run(Refresh)|};
                    _ = {|LSM0026:Task.Run(Refresh)|};
                    _refresh = {|LSM0026:Task.Run(Refresh)|};
                    {|LSM0026:ThreadPool.QueueUserWorkItem(_ => Refresh())|};
                    {|LSM0026:new Thread(Refresh).Start()|};
                    _ = {|LSM0026:RefreshAsync()|};
                    await Task.Run(Refresh);
                    var pending = Task.Run(Refresh);
                    await pending;
                    await Task.WhenAll(Task.Run(Refresh), RefreshAsync());
                    _refresh ??= {|LSM0026:Task.Run(Refresh)|};
                    {|LSM0026:Task.Run(Refresh)|}.ContinueWith(_ => Refresh());
                    await Task.Run(Refresh).ContinueWith(_ => Refresh());
                    _ = Task.Delay(1);
                    // An acquisition is no detached work (no LSM0026), but its dropped scope is never released.
                    _ = {|LSM0053:_other.AcquireAsync()|};
                    using (ExecutionContext.SuppressFlow())
                    {
                        _ = Task.Run(Refresh);
                    }

                    Func<Task> later = () => Task.Run(Refresh);
                    _refresh = {|LSM0026:later()|};
                    var forgotten = {|LSM0026:Task.Run(Refresh)|};
                    awaitedAfterTheHold = {|LSM0026:RefreshAsync()|};
                    var reassigned = Task.CompletedTask;
                    await reassigned;
                    reassigned = {|LSM0026:Task.Run(Refresh)|};
                    var passedOn = Task.Run(Refresh);
                    Track(passedOn);
                    var readInALambda = Task.Run(Refresh);
                    Func<Task> waitForIt = () => readInALambda;
                    await waitForIt();
                }

                _ = Task.Run(Refresh);
                await awaitedAfterTheHold;
            }

            public async Task ReadAsync()
            {
                using var scope = await _rw.AcquireReadAsync().ConfigureAwait(false);
                _ = {|LSM0026:Task.Factory.StartNew(Refresh)|};
                var left = {|LSM0026:Task.Factory.StartNew(Refresh)|};
                var kept = Task.Factory.StartNew(Refresh);
                await kept;
            }

            public async Task SetAsync()
            {
                var set = await LockSet.AcquireAsync(_gate, _other);
                using (set)
                {
                    {|LSM0026:RefreshAsync()|};
                }
            }

            [Guarded(Lock = nameof(_gate))]
            private async Task BumpCoreAsync()
            {
                _count++;
                _ = {|LSM0026:RefreshAsync()|};
                var notAwaited = {|LSM0026:RefreshAsync()|};
                var awaited = RefreshAsync();
                await Task.Yield();
                await awaited;
            }

            private void Refresh() { }

            private void Track(Task task) => _refresh = task;

            private Task RefreshAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public void LSM0026_ForATimerAndADroppedContinueWith_InAnAsyncHold() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Poller
        {
            private readonly AsyncExclusiveLock _gate = new();
            private Timer? _timer;
            private Task? _next;

            public async Task StartAsync(Task earlier)
            {
                using (await _gate.AcquireAsync())
                {
                    _timer = {|LSM0026:new Timer(_ => Refresh(), null, 0, 1000)|};
                    {|LSM0026:earlier.ContinueWith(_ => Refresh())|};
                    _ = {|LSM0026:earlier.ContinueWith(_ => Refresh())|};
                    _next = {|LSM0026:earlier.ContinueWith(_ => Refresh())|};
                    // One report for a chain: at the call that starts it.
                    _ = {|LSM0026:earlier.ContinueWith(_ => Refresh())|}.ContinueWith(_ => Refresh());
                    _ = {|LSM0026:Task.Run(Refresh)|}.ContinueWith(_ => Refresh());
                    await earlier.ContinueWith(_ => Refresh());
                    var kept = earlier.ContinueWith(_ => Refresh());
                    await kept;
                    using (ExecutionContext.SuppressFlow())
                    {
                        _timer = new Timer(_ => Refresh(), null, 0, 1000);
                        _ = earlier.ContinueWith(_ => Refresh());
                    }
                }

                _timer = new Timer(_ => Refresh(), null, 0, 1000);
                _ = earlier.ContinueWith(_ => Refresh());
            }

            private void Refresh() { }
        }
        """);

    [Fact]
    public void LSM0026_HoldsAndBoundaries() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Jobs
        {
            private readonly AsyncExclusiveLock _gate = new();
            private readonly ExclusiveLock _sync = new();

            public async Task RunAsync()
            {
                await using (await _gate.AcquireAsync())
                {
                    _ = {|LSM0026:Task.Run(Work)|};
                    {|LSM0026:new Task(Work).Start()|};
                    var leftRunning = new Task(Work);
                    {|LSM0026:leftRunning.Start()|};
                    var awaited = new Task(Work);
                    awaited.Start();
                    await awaited;
                    var joined = new Thread(Work);
                    joined.Start();
                    joined.Join();
                    var notJoined = new Thread(Work);
                    {|LSM0026:notJoined.Start()|};
                }

                Func<Task> job = async () =>
                {
                    using (await _gate.AcquireAsync())
                    {
                        _ = {|LSM0026:Task.Run(Work)|};
                    }
                };
                await job();

                using (_sync.Acquire())
                {
                    _ = Task.Run(Work);
                }

                using var scope = await _gate.AcquireAsync();
                Action notYet = () => _ = Task.Run(Work);
                notYet();
                using var quiet = ExecutionContext.SuppressFlow();
                _ = Task.Run(Work);
            }

            public async Task SyncAsync(Locksmith.Postgres.KeyLock key)
            {
                using (await key.AcquireAsync())
                {
                    _ = {|LSM0026:Task.Run(Work)|};
                }
            }

            private void Work() { }
        }
        """ + PostgresStandIn);

    /// <summary>
    /// An override of a guarded core without a [Guarded] of its own (the template method, in a type that need not be
    /// partial) is what the base's wrappers call under the base's lock: it holds that lock, so its guarded state is used
    /// with the lock, a read core's override that writes is LSM0021, and one that calls a wrapper of the lock is LSM0023
    /// (the run throws LockRecursionException). A method that merely shares the name without overriding holds nothing.
    /// </summary>
    [Fact]
    public void AnOverrideOfAGuardedCore_HoldsTheBasesLock() => DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public abstract partial class Job
        {
            [LockOrder(10)] protected readonly ReadWriteLock Gate = new();
            [Guarded(Lock = nameof(Gate))] protected int Runs;

            [Guarded(Lock = nameof(Gate))] protected abstract int StepCore();
            [Guarded(Lock = nameof(Gate), Access = LockAccess.Read)] protected virtual int PeekCore() => Runs;
            [Guarded(Lock = nameof(Gate))] protected int ResetCore() => Runs = 0;
        }

        public class Copy : Job
        {
            protected override int StepCore() => ++Runs;
            protected override int PeekCore() => {|LSM0021:Runs|}++;
        }

        public sealed class Twice : Copy
        {
            protected override int StepCore() => base.StepCore() + Runs;
        }

        public sealed class Reentering : Job
        {
            protected override int StepCore() => {|LSM0023:Reset()|};
            protected new int Runs => {|LSM0020:base.Runs|};
        }

        public abstract partial class AsyncJob
        {
            protected readonly AsyncExclusiveLock Gate = new();
            [Guarded(Lock = nameof(Gate))] protected decimal Balance;

            [Guarded(Lock = nameof(Gate))] protected abstract Task DepositCoreAsync(decimal amount, CancellationToken ct);
        }

        public sealed class Checking : AsyncJob
        {
            protected override async Task DepositCoreAsync(decimal amount, CancellationToken ct)
            {
                await Task.Delay(1, ct);
                Balance += amount;
                await {|LSM0023:DepositAsync(1m, ct)|};
            }
        }
        """);

    /// <summary>
    /// A property pattern reads its members through the value it matches (<c>a is { _balance: > 100m }</c>), whose
    /// receiver Roslyn gives only as "the pattern's input": the lock is held when it is held for that value (this, a
    /// parameter an [AcquiresLocksOf] names, an object whose scope is open), in is, switch expressions and statements,
    /// combined and nested patterns; another object's state matched there is still reported.
    /// </summary>
    [Fact]
    public void LSM0020_PropertyPatterns_ReadThroughTheValueTheyMatch() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _balance;
            [Guarded(Lock = nameof(_lock))] private Account? _next;
            [Guarded(Lock = nameof(_lock))] public decimal Limit { get; set; }

            [AcquiresLocksOf(nameof(a), Lock = nameof(_lock))]
            private static bool IsRichCore(Account a) => a is { _balance: > 100m, Limit: > 0 };

            [Guarded(Lock = nameof(_lock))]
            private string KindCore() => this switch { { _balance: > 0 } => "credit", { _next: null } or { _balance: 0 } => "empty", _ => "debit" };

            [Guarded(Lock = nameof(_lock))]
            private int BandCore(object? o)
            {
                switch (this)
                {
                    case { _balance: 1 } when o is null: return 1;
                    case not { Limit: 2 }: return 2;
                    default: return 0;
                }
            }

            public bool Both(Account other)
            {
                using var scope = other._lock.Acquire();
                return other is { _balance: > 0 } && this is { {|LSM0020:_balance|}: > 0 };
            }

            [Guarded(Lock = nameof(_lock))] private bool OtherCore(Account other) => other is { {|LSM0020:_balance|}: > 0 };
            [Guarded(Lock = nameof(_lock))] private bool NextCore() => this is { _next: { {|LSM0020:_balance|}: > 0 } };
            public bool Unlocked() => this is { {|LSM0020:Limit|}: > 0 };
        }
        """);

    /// <summary>
    /// A TryAcquire scope checked with a property pattern (<c>scope is { IsAcquired: true }</c>, <c>is not { … }</c>
    /// then leaving) holds the lock where the check proves success, as <c>scope.IsAcquired</c> and <c>is true</c> do;
    /// a pattern that proves failure, or one about another member, does not.
    /// </summary>
    [Fact]
    public void LSM0020_TryAcquireCheckedWithAPropertyPattern() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Cache
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;

            public async Task<int> Checked()
            {
                using var scope = await _lock.TryAcquireAsync(TimeSpan.FromSeconds(1));
                if (scope is { IsAcquired: true }) { return _count; }
                if (scope is { IsAcquired: false }) { return {|LSM0020:_count|}; }
                if (scope is not { IsAcquired: true }) { return -1; }
                return _count;
            }

            public async Task<int> Inverted()
            {
                using var scope = await _lock.TryAcquireAsync(TimeSpan.Zero);
                if (scope is { IsAcquired: false }) { return -1; }
                return _count;
            }

            public async Task<int> Unchecked()
            {
                using var scope = await _lock.TryAcquireAsync(TimeSpan.Zero);
                if (scope is not { IsAcquired: false }) { return -1; }
                return {|LSM0020:_count|};
            }
        }
        """);

    /// <summary>
    /// A TryAcquire checked by a switch holds the lock where the switch proves success: in a section or arm only success
    /// reaches (<c>case true:</c>, <c>default:</c> after <c>case false:</c>, <c>false =&gt; -1, _ =&gt; …</c>), and after a
    /// switch whose failure section leaves (<c>case false: return;</c>); before, each was LSM0020. A label with
    /// <c>when</c>, a <c>goto case</c>, or a section that only breaks out of the switch proves nothing.
    /// </summary>
    [Fact]
    public void NoLSM0020_TryAcquireCheckedByASwitch() => Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Cache
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly ExclusiveLock _sync = new();
            [Guarded(Lock = nameof(_lock))] private int _count;
            [Guarded(Lock = nameof(_sync))] private int _hits;

            public async Task Leaves(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t); switch (s.IsAcquired) { case false: return; } _count++; }
            public async Task Throws(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t); switch (s) { case { IsAcquired: false }: throw new TimeoutException(); default: break; } _count++; }
            public async Task Sections(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t); switch (s.IsAcquired) { case false: return; default: _count++; break; } }
            public async Task<int> Arms(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t); return s.IsAcquired switch { false => -1, _ => _count }; }
            public void OnTheCall(TimeSpan t) { switch (_sync.TryAcquire(t, out var s)) { case true: using (s) { _hits++; } break; } }

            public async Task Guarded(TimeSpan t, bool quiet) { using var s = await _lock.TryAcquireAsync(t); switch (s.IsAcquired) { case false when quiet: return; } {|LSM0020:_count|}++; }
            public async Task BreaksOut(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t); switch (s.IsAcquired) { case false: { break; } } {|LSM0020:_count|}++; }
            public async Task Jumps(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t); switch (s.IsAcquired) { case true: goto case false; case false: {|LSM0020:_count|}++; break; } }
            public async Task<int> WrongArm(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t); return s.IsAcquired switch { false => {|LSM0020:_count|}, true => -1 }; }
        }
        """);

    /// <summary>
    /// A using whose value throws unless the TryAcquire succeeded (<c>using var s = _lock.TryAcquire(t, out var x) ? x :
    /// throw …;</c>, its <c>IsAcquired</c> and <c>is { IsAcquired: true } x</c> forms) holds the lock after it; before, LSM0020.
    /// A ternary that gives an empty scope on failure, or throws on success, or tests another scope, does not.
    /// </summary>
    [Fact]
    public void NoLSM0020_AfterAUsingWhoseTernaryThrowsUnlessTaken() => Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Cache
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly ExclusiveLock _sync = new();
            [Guarded(Lock = nameof(_lock))] private int _count;
            [Guarded(Lock = nameof(_sync))] private int _hits;

            public void Out(TimeSpan t) { using var s = _sync.TryAcquire(t, out var x) ? x : throw new TimeoutException(); _hits++; }
            public void Negated(TimeSpan t) { using var s = !_sync.TryAcquire(t, out var x) ? throw new TimeoutException() : x; _hits++; }
            public async Task Pattern(TimeSpan t) { using var s = await _lock.TryAcquireAsync(t) is { IsAcquired: true } x ? x : throw new TimeoutException(); _count++; }
            public async Task Kept(TimeSpan t) { var x = await _lock.TryAcquireAsync(t); using var s = x.IsAcquired ? x : throw new TimeoutException(); _count++; }

            public void Empty(TimeSpan t) { using var s = _sync.TryAcquire(t, out var x) ? x : default; {|LSM0020:_hits|}++; }
            public void Backwards(TimeSpan t) { using var s = _sync.TryAcquire(t, out var x) ? throw new TimeoutException() : x; {|LSM0020:_hits|}++; }
            public async Task Another(TimeSpan t)
            {
                var x = await _lock.TryAcquireAsync(t);
                var y = await _lock.TryAcquireAsync(t);
                using (y) { }
                using var s = y.IsAcquired ? x : throw new TimeoutException();
                {|LSM0020:_count|}++;
            }
        }
        """);

    /// <summary>
    /// A using of a scope deconstructed out of a tuple literal (<c>var (s, n) = (await _lock.AcquireAsync(), 1);
    /// using (s) { … }</c>) holds the lock as one from a declaration does; before, LSM0020 (while LSM0053 asks for that
    /// using). A using of another part of the tuple holds nothing.
    /// </summary>
    [Fact]
    public void NoLSM0020_InAUsingOfAScopeDeconstructedFromATuple() => Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Cache
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;

            public async Task Declared() { var (s, n) = (await _lock.AcquireAsync(), 1); using (s) { _count += n; } }
            public async Task Assigned() { AsyncLockScope s; int n; (s, n) = (await _lock.AcquireAsync(), 2); using (s) { _count += n; } }
            public async Task OtherPart()
            {
                var (s, other) = (await _lock.AcquireAsync(), default(AsyncLockScope));
                s.Dispose();
                using (other) { {|LSM0020:_count|}++; }
            }
        }
        """);

    // The analyzer knows Locksmith.Postgres's scopes by name; the test compilation references only Locksmith.
    private const string PostgresStandIn = """

        namespace Locksmith.Postgres
        {
            public readonly struct PostgresLockScope : System.IDisposable
            {
                public void Dispose() { }
            }

            public sealed class KeyLock
            {
                public System.Threading.Tasks.ValueTask<PostgresLockScope> AcquireAsync() => default;
            }
        }
        """;
}
