using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Regressions from a new user's trial: advice that fits the code it is about (async code is pointed at async locks),
/// no diagnostic about a name that is right, names that say which lock is meant, and unchecked tried scopes.
/// </summary>
public sealed class DiagnosticAdviceTests
{
    /// <summary>
    /// LSM0003, LSM0005, LSM0007 and LSM0025 suggest the async lock for an async lock or core (a synchronous one would
    /// only lead to LSM0009), and the synchronous lock for synchronous code.
    /// </summary>
    [Fact]
    public void AdviceForAsyncCode_NamesAsyncLocks()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Queue
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly ExclusiveLock _sync = new();
                private readonly SemaphoreSlim _gate = new(1);
                [{|LSM0005:Guarded(Lock = nameof(_lock), Access = LockAccess.Read)|}] private Task<int> PeekCoreAsync() => Task.FromResult(0);
                [{|LSM0007:Guarded(Lock = nameof(_lock), StripeBy = nameof(id))|}] private Task PushCoreAsync(int id) => Task.CompletedTask;
                [{|LSM0003:Guarded(Lock = nameof(_gate))|}] private Task PopCoreAsync() => Task.CompletedTask;
                [{|LSM0005:Guarded(Lock = nameof(_sync), Access = LockAccess.Read)|}] private int CountCore() => 0;
                [{|LSM0007:Guarded(Lock = nameof(_sync), StripeBy = nameof(id))|}] private void DropCore(int id) { }
                [{|LSM0003:Guarded(Lock = nameof(_gate))|}] private void ClearCore() { }
                [{|LSM0018:AcquiresLocksOf(nameof(other), Lock = nameof(_gate))|}] private static Task ShareCore(Queue other) => Task.CompletedTask;
            }
            [{|LSM0025:ReadMostly|}]
            public partial class AsyncCache
            {
                private readonly AsyncExclusiveLock _lock = new();
            }
            [{|LSM0025:ReadMostly|}]
            public partial class SyncCache
            {
                private readonly ExclusiveLock _lock = new();
            }
            """);

        string Message(string id, string about) => run.LocksmithDiagnostics
            .Single(d => d.Id == id && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains(about, StringComparison.Ordinal))
            .GetMessage(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Contains("use an AsyncReadWriteLock", Message("LSM0005", "PeekCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("such as AsyncExclusiveLock or AsyncReadWriteLock", Message("LSM0018", "ShareCore"), StringComparison.Ordinal);
        Assert.Contains("guard it with an AsyncStripedLock<TKey>", Message("LSM0007", "PushCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("such as AsyncExclusiveLock, AsyncReadWriteLock or AsyncStripedLock<TKey>", Message("LSM0003", "PopCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("guard its state with an AsyncReadWriteLock", Message("LSM0025", "AsyncCache"), StringComparison.Ordinal);
        Assert.Contains("use a ReadWriteLock", Message("LSM0005", "CountCore"), StringComparison.Ordinal);
        Assert.Contains("guard it with a StripedLock<TKey>", Message("LSM0007", "DropCore"), StringComparison.Ordinal);
        Assert.Contains("such as ExclusiveLock, ReentrantLock", Message("LSM0003", "ClearCore"), StringComparison.Ordinal);
        Assert.Contains("guard its state with a ReadWriteLock or", Message("LSM0025", "SyncCache"), StringComparison.Ordinal);
    }

    /// <summary>
    /// An async [AcquiresLocksOf] core named by the async rule gets no LSM0014 while its locks are missing or
    /// synchronous: the real error (LSM0018, LSM0009) is the only one, and its name is right for the async wrapper.
    /// </summary>
    [Fact]
    public void AsyncLockSetCore_WithoutAsyncLocks_GetsNoNamingError() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Account
        {
            internal readonly ExclusiveLock _lock = new();
            internal readonly AsyncExclusiveLock _gate = new();

            [{|LSM0018:AcquiresLocksOf(nameof(from), nameof(to))|}]
            private static Task MoveCoreAsync(Account from, Account to) => Task.CompletedTask;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static Task {|LSM0009:CopyCoreAsync|}(Account from, Account to) => Task.CompletedTask;

            [{|LSM0018:AcquiresLocksOf(nameof(from), Lock = "_missing")|}]
            private static async Task SwapCoreAsync(Account from) => await Task.Yield();

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_gate))]
            private static Task MergeCoreAsync(Account from, Account to) => Task.CompletedTask;
        }
        """);

    /// <summary>
    /// LSM0014 builds its names from the stem: a public <c>GetAsync</c> is told to become the private core
    /// <c>GetCoreAsync</c> (its wrapper then takes its name), and cores named only by suffixes are told so.
    /// </summary>
    [Fact]
    public void AsyncNamingAdvice_StripsTheAsyncSuffixFirst()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Store
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] public Task<int> {|LSM0014:GetAsync|}() => Task.FromResult(0);
                [Guarded(Lock = nameof(_lock))] private Task {|LSM0014:CoreAsync|}() => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock))] private Task {|LSM0014:AsyncCore|}() => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock))] private Task {|LSM0014:SaveCore|}() => Task.CompletedTask;
            }
            """);

        string Message(string method) => run.LocksmithDiagnostics
            .Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))
            .Single(m => m.StartsWith("'Store." + method + "'", StringComparison.Ordinal));

        Assert.Contains("rename it to 'GetCoreAsync' and make it private", Message("GetAsync"), StringComparison.Ordinal);
        Assert.DoesNotContain("AsyncAsync", string.Concat(run.LocksmithDiagnostics.Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))), StringComparison.Ordinal);
        Assert.DoesNotContain("CoreAsyncCore", Message("CoreAsync"), StringComparison.Ordinal);
        Assert.Contains("'XxxCoreAsync'", Message("CoreAsync"), StringComparison.Ordinal);
        Assert.Contains("'XxxCoreAsync'", Message("AsyncCore"), StringComparison.Ordinal);
        Assert.Contains("rename it to 'SaveCoreAsync' or 'SaveAsyncCore'", Message("SaveCore"), StringComparison.Ordinal);
    }

    /// <summary>LSM0022 names two locks of one name by their types, so the message says which one to raise.</summary>
    [Fact]
    public void LockOrderInversion_NamesLocksOfOneNameByType()
    {
        var run = DiagnosticCheck.Verify("""
            using Locksmith;
            public partial class Account
            {
                [LockOrder(10)] internal readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] internal void DebitCore() { }
            }
            public partial class Ledger
            {
                [LockOrder(20)] private readonly ExclusiveLock _lock = new();
                [LockOrder(30)] private readonly ExclusiveLock _audit = new();
                [Guarded(Lock = nameof(_lock))] private void PostCore(Account account) => {|LSM0022:account.Debit()|};
                [Guarded(Lock = nameof(_audit))] private void AuditCore(Account account) => {|LSM0022:account.Debit()|};
            }
            """);

        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(messages, static m => m.Contains("holds 'Ledger._lock' (level 20)", StringComparison.Ordinal) &&
            m.Contains("raise the level of 'Account._lock'", StringComparison.Ordinal));

        // Names that differ stay short.
        Assert.Contains(messages, static m => m.Contains("holds '_audit' (level 30)", StringComparison.Ordinal) &&
            m.Contains("raise the level of '_lock'", StringComparison.Ordinal));
    }

    /// <summary>
    /// A TryAcquire… scope holds the lock only where its success is checked: LSM0020 for guarded state used in an
    /// unchecked one (async or synchronous), none where a test of the result or of IsAcquired guards the use.
    /// </summary>
    [Fact]
    public void TriedScope_HoldsTheLockOnlyWhereItsSuccessIsChecked()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Counter
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly ExclusiveLock _sync = new();
                [Guarded(Lock = nameof(_lock))] private int _n;
                [Guarded(Lock = nameof(_sync))] private int _m;

                public async Task Unchecked() { using var s = await _lock.TryAcquireAsync(TimeSpan.Zero); {|LSM0020:_n|}++; }
                public async Task UncheckedStatement() { using (await _lock.TryAcquireAsync(TimeSpan.Zero)) { {|LSM0020:_n|}++; } }
                public async Task Checked() { using var s = await _lock.TryAcquireAsync(TimeSpan.Zero); if (s.IsAcquired) { _n++; } }
                public async Task Early() { using var s = await _lock.TryAcquireAsync(TimeSpan.Zero); if (s.IsAcquired == false) throw new TimeoutException(); _n++; }
                public async Task<int> Both() { using var s = await _lock.TryAcquireAsync(TimeSpan.Zero); return s.IsAcquired && _n > 0 ? _n : 0; }
                public async Task Else() { using var s = await _lock.TryAcquireAsync(TimeSpan.Zero); if (!s.IsAcquired) { return; } else { _n++; } }
                public async Task Wrong() { using var s = await _lock.TryAcquireAsync(TimeSpan.Zero); if (!s.IsAcquired) { {|LSM0020:_n|}++; } }

                public void SyncUnchecked() { _sync.TryAcquire(TimeSpan.Zero, out var scope); using (scope) { {|LSM0020:_m|}++; } }
                public void SyncChecked() { if (!_sync.TryAcquire(TimeSpan.Zero, out var scope)) return; using (scope) { _m++; } }
                public void SyncIsAcquired() { _sync.TryAcquire(TimeSpan.Zero, out var scope); using (scope) { if (scope.IsAcquired) { _m++; } } }
            }
            """);

        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(messages, static m => m.Contains("the scope of 'TryAcquireAsync' holds it only if the lock was taken", StringComparison.Ordinal) &&
            m.Contains("check 's.IsAcquired' first", StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("use it only where 'TryAcquire' returned true", StringComparison.Ordinal));
    }

    /// <summary>An explicit interface implementation is refused as such, not as "not an ordinary method".</summary>
    [Fact]
    public void ExplicitInterfaceImplementation_IsNamedAsSuch()
    {
        var run = DiagnosticCheck.Verify("""
            using Locksmith;
            public interface ICounter { void BumpCore(); }
            public partial class Counter : ICounter
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] void ICounter.{|LSM0016:BumpCore|}() { }
            }
            """);

        string message = run.LocksmithDiagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("it is an explicit interface implementation; guard a method that it calls", message, StringComparison.Ordinal);
    }

    /// <summary>LSM0044 for an acquisition declared as an extension method in another namespace says it exists but is out of scope.</summary>
    [Fact]
    public void MissingAcquisition_InAnotherNamespace_IsSaidToBeOutOfScope()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            using Remote.Locks;
            namespace Remote.Locks
            {
                public sealed class Gate : IAsyncExclusiveAccessLock
                {
                    public ValueTask<Scope> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => new(new Scope());
                }
                public sealed class Scope : IDisposable { public bool IsAcquired => true; public void Dispose() { } }
                public static class GateExtensions
                {
                    public static ValueTask<Scope> AcquireAsync(this Gate gate, CancellationToken cancellationToken = default) => new(new Scope());
                }
            }
            namespace App
            {
                public partial class Store
                {
                    private readonly Gate _gate = new();
                    [{|LSM0044:Guarded(Lock = nameof(_gate))|}] private Task SaveCoreAsync() => Task.CompletedTask;
                }
            }
            """);

        string message = run.LocksmithDiagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("the extension method 'Remote.Locks.GateExtensions.AcquireAsync' has it", message, StringComparison.Ordinal);
        Assert.Contains("declare 'GateExtensions' in namespace 'App' or one enclosing it", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// LSM0009/LSM0010 on a core named like a synchronous one ('SaveCore') also say to rename it: following the lock
    /// advice alone led straight to LSM0014 ("needs a wrapper name"). A core already named '…CoreAsync' is not told.
    /// </summary>
    [Fact]
    public void ThreadAffineOrUnawaitableLockAroundAnAsyncCore_SaysToNameItCoreAsync()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Store
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task {|LSM0009:SaveCore|}() => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock))] private Task {|LSM0009:LoadCoreAsync|}() => Task.CompletedTask;
                [{|LSM0005:Guarded(Lock = nameof(_lock), Access = LockAccess.Read)|}] private Task<int> {|LSM0009:PeekCoreAsync|}() => Task.FromResult(0);
            }
            """);

        string Message(string method) => run.LocksmithDiagnostics
            .Where(static d => d.Id == "LSM0009")
            .Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))
            .Single(m => m.StartsWith("'Store." + method + "'", StringComparison.Ordinal));

        Assert.Contains("guard it with an AsyncExclusiveLock and rename it to 'SaveCoreAsync'", Message("SaveCore"), StringComparison.Ordinal);
        Assert.DoesNotContain("rename", Message("LoadCoreAsync"), StringComparison.Ordinal);

        // A reading core is pointed at the read-write lock, as LSM0005 points it (it was told AsyncExclusiveLock).
        Assert.Contains("guard it with an AsyncReadWriteLock (its wrapper", Message("PeekCoreAsync"), StringComparison.Ordinal);
    }

    /// <summary>
    /// LSM0009 on an async core that the async lock it names could not wrap either (from an adoption trial): an
    /// <c>async void</c> core led to LSM0016 ("return Task…") once the lock was changed, and a read core of a
    /// <c>StripedReadWriteLock</c> was pointed at <c>AsyncStripedLock&lt;TKey&gt;</c>, which has no read mode, so
    /// keeping <c>Access = LockAccess.Read</c> led to LSM0005. The message now says both changes at once.
    /// </summary>
    [Fact]
    public void ThreadAffineLockAroundAnAsyncCoreTheAsyncLockCannotWrapAsItIs_SaysWhatElseToChange()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Feed
            {
                private readonly ExclusiveLock _lock = new();
                private readonly StripedReadWriteLock<string> _stripes = new();
                [Guarded(Lock = nameof(_lock))] private async void {|LSM0009:FireCoreAsync|}() => await Task.Yield();
                [Guarded(Lock = nameof(_lock))] private async void {|LSM0009:PingCore|}() => await Task.Yield();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key), Access = LockAccess.Read)] private Task<int> {|LSM0009:PeekCoreAsync|}(string key) => Task.FromResult(0);
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private Task {|LSM0009:PutCoreAsync|}(string key) => Task.CompletedTask;
            }
            """);

        string Message(string method) => run.LocksmithDiagnostics
            .Where(static d => d.Id == "LSM0009")
            .Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))
            .Single(m => m.StartsWith("'Feed." + method + "'", StringComparison.Ordinal));

        Assert.Contains("guard it with an AsyncExclusiveLock and make it return Task, Task<T>, ValueTask or ValueTask<T> (its wrapper", Message("FireCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("guard it with an AsyncExclusiveLock, rename it to 'PingCoreAsync' and make it return Task, Task<T>, ValueTask or ValueTask<T> (its wrapper", Message("PingCore"), StringComparison.Ordinal);
        Assert.Contains("guard it with an AsyncStripedLock<TKey>, which has no read mode, and remove Access = LockAccess.Read (its wrapper", Message("PeekCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("guard it with an AsyncStripedLock<TKey> (its wrapper", Message("PutCoreAsync"), StringComparison.Ordinal);
    }

    /// <summary>
    /// The same read core of a <c>StripedReadWriteLock</c> when it must be renamed too: the advice read "…, which has no
    /// read mode, and remove Access = LockAccess.Read and rename it to 'PeekCoreAsync'", where "it" reads as the Access
    /// argument. Each change is now one item of one list, the core's own first.
    /// </summary>
    [Fact]
    public void ThreadAffineKeyedReadCoreThatMustAlsoBeRenamed_ListsEachChangeOfTheCore()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Feed
            {
                private readonly StripedReadWriteLock<string> _stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key), Access = LockAccess.Read)] private Task<int> {|LSM0009:PeekCore|}(string key) => Task.FromResult(0);
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key), Access = LockAccess.Read)] private async void {|LSM0009:PokeCore|}(string key) => await Task.Yield();
            }
            """);

        string Message(string method) => run.LocksmithDiagnostics
            .Where(static d => d.Id == "LSM0009")
            .Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))
            .Single(m => m.StartsWith("'Feed." + method + "'", StringComparison.Ordinal));

        Assert.Contains(
            "guard it with an AsyncStripedLock<TKey>, which has no read mode, rename it to 'PeekCoreAsync' and remove Access = LockAccess.Read (its wrapper",
            Message("PeekCore"), StringComparison.Ordinal);
        Assert.Contains(
            "guard it with an AsyncStripedLock<TKey>, which has no read mode, rename it to 'PokeCoreAsync', make it return Task, Task<T>, ValueTask or ValueTask<T> and remove Access = LockAccess.Read (its wrapper",
            Message("PokeCore"), StringComparison.Ordinal);
    }

    /// <summary>
    /// LSM0010 on an async core guarded by a CountingSemaphore (from a migration trial of a connection pool): its advice
    /// led with an AsyncExclusiveLock, which lets one holder in where the pool lets several, and quoted the acquisition
    /// without the core's token ('await _slots.AcquireAsync()' for a core taking 'ct'), so code written from it either
    /// serialized the pool or could not be cancelled while it waited. A core without a token gets the call without one.
    /// </summary>
    [Fact]
    public void SemaphoreAroundAnAsyncCore_SaysAnAsyncExclusiveLockLetsOneIn_AndQuotesTheCoresToken()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Pool
            {
                private readonly CountingSemaphore _slots = new(8, 8);
                [Guarded(Lock = nameof(_slots))] private Task {|LSM0010:UseCoreAsync|}(int n, CancellationToken ct) => Task.CompletedTask;
                [Guarded(Lock = nameof(_slots))] private Task {|LSM0010:PingCoreAsync|}() => Task.CompletedTask;
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_slots))] private static Task {|LSM0010:MoveCoreAsync|}(Pool a, Pool b, CancellationToken token) => Task.CompletedTask;
                [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_slots))] private static Task {|LSM0010:SumCoreAsync|}(Pool a, Pool b, Pool c, CancellationToken ct) => Task.CompletedTask;
            }
            """);

        string Message(string method) => run.LocksmithDiagnostics
            .Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))
            .Single(m => m.StartsWith("'Pool." + method + "'", StringComparison.Ordinal));

        Assert.Contains("guard it with an AsyncExclusiveLock (its wrapper awaits the body while holding it, one holder at a time, where '_slots' may let several in at once), or drop [Guarded]", Message("UseCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("'using var scope = await _slots.AcquireAsync(ct);'", Message("UseCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("'using var scope = await _slots.AcquireAsync();'", Message("PingCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("'using var scope = await LockSet.AcquireAsync(a._slots, b._slots, token);'", Message("MoveCoreAsync"), StringComparison.Ordinal);
        Assert.Contains("'using var scope = await LockSet.AcquireLocksOfAsync(new IAsyncLockSetMember[] { a._slots, b._slots, c._slots }, ct);'", Message("SumCoreAsync"), StringComparison.Ordinal);
    }

    /// <summary>
    /// LSM0010 on a semaphore's core named '…Core': the note that an AsyncExclusiveLock lets one holder in came between the
    /// lock and the rename, and stood as a second parenthesis beside the first ("(… in at once) and rename it to
    /// 'UseCoreAsync' (its wrapper awaits …)"); it now ends the one parenthesis, after the rename.
    /// </summary>
    [Fact]
    public void SemaphoreAroundACoreToRename_SaysOneHolderInTheOneParenthesis()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Pool
            {
                private readonly CountingSemaphore _slots = new(8, 8);
                [Guarded(Lock = nameof(_slots))] private Task {|LSM0010:UseCore|}() => Task.CompletedTask;
            }
            """);

        string message = run.LocksmithDiagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(
            "guard it with an AsyncExclusiveLock and rename it to 'UseCoreAsync' (its wrapper awaits the body while holding it, one holder at a time, where '_slots' may let several in at once), or drop [Guarded]",
            message,
            StringComparison.Ordinal);
        Assert.DoesNotContain(") (", message, StringComparison.Ordinal);
    }
}
