using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>One test per declaration diagnostic the generator reports, with the span marked in the source.</summary>
public sealed class GeneratorDiagnosticsTests
{
    private const string KeyedGate = """

        public sealed class KeyedGate<TKey> : IKeyedAccessLock
        {
            public Scope Acquire(TKey key) => default;
            public Scope Acquire(TKey key, System.TimeSpan timeout, System.Threading.CancellationToken ct = default) => default;
            public bool TryAcquire(TKey key, System.TimeSpan timeout, out Scope scope) { scope = default; return true; }
            public ref struct Scope { public void Dispose() { } }
        }
        """;

    [Fact]
    public void LSM0001_TypeNotPartial() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Outer
        {
            public class Account
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void {|LSM0001:DepositCore|}() { }
            }
        }
        """);

    [Fact]
    public void LSM0002_LockNamesNoMember() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            [{|LSM0002:Guarded(Lock = "_missing")|}] private int _balance;
            [{|LSM0002:Guarded(Lock = "_gone")|}] private void DepositCore() { }
        }
        """);

    // A primary constructor parameter is in scope for nameof, so the attribute compiles, but it is no member: the
    // message says so and how to keep it in one, where "has no field or property of that name" puzzled a trial user.
    [Fact]
    public void LSM0002_LockNamesAPrimaryConstructorParameter() => DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Counter(AsyncExclusiveLock gate, ExclusiveLock other)
        {
            private readonly ExclusiveLock _other = other;
            [{|LSM0002:Guarded(Lock = nameof(gate))|}] private int _n;
            [{|LSM0002:Guarded(Lock = nameof(gate))|}] private async Task<int> AddCoreAsync(int x, CancellationToken ct) { await Task.Yield(); return _n += x; }
        }
        """);

    // A parameter named by a keyword (@lock) is written so in the field the message suggests; "= lock;" is no C#.
    [Fact]
    public void LSM0002_APrimaryConstructorParameterNamedByAKeyword_IsEscapedInTheSuggestedField()
    {
        var run = GeneratorHarness.Run("""
            using Locksmith;
            public sealed partial class Counter(ExclusiveLock @lock)
            {
                [Guarded(Lock = nameof(@lock))] private int _n;
            }
            """);

        var message = Assert.Single(run.LocksmithDiagnostics, static d => d.Id == "LSM0002").GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("(private readonly ExclusiveLock _lock = @lock;) and set Lock = nameof(_lock)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void LSM0002_APrimaryConstructorParameter_TheSuggestedFieldNameIsNotTakenAlready()
    {
        // '_gate' exists (another lock): suggesting a second '_gate' would not compile, so the advice names a free one.
        var run = GeneratorHarness.Run("""
            using Locksmith;
            public sealed partial class Counter(ExclusiveLock gate)
            {
                private readonly ExclusiveLock _gate = new();
                private int _gateLock;
                [Guarded(Lock = nameof(gate))] private int _n;
            }
            """);

        var message = Assert.Single(run.LocksmithDiagnostics, static d => d.Id == "LSM0002").GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("(private readonly ExclusiveLock _gate2 = gate;) and set Lock = nameof(_gate2)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void LSM0003_NotALocksmithLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly object _gate = new();
            [{|LSM0003:Guarded(Lock = nameof(_gate))|}] private void DepositCore() { }
        }
        """);

    [Fact]
    public void LSM0004_StaticMemberGuardedByInstanceLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Registry
        {
            private readonly ExclusiveLock _lock = new();
            [{|LSM0004:Guarded(Lock = nameof(_lock))|}] private static int s_count;
            [{|LSM0004:Guarded(Lock = nameof(_lock))|}] private static void ClearCore() { }
        }
        """);

    [Fact]
    public void LSM0005_ReadAccessOnExclusiveLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [{|LSM0005:Guarded(Lock = nameof(_lock), Access = LockAccess.Read)|}] private int BalanceCore() => 0;
        }
        """);

    [Fact]
    public void LSM0006_StripeByNamesNoUsableParameter() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Inventory
        {
            private readonly KeyedGate<string> _stripes = new();
            [{|LSM0006:Guarded(Lock = nameof(_stripes), StripeBy = "sku")|}] private void TakeCore(string item) { }
            [{|LSM0006:Guarded(Lock = nameof(_stripes), StripeBy = nameof(count))|}] private void CountCore(int count) { }
        }
        """ + KeyedGate);

    [Fact]
    public void LSM0007_StripeByOnUnkeyedLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Inventory
        {
            private readonly ExclusiveLock _lock = new();
            [{|LSM0007:Guarded(Lock = nameof(_lock), StripeBy = nameof(sku))|}] private void TakeCore(string sku) { }
        }
        """);

    [Fact]
    public void LSM0008_KeyedLockWithoutStripeBy() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Inventory
        {
            private readonly KeyedGate<string> _stripes = new();
            [{|LSM0008:Guarded(Lock = nameof(_stripes))|}] private void TakeCore(string sku) { }
        }
        """ + KeyedGate);

    [Fact]
    public void LSM0009_AsyncMethodWithThreadAffineLock() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private async Task {|LSM0009:SaveCore|}() => await Task.Yield();
            [Guarded(Lock = nameof(_lock))] private ValueTask<int> {|LSM0009:LoadCore|}() => new(1);
        }
        """);

    /// <summary>
    /// A CountingSemaphore has async acquisitions but no async marker, so it stays a synchronous lock to the generator:
    /// an async body is refused, and the message names both an async lock and the awaited acquisition to write in code.
    /// </summary>
    [Fact]
    public void LSM0010_AwaitableWithOtherLock() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Pool
        {
            private readonly CountingSemaphore _slots = new(2, 2);
            [Guarded(Lock = nameof(_slots))] private Task {|LSM0010:UseCore|}() => Task.CompletedTask;
            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_slots))] private static Task {|LSM0010:MoveCore|}(Pool a, Pool b) => Task.CompletedTask;
            [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_slots))] private static ValueTask<int> {|LSM0010:SumCore|}(Pool a, Pool b, Pool c) => new(0);
        }
        """);

    [Fact]
    public void LSM0009_ReadMostlyType_IsToldToUseAnAsyncReadWriteLock() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        [ReadMostly]
        public partial class Prices
        {
            private readonly ReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private Task<int> {|LSM0009:FindCore|}() => Task.FromResult(1);
        }
        """);

    /// <summary>An async lock: a synchronous body, a Task body with a name that gives no Async wrapper, and shapes an async wrapper cannot take.</summary>
    [Fact]
    public void LSM0043_OverrideGuardedByAnotherLock() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public abstract partial class Job
        {
            protected readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] protected abstract Task<int> RunCoreAsync(int x);
        }

        public sealed class Export : Job
        {
            private readonly AsyncExclusiveLock _export = new();
            [Guarded(Lock = nameof(_export))] private int _rows;
            [{|LSM0043:Guarded(Lock = nameof(_export))|}] protected override Task<int> RunCoreAsync(int x) => Task.FromResult(_rows += x);
        }

        public sealed class Import : Job
        {
            [Guarded(Lock = nameof(_lock))] private int _rows;
            [Guarded(Lock = nameof(_lock))] protected override Task<int> RunCoreAsync(int x) => Task.FromResult(_rows += x);
        }
        """);

    /// <summary>
    /// A user's lock type that carries a capability marker without a method its wrappers call (or with one whose result
    /// cannot be disposed or tested) is refused by name; one that has them all gets its wrappers.
    /// </summary>
    [Fact]
    public void LSM0044_LockTypeLacksAcquisition()
    {
        var run = DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class MarkedOnly : IAsyncExclusiveAccessLock { }
        public sealed class NoTimedForm : IAsyncExclusiveAccessLock
        {
            public ValueTask<Held> AcquireAsync(CancellationToken cancellationToken = default) => new(new Held());
        }
        public sealed class UntestableScope : IAsyncExclusiveAccessLock
        {
            public ValueTask<Held> AcquireAsync(CancellationToken cancellationToken = default) => new(new Held());
            public ValueTask<Held> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => new(new Held());
        }
        public sealed class Complete : IAsyncExclusiveAccessLock
        {
            public ValueTask<Tested> AcquireAsync(CancellationToken cancellationToken = default) => new(new Tested());
            public ValueTask<Tested> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => new(new Tested());
        }
        public sealed class Held : IDisposable { public void Dispose() { } }
        public sealed class Tested : IDisposable { public bool IsAcquired => true; public void Dispose() { } }
        public sealed class SyncMarkedOnly : IExclusiveAccessLock { }
        public sealed class HiddenDispose : IExclusiveAccessLock
        {
            public Scope Acquire() => default;
            public bool TryAcquire(TimeSpan timeout, out Scope scope) { scope = default; return true; }
            public struct Scope : IDisposable { void IDisposable.Dispose() { } }
        }
        public partial class Store
        {
            private readonly MarkedOnly _marked = new();
            private readonly NoTimedForm _untimed = new();
            private readonly UntestableScope _untestable = new();
            private readonly Complete _complete = new();
            private readonly SyncMarkedOnly _syncMarked = new();
            private readonly HiddenDispose _hidden = new();
            [{|LSM0044:Guarded(Lock = nameof(_marked))|}] private Task SaveCoreAsync() => Task.CompletedTask;
            [{|LSM0044:Guarded(Lock = nameof(_untimed))|}] private Task LoadCoreAsync() => Task.CompletedTask;
            [{|LSM0044:Guarded(Lock = nameof(_untestable))|}] private Task<int> CountCoreAsync() => Task.FromResult(0);
            [Guarded(Lock = nameof(_complete))] private Task<int> SizeCoreAsync(CancellationToken cancellationToken) => Task.FromResult(0);
            [{|LSM0044:Guarded(Lock = nameof(_syncMarked))|}] private void ClearCore() { }
            [{|LSM0044:Guarded(Lock = nameof(_hidden))|}] private void TrimCore() { }
        }
        """);

        // The refused ones get no wrapper (no CS1061 in generated code); the complete one gets both async forms.
        Assert.Empty(run.CompilerDiagnostics.Where(static d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning && d.Id != "CS1591"));
        string generated = string.Concat(run.Result.GeneratedTrees.Select(static t => t.ToString()));
        Assert.Contains("SizeAsync(global::System.Threading.CancellationToken cancellationToken)", generated);
        Assert.Contains("TrySizeAsync(", generated);
        Assert.DoesNotContain("SaveAsync", generated);
    }

    [Fact]
    public void LSM0042_SynchronousMethodWithAsyncLock_AndAsyncShapeProblems() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Queue
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void {|LSM0042:PushCore|}(int item) { }
            [Guarded(Lock = nameof(_lock))] private int {|LSM0042:CountCore|}() => 0;
            [Guarded(Lock = nameof(_lock))] private Task {|LSM0014:DrainCore|}() => Task.CompletedTask;
            [{|LSM0014:Guarded(Lock = nameof(_lock), WrapperName = "Flush")|}] private Task FlushAll() => Task.CompletedTask;
            [{|LSM0014:Guarded(Lock = nameof(_lock), WrapperName = "Async")|}] private Task StopCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private Task {|LSM0016:MoveCoreAsync|}(ref int position) => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private async void {|LSM0016:FireCore|}() => await Task.Yield();
        }
        public partial struct Slot
        {
            private readonly AsyncExclusiveLock _lock;
            public Slot(AsyncExclusiveLock gate) => _lock = gate;
            [Guarded(Lock = nameof(_lock))] private Task {|LSM0016:FillCoreAsync|}() => Task.CompletedTask;
            [Guarded(Lock = nameof(s_gate))] private static Task ClearCoreAsync() => Task.CompletedTask;
            private static readonly AsyncExclusiveLock s_gate = new();
        }
        """);

    /// <summary>
    /// A synchronous body of an async lock gets LSM0042 only: no LSM0014 by the synchronous naming rule for a wrapper it
    /// never gets (whose rename contradicted LSM0042's), no LSM0013 for that wrapper's name, and LSM0042 names the async
    /// core from the name's stem ('LoadCoreAsync', 'SizeCoreAsync'; 'PeekCoreAsync' keeps its name, not 'PeekCoreAsyncCoreAsync').
    /// </summary>
    [Fact]
    public void LSM0042_SynchronousBodyOfAnAsyncLock_IsTheOnlyDiagnostic_AndNamesTheAsyncCoreFromTheStem() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Shelf
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncStripedLock<string> _keys = new();
            [Guarded(Lock = nameof(_lock))] private int {|LSM0042:Load|}() => 1;
            [Guarded(Lock = nameof(_lock))] private int {|LSM0042:PeekCoreAsync|}() => 1;
            [Guarded(Lock = nameof(_lock))] private int {|LSM0042:SizeAsync|}() => 1;
            [Guarded(Lock = nameof(_lock))] private void {|LSM0042:ShelfCore|}() { }
            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static int {|LSM0042:MoveCoreAsync|}(Shelf a, Shelf b) => 1;
            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_keys))] private int {|LSM0042:Shift|}(string a, string b) => 1;
        }
        """);

    /// <summary>LockSet takes async locks together or synchronous locks together, never both in one call.</summary>
    [Fact]
    public void LSM0018_AsyncAndSynchronousLocksMixed() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class SyncBox { internal readonly ExclusiveLock _lock = new(); }
        public partial class AsyncBox { internal readonly AsyncExclusiveLock _lock = new(); }
        public static partial class Moves
        {
            [{|LSM0018:AcquiresLocksOf(nameof(from), nameof(to), Lock = "_lock")|}]
            private static Task MoveCoreAsync(SyncBox from, AsyncBox to) => Task.CompletedTask;
        }
        """);

    /// <summary>
    /// [AcquiresLocksOf] naming keys of the type's own synchronous keyed lock gets one LSM0018 that says only async keyed
    /// locks take keys together, not one per key saying that 'string' has no lock member.
    /// </summary>
    [Fact]
    public void LSM0018_KeysOfASynchronousKeyedLock_OnceAndSaysWhichLockTakesKeysTogether() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Stock
        {
            private readonly StripedLock<string> _skus = new();
            private readonly StripedReadWriteLock<string> _shelves = new();
            [{|LSM0018:AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_skus))|}] private void MoveCore(string from, string to) { }
            [{|LSM0018:AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_skus))|}] private Task ShiftCoreAsync(string from, string to) => Task.CompletedTask;
            [{|LSM0018:AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_shelves))|}] private void SwapCore(string a, string b) { }
        }
        """);

    [Fact]
    public void LSM0011_LockOrderOnNonLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            [LockOrder(5)] private int {|LSM0011:_count|};
        }
        """);

    [Fact]
    public void LSM0012_DuplicateLockOrderLevel() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Ledger
        {
            [LockOrder(5)] private readonly ExclusiveLock _entries = new();
            [LockOrder(5)] private readonly ReentrantLock {|LSM0012:_totals|} = new();
            [LockOrder(6)] private readonly ExclusiveLock _audit = new();
        }
        """);

    [Fact]
    public void LSM0013_WrapperNameCollision() => DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            public int Balance => 0;
            [Guarded(Lock = nameof(_lock))] private int {|LSM0013:BalanceCore|}() => 0;
            public void Deposit(decimal amount) { }
            public bool TryWithdraw(decimal amount, TimeSpan timeout) => false;
            [Guarded(Lock = nameof(_lock))] private void {|LSM0013:DepositCore|}(decimal amount) { }
            [Guarded(Lock = nameof(_lock))] private void {|LSM0013:WithdrawCore|}(decimal amount) { }
            [Guarded(Lock = nameof(_lock))] private void DepositCore(int cents) { }
        }
        """);

    /// <summary>
    /// A wrapper that would take calls from an existing method (the same leading parameters, where the existing method
    /// then needs a default or an empty params array, or is a base type's) is refused: those calls would bind to the
    /// wrapper or be ambiguous. A method that needs nothing filled in keeps its calls, as does one whose parameters
    /// differ in type or in ref/out, and the calls below still compile.
    /// </summary>
    [Fact]
    public void LSM0045_WrapperTakesExistingCalls()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            public class Ledger
            {
                public int Post(int cents, string memo = "") => cents;
                public virtual int Settle(int cents, string memo = "") => cents;
            }
            public partial class Account : Ledger
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                public int Deposit(int cents, string memo = "") => cents;
                [Guarded(Lock = nameof(_lock))] private int {|LSM0045:DepositCore|}(int cents, long reference = 0) => cents;
                public Task<int> LoadAsync(int id, bool fresh = false) => Task.FromResult(id);
                [Guarded(Lock = nameof(_async))] private Task<int> {|LSM0045:LoadCoreAsync|}(int id) => Task.FromResult(id);
                public int Credit(int cents, string memo = "") => cents;
                [Guarded(Lock = nameof(_lock))] private int {|LSM0045:CreditCore|}(int cents) => cents;
                public bool TryRefund(int cents, TimeSpan timeout, out int result, string memo = "") { result = cents; return true; }
                [Guarded(Lock = nameof(_lock))] private int {|LSM0045:RefundCore|}(int cents) => cents;
                public int Audit(int cents, params string[] notes) => cents;
                [Guarded(Lock = nameof(_lock))] private int {|LSM0045:AuditCore|}(int cents, long reference = 0) => cents;
                [Guarded(Lock = nameof(_lock))] private int {|LSM0045:PostCore|}(int cents, long reference = 0) => cents;
                public override int Settle(int cents, string memo = "") => cents;
                [Guarded(Lock = nameof(_lock))] private int {|LSM0045:SettleCore|}(int cents, long reference = 0) => cents;

                public int Withdraw(int cents) => cents;
                [Guarded(Lock = nameof(_lock))] private int WithdrawCore(int cents, long reference = 0) => cents;
                public int Close(long account, string memo = "") => 0;
                [Guarded(Lock = nameof(_lock))] private int CloseCore(int cents, long reference = 0) => cents;
                public int Move(ref int cents, string memo = "") => cents;
                [Guarded(Lock = nameof(_lock))] private int MoveCore(out int cents, long reference = 0) { cents = 0; return 0; }

                private int Callers(int held) => Withdraw(1) + Withdraw(1, 2) + Close(1L, "x") + Move(ref held) + Move(out held);
            }
            """);
        Assert.Empty(run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error));
    }

    /// <summary>
    /// A lock reached through a member, getter or declaring type obsolete as an error gets no wrapper (its CS0619 no
    /// pragma lifts), and an acquisition obsolete as an error is not one the wrapper can call; the rest still compiles.
    /// </summary>
    [Fact]
    public void LSM0046_LockReachedThroughObsoleteError()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public sealed class MyLock : IExclusiveAccessLock
            {
                [Obsolete("gone", true)] public IDisposable Acquire() => null!;
                public bool TryAcquire(TimeSpan t, [NotNullWhen(true)] out IDisposable? s) { s = null; return false; }
            }
            public partial class Account
            {
                [Obsolete("use _new", true)] private readonly ExclusiveLock _old = new();
                private readonly ExclusiveLock _new = new();
                private ExclusiveLock Gate { [Obsolete("no", true)] get => _new; }
                private readonly MyLock _mine = new();
                [{|LSM0046:Guarded(Lock = "_old")|}] private void DepositCore() { }
                [{|LSM0046:Guarded(Lock = nameof(Gate))|}] private void WithdrawCore() { }
                [{|LSM0044:Guarded(Lock = nameof(_mine))|}] private void AuditCore() { }
                [Guarded(Lock = nameof(_new))] private void CloseCore() { }
            }
            """);

        Assert.Empty(TestCompilation.Problems(run.CompilerDiagnostics));
    }

    /// <summary>
    /// LSM0046 comes once per lock member a method reaches through a member obsolete as an error, not once per
    /// parameter: a transfer between two accounts names one member, '_old' of Account; a ledger's '_old' is another.
    /// </summary>
    [Fact]
    public void LSM0046_OncePerLockMember_NotPerParameter()
    {
        var run = GeneratorHarness.Run("""
            using System;
            using Locksmith;
            public class Account { [Obsolete("use _new", true)] internal readonly ExclusiveLock _old = new(); }
            public class Ledger { [Obsolete("closed", true)] internal readonly ExclusiveLock _old = new(); }
            public partial class Bank
            {
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = "_old")] private void TransferCore(Account from, Account to) { }
                [AcquiresLocksOf(nameof(from), nameof(to), nameof(ledger), Lock = "_old")] private void PostCore(Account from, Account to, Ledger ledger) { }
            }
            """);

        string[] expected =
            [
                "'Bank.TransferCore' is guarded by '_old', but its wrappers would have to use 'Account._old', which is [Obsolete] as an error (\"use _new\"), so they would not compile; guard 'Bank.TransferCore' with a lock member that is not, or drop 'error: true' from that [Obsolete]",
                "'Bank.PostCore' is guarded by '_old', but its wrappers would have to use 'Account._old', which is [Obsolete] as an error (\"use _new\"), so they would not compile; guard 'Bank.PostCore' with a lock member that is not, or drop 'error: true' from that [Obsolete]",
                "'Bank.PostCore' is guarded by '_old', but its wrappers would have to use 'Ledger._old', which is [Obsolete] as an error (\"closed\"), so they would not compile; guard 'Bank.PostCore' with a lock member that is not, or drop 'error: true' from that [Obsolete]",
            ];
        var reported = run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(expected.Select(static m => "LSM0046 " + m).Order(StringComparer.Ordinal), reported.Order(StringComparer.Ordinal));
        Assert.Empty(run.Result.GeneratedTrees);
    }

    /// <summary>
    /// The overload pairs LSM0045 refuses above, written by hand, change what a call binds to: the short calls of the
    /// first two are ambiguous, and the others' go to the wrapper-shaped overload.
    /// </summary>
    [Fact]
    public void LSM0045_RefusesOnlyPairsWhoseCallsChange()
    {
        var compilation = TestCompilation.Create("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            public class Ledger
            {
                public int Post(int cents, string memo = "") => cents;
                public virtual int Settle(int cents, string memo = "") => cents;
            }
            public class Account : Ledger
            {
                public int Deposit(int cents, string memo = "") => cents;
                public int Deposit(int cents, long reference = 0) => cents;
                public Task<int> LoadAsync(int id, bool fresh = false) => Task.FromResult(id);
                public Task<int> LoadAsync(int id, CancellationToken cancellationToken = default) => Task.FromResult(id);
                public int Credit(int cents, string memo = "") => cents;
                public int Credit(int cents) => cents;
                public bool TryRefund(int cents, TimeSpan timeout, out int result, string memo = "") { result = cents; return true; }
                public bool TryRefund(int cents, TimeSpan timeout, out int result) { result = cents; return true; }
                public int Audit(int cents, params string[] notes) => cents;
                public int Audit(int cents, long reference = 0) => cents;
                public int Post(int cents, long reference = 0) => cents;
                public override int Settle(int cents, string memo = "") => cents;
                public int Settle(int cents, long reference = 0) => cents;
                private void Callers()
                {
                    Deposit(1);
                    LoadAsync(1);
                    Credit(1);
                    TryRefund(1, TimeSpan.Zero, out _);
                    Audit(1);
                    Post(1);
                    Settle(1);
                }
            }
            """);
        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        var calls = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax>()
            .Single(static m => m.Identifier.Text == "Callers")
            .DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>().ToList();
        var ambiguous = compilation.GetDiagnostics().Where(static d => d.Id == "CS0121").Select(static d => d.Location.SourceSpan.Start).ToList();

        Assert.Equal([calls[0].SpanStart, calls[1].SpanStart], ambiguous);
        var bound = calls.Skip(2).Select(c => model.GetSymbolInfo(c).Symbol!.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)).ToList();
        Assert.Equal(
            ["Account.Credit(int)", "Account.TryRefund(int, TimeSpan, out int)", "Account.Audit(int, long)", "Account.Post(int, long)", "Account.Settle(int, long)"],
            bound);
    }

    [Fact]
    public void LSM0014_MissingOrInvalidWrapperName() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void {|LSM0014:Deposit|}() { }
            [{|LSM0014:Guarded(Lock = nameof(_lock), WrapperName = "not valid")|}] private void WithdrawCore() { }
            [Guarded(Lock = nameof(_lock))] private void {|LSM0014:Core|}() { }
        }
        """);

    [Fact]
    public void LSM0015_UnsupportedContainingType() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial interface IAccount
        {
            static readonly ExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(s_lock))] static void {|LSM0015:ResetCore|}() { }
        }
        file partial class Hidden
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void {|LSM0015:RunCore|}() { }
        }
        """);

    [Fact]
    public void LSM0016_UnsupportedGuardedMethod() => DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private int _value;
            [Guarded(Lock = nameof(_lock))] private ref int {|LSM0016:ValueCore|}() => ref _value;
            [Guarded(Lock = nameof(_lock))] private IEnumerable<int> {|LSM0016:ItemsCore|}() { yield return 1; }
            public void Run()
            {
                [Guarded(Lock = nameof(_lock))] void {|LSM0016:LocalCore|}() { }
                LocalCore();
            }
        }
        public partial struct Point
        {
            private static readonly ExclusiveLock s_lock = new();
            [{|LSM0016:Guarded(Lock = nameof(s_lock), Visibility = WrapperVisibility.Protected)|}] private static void MoveCore() { }
        }
        public abstract partial class Job
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] protected abstract void RunCore();
            [Guarded(Lock = nameof(_lock))] private void {|LSM0016:LogCore|}(__arglist) { }
            public System.Action Later() => {|LSM0016:[Guarded(Lock = nameof(_lock))] () => { }|};
        }
        """);

    [Fact]
    public void LSM0017_InvalidTimeout() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [{|LSM0017:Guarded(Lock = nameof(_lock), TimeoutMilliseconds = -5)|}] private void DepositCore() { }
        }
        """);

    [Fact]
    public void LSM0018_InvalidAcquiresLocksOf() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly object _gate = new();
            [{|LSM0018:AcquiresLocksOf("from", "other", Lock = nameof(_lock))|}] private static void MoveCore(Account from, Account to) { }
            [{|LSM0018:AcquiresLocksOf(nameof(from), Lock = nameof(_gate))|}] private static void CopyCore(Account from) { }
            [{|LSM0018:AcquiresLocksOf(nameof(from))|}] private static void CheckCore(Account from) { }
        }
        """);

    [Fact]
    public void LSM0019_ConflictingLockAttributes() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))]
            [AcquiresLocksOf(nameof(other), Lock = nameof(_lock))]
            private void {|LSM0019:MergeCore|}(Account other) { }
        }
        """);

    [Fact]
    public void LSM0025_ReadMostlyWithoutReadWriteLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        [{|LSM0025:ReadMostly|}]
        public partial class Catalog
        {
            private readonly ExclusiveLock _lock = new();
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)]
        public partial class Prices
        {
            private readonly ReadWriteLock _lock = new();
        }
        """);

    [Fact]
    public void LSM0030_ExtensionBlockMember() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            internal readonly ExclusiveLock _lock = new();
        }
        public static partial class AccountExtensions
        {
            extension(Account account)
            {
                [Guarded(Lock = "_lock")] public void {|LSM0030:DepositCore|}(decimal amount) { }
                [AcquiresLocksOf("other", Lock = "_lock")] public void {|LSM0030:MergeCore|}(Account other) { }
                [Guarded(Lock = "_lock")] public decimal {|LSM0030:Balance|} => 0;
                [Guarded] public void {|LSM0030:ResetCore|}() { }
            }
        }
        """);

    [Fact]
    public void LSM0031_GuardedWithoutLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [{|LSM0031:Guarded|}] private int _balance;
            [{|LSM0031:Guarded(Lock = "")|}] private void DepositCore() { }
            [{|LSM0031:Guarded(Access = LockAccess.Read)|}] private int Total { get; set; }
        }
        """);

    [Fact]
    public void LSM0032_EnumArgumentOutOfRange() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock), {|LSM0032:Access = (LockAccess)99|})] private int _balance;
            [Guarded(Lock = nameof(_lock), {|LSM0032:Access = (LockAccess)2|})] private int BalanceCore() => 0;
            [Guarded(Lock = nameof(_lock), {|LSM0032:Visibility = (WrapperVisibility)42|})] private void DepositCore() { }
            [AcquiresLocksOf(nameof(other), Lock = nameof(_lock), {|LSM0032:Visibility = (WrapperVisibility)(-1)|})]
            private static void MergeCore(Account other) { }
            [Guarded(Lock = nameof(_lock), Access = LockAccess.Write, Visibility = WrapperVisibility.Internal)] private void ClearCore() { }
        }
        [ReadMostly({|LSM0032:Policy = (ReadWritePolicy)9|})]
        public partial class Prices
        {
            private readonly ReadWriteLock _lock = new();
        }
        """);
}
