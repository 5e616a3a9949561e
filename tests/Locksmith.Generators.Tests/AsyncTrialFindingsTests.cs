using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// What a new user's trial of the async wrappers, from the packed package, found: each source is what a user wrote, and
/// each diagnostic must name the actual problem and a fix that changes something.
/// </summary>
public sealed class AsyncTrialFindingsTests
{
    /// <summary>
    /// A synchronous core of an async lock whose name already is an async core's ('PeekCoreAsync', 'SyncOverAsyncCore')
    /// is told to change its return type only: before, LSM0042 told it to "name it 'PeekCoreAsync'", its own name, and
    /// 'SyncOverAsyncCore' to become 'SyncOverCoreAsync', which gives the same wrapper.
    /// </summary>
    [Fact]
    public void LSM0042_ACoreAlreadyNamedAsAnAsyncCore_IsNotToldToRenameIt()
    {
        var run = DiagnosticCheck.Verify("""
            using Locksmith;
            public partial class Shelf
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int {|LSM0042:PeekCoreAsync|}() => 1;
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static int {|LSM0042:SyncOverAsyncCore|}(Shelf a, Shelf b) => 1;
                [Guarded(Lock = nameof(_lock))] private int {|LSM0042:Load|}() => 1;
            }
            """);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        Assert.Contains(messages, static m => m.StartsWith("'Shelf.PeekCoreAsync'") && !m.Contains("name it") && m.Contains("its wrapper is then 'PeekAsync'"));
        Assert.Contains(messages, static m => m.StartsWith("'Shelf.SyncOverAsyncCore'") && !m.Contains("name it") && m.Contains("its wrapper is then 'SyncOverAsync'"));
        Assert.Contains(messages, static m => m.StartsWith("'Shelf.Load'") && m.Contains("name it 'LoadCoreAsync' (its wrapper is then 'LoadAsync')"));
    }

    /// <summary>
    /// A core returning a nullable ValueTask ('ValueTask&lt;int&gt;?', a Nullable of the task) is awaitable work, not a
    /// synchronous result. Before, under a synchronous lock it got a wrapper that released the lock as soon as the task
    /// was returned, before its work completed, with no diagnostic; under an async lock LSM0042 called it synchronous.
    /// Now it is LSM0009 (the thread-affine lock cannot be held across its awaits) and LSM0016 (the async wrapper cannot
    /// await a nullable ValueTask), as 'IAsyncEnumerable' is.
    /// </summary>
    [Fact]
    public void ANullableValueTaskCore_IsAwaitableWork_NotASynchronousBody()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Pump
            {
                private readonly ExclusiveLock _sync = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_sync))] private ValueTask<int>? {|LSM0009:FillCore|}() => null;
                [Guarded(Lock = nameof(_sync))] private ValueTask? {|LSM0009:DrainCore|}() => null;
                [Guarded(Lock = nameof(_async))] private ValueTask<int>? {|LSM0016:PourCoreAsync|}() => null;
            }
            """);
        Assert.DoesNotContain(" Fill(", run.GeneratedText, System.StringComparison.Ordinal);
        Assert.Contains(run.LocksmithDiagnostics, static d => d.Id == "LSM0016" && d.GetMessage().Contains("'System.Threading.Tasks.ValueTask<int>?'"));
    }

    /// <summary>
    /// LSM0006 says which of its four reasons applies. Before, every one read "names no parameter whose type converts to
    /// the key type 'string'", which is false for 'string? k' (it converts; it may be null, which LSM0018 says for the
    /// same parameter of a keyed [AcquiresLocksOf]) and for 'out string k' (the type is the key type).
    /// </summary>
    [Fact]
    public void LSM0006_SaysWhetherTheParameterIsMissing_Nullable_Out_OrOfAnotherType()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Stock
            {
                private readonly AsyncStripedLock<string> _stripes = new();
                private readonly StripedLock<int> _ids = new();
                [{|LSM0006:Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))|}] private Task NullableCoreAsync(string? sku) => Task.CompletedTask;
                [{|LSM0006:Guarded(Lock = nameof(_ids), StripeBy = nameof(id))|}] private void NullableValueCore(int? id) { }
                [{|LSM0006:Guarded(Lock = nameof(_ids), StripeBy = nameof(id))|}] private void OutCore(out int id) => id = 1;
                [{|LSM0006:Guarded(Lock = nameof(_stripes), StripeBy = nameof(count))|}] private Task OtherTypeCoreAsync(int count) => Task.CompletedTask;
                [{|LSM0006:Guarded(Lock = nameof(_stripes), StripeBy = "sku")|}] private Task MissingCoreAsync(string item) => Task.CompletedTask;
            }
            """);
        string Message(string method) => run.LocksmithDiagnostics.Single(d => d.GetMessage().StartsWith($"'Stock.{method}'", System.StringComparison.Ordinal)).GetMessage();
        Assert.Contains("'sku' is of type 'string?', which may be null, and the keys of '_stripes' ('string') may not; make the parameter non-nullable", Message("NullableCoreAsync"), System.StringComparison.Ordinal);
        Assert.Contains("'id' is of type 'int?', which may be null, and the keys of '_ids' ('int') may not; make the parameter non-nullable", Message("NullableValueCore"), System.StringComparison.Ordinal);
        Assert.Contains("'id' is an out parameter, which has no value until the method returns; take the key as an input parameter", Message("OutCore"), System.StringComparison.Ordinal);
        Assert.Contains("'count' is of type 'int', which does not convert to the key type 'string' of '_stripes'", Message("OtherTypeCoreAsync"), System.StringComparison.Ordinal);
        Assert.Contains("'sku' is no parameter of the method", Message("MissingCoreAsync"), System.StringComparison.Ordinal);
    }

    /// <summary>
    /// Read access on a keyed lock without a read mode: the advice keeps the stripes. Before, a StripedLock was told to
    /// use a ReadWriteLock and an AsyncStripedLock an AsyncReadWriteLock, either of which makes its StripeBy LSM0007 and
    /// locks every key at once. The synchronous one has a keyed lock with a read mode (StripedReadWriteLock); the async
    /// one has none, so it is told to remove Access = LockAccess.Read.
    /// </summary>
    [Fact]
    public void LSM0005_OnAKeyedLock_KeepsTheStripes()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Stock
            {
                private readonly StripedLock<string> _sync = new();
                private readonly AsyncStripedLock<string> _async = new();
                [{|LSM0005:Guarded(Lock = nameof(_sync), StripeBy = nameof(sku), Access = LockAccess.Read)|}] private int CountCore(string sku) => 1;
                [{|LSM0005:Guarded(Lock = nameof(_async), StripeBy = nameof(sku), Access = LockAccess.Read)|}] private Task<int> PeekCoreAsync(string sku) => Task.FromResult(1);
            }
            """);
        string Message(string method) => run.LocksmithDiagnostics.Single(d => d.GetMessage().StartsWith($"'Stock.{method}'", System.StringComparison.Ordinal)).GetMessage();
        Assert.Contains("use a StripedReadWriteLock<TKey> or remove Access = LockAccess.Read", Message("CountCore"), System.StringComparison.Ordinal);
        Assert.DoesNotContain("AsyncReadWriteLock", Message("PeekCoreAsync"), System.StringComparison.Ordinal);
        Assert.Contains("remove Access = LockAccess.Read", Message("PeekCoreAsync"), System.StringComparison.Ordinal);
    }

    /// <summary>
    /// Two async cores whose calls bind apart ('RunCoreAsync(1)' picks the one without defaults) get wrappers whose calls
    /// do not: the token each wrapper adds makes both need a default, so every 'RunAsync(1)' was CS0121 in the user's
    /// code, with nothing from the generator (the synchronous pair 'Run(int)', 'Run(int, int y = 0)' is fine). Now both
    /// are LSM0045, saying the added token does it. A pair whose cores take a token of their own, or whose cores already
    /// bind one call to both, is left alone.
    /// </summary>
    [Fact]
    public void LSM0045_ForAsyncWrappersThatTheAddedTokenMakesAmbiguous()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Runner
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly ExclusiveLock _sync = new();
                [Guarded(Lock = nameof(_lock))] private Task<int> {|LSM0045:RunCoreAsync|}(int x) => Task.FromResult(x);
                [Guarded(Lock = nameof(_lock))] private Task<int> {|LSM0045:RunCoreAsync|}(int x, int y = 0) => Task.FromResult(x + y);

                [Guarded(Lock = nameof(_sync))] private int StepCore(int x) => x;
                [Guarded(Lock = nameof(_sync))] private int StepCore(int x, int y = 0) => x + y;

                [Guarded(Lock = nameof(_lock))] private Task<int> LoadCoreAsync(int x, CancellationToken ct) => Task.FromResult(x);
                [Guarded(Lock = nameof(_lock))] private Task<int> LoadCoreAsync(int x, int y = 0) => Task.FromResult(x + y);

                [Guarded(Lock = nameof(_lock))] private Task<int> SaveCoreAsync(int x, long y = 0) => Task.FromResult(x);
                [Guarded(Lock = nameof(_lock))] private Task<int> SaveCoreAsync(int x, string z = "") => Task.FromResult(x);

                private async Task<int> Calls() => Step(1) + await LoadAsync(1) + await LoadAsync(1, CancellationToken.None);
            }
            """);
        Assert.All(
            run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0045"),
            static d => Assert.Contains("the CancellationToken each async wrapper adds", d.GetMessage(), System.StringComparison.Ordinal));
    }

    /// <summary>
    /// LSM0056 in a guarded core: the core cannot "release '_lock' before the loop", its wrapper holds the lock around
    /// the whole call, and a body that took it (as the message said) would be LSM0023 under an async lock's hold, which
    /// the bodies share. The advice now says to run the loop in a method that does not hold the lock. A using scope
    /// around the loop keeps the advice to release it first.
    /// </summary>
    [Fact]
    public void LSM0056_InAGuardedCore_SaysToRunTheLoopOutsideIt_NotToReleaseTheLock()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                [Guarded(Lock = nameof(_lock))]
                private async Task AddAllCoreAsync(int[] xs) => await Parallel.ForEachAsync(xs, async (x, c) => { await Task.Yield(); {|LSM0056:_n|} += x; });

                public async Task AddAllInAScopeAsync(int[] xs)
                {
                    using var scope = await _lock.AcquireAsync();
                    await Parallel.ForEachAsync(xs, async (x, c) => { await Task.Yield(); {|LSM0056:_n|} += x; });
                }
            }
            """);
        string Message(int line) => run.LocksmithDiagnostics.Single(d => d.Location.GetLineSpan().StartLinePosition.Line == line).GetMessage();
        Assert.DoesNotContain("release '_lock' before the loop", Message(8), System.StringComparison.Ordinal);
        Assert.Contains("'Tally.AddAllCoreAsync' holds '_lock' as a guarded core, whose wrappers hold it around the whole call: run the loop in a method that does not hold it", Message(8), System.StringComparison.Ordinal);
        Assert.Contains("release '_lock' before the loop", Message(13), System.StringComparison.Ordinal);
    }

    /// <summary>
    /// [AcquiresLocksOf] naming a collection of objects ('params Account[] accounts', a transfer among several): before,
    /// LSM0018 said "'Account[]' has no field or property '_lock'; set Lock to the lock member of that type", which no
    /// Lock can satisfy. Now it says the attribute takes one object per named parameter, and how to take the elements'
    /// locks in code.
    /// </summary>
    [Fact]
    public void LSM0018_ForACollectionOfObjects_SaysItTakesOneObjectPerParameter()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Account
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly ExclusiveLock _sync = new();
                [{|LSM0018:AcquiresLocksOf(nameof(accounts), Lock = nameof(_lock))|}]
                private static Task SettleCoreAsync(params Account[] accounts) => Task.CompletedTask;
                [{|LSM0018:AcquiresLocksOf(nameof(accounts), Lock = nameof(_sync))|}]
                private static void AuditCore(IReadOnlyList<Account> accounts) { }
            }
            """);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        Assert.All(messages, static m => Assert.DoesNotContain("set Lock to the lock member of that type", m, System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("'accounts' is a collection of 'Account' ('Account[]')", System.StringComparison.Ordinal) && m.Contains("LockSet.AcquireLocksOfAsync", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("'accounts' is a collection of 'Account' ('System.Collections.Generic.IReadOnlyList<Account>')", System.StringComparison.Ordinal) && m.Contains("LockSet.AcquireLocksOf(", System.StringComparison.Ordinal));
    }
}
