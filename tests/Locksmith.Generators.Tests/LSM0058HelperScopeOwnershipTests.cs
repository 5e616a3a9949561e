using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Diagnostics.Analyzers;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0058 at <c>await TakeLedgerAsync()</c>, an async helper of the user's that returns the scope of a lock it took: the
/// helper's claim ends with its frame (an execution context never flows from an async method back to its caller), so a
/// caller that held no async lock and began no flow does not own the lock, and asking for it again waits for itself
/// (<c>AsyncLockFlowTests</c> shows it at run time). Also through a forwarder that is not async, and for the helper's
/// task kept in a local and awaited later (reported at the call). Not reported where the flow is owned already (a <c>using</c> of
/// <c>AsyncLockFlow.Begin()</c>, or of an async lock's scope, in force; a core guarded by an async lock), for
/// Locksmith's own acquisitions, a helper that is not async, a call whose body is not known, a method that returns the
/// scope onward, or a lambda or local function.
/// </summary>
public sealed class LSM0058HelperScopeOwnershipTests
{
    private const string Helpers = """
        public static class Ledger
        {
            public static readonly AsyncExclusiveLock Lock = new();
            public static readonly AsyncExclusiveLock Other = new();

            public static async Task<AsyncLockScope> TakeLedgerAsync()
            {
                await Task.Yield();
                return await Lock.AcquireAsync();
            }

            public static async ValueTask<AsyncLockScope> TakeLedgerValueAsync() => await Lock.AcquireAsync();

            public static async Task<AsyncLockSetScope> TakeBothAsync() => await LockSet.AcquireAsync(Lock, Other);

            public static async Task<AsyncLockScope> TakeOfAsync(this AsyncExclusiveLock gate) => await gate.AcquireAsync();
        }
        """;

    [Fact]
    public void LSM0058_ForAPlainCaller_OfEachFormOfHelper() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task PostAsync()
            {
                using var scope = {|LSM0058:await Ledger.TakeLedgerAsync()|};
            }

            public async Task ConfiguredAsync()
            {
                using var scope = {|LSM0058:await Ledger.TakeLedgerValueAsync().ConfigureAwait(false)|};
            }

            public async Task StatementAsync()
            {
                using ({|LSM0058:await Ledger.TakeBothAsync()|})
                {
                }
            }

            public async Task ExtensionAsync(AsyncExclusiveLock gate)
            {
                await using var scope = {|LSM0058:await gate.TakeOfAsync()|};
            }

            public async Task LocalHelperAsync()
            {
                using var scope = {|LSM0058:await TakeAsync()|};

                static async Task<AsyncLockScope> TakeAsync() => await Ledger.Lock.AcquireAsync();
            }

            // A synchronous lock gives the flow no ownership.
            public async Task UnderASyncLockAsync(ExclusiveLock sync)
            {
                using (sync.Acquire())
                {
                }

                using var scope = {|LSM0058:await Ledger.TakeLedgerAsync()|};
            }
        }
        """ + Helpers));

    [Fact]
    public void NoLSM0058_AfterBegin_InBothUsingForms_AndReportedWhereTheBeginEnded() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task DeclaredAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
                if (scope.IsAcquired)
                {
                    using var again = await Ledger.TakeLedgerValueAsync().ConfigureAwait(false);
                }
            }

            public async Task StatementAsync()
            {
                using (AsyncLockFlow.Begin())
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }

                using var late = {|LSM0058:await Ledger.TakeLedgerAsync()|};
            }

            public async Task NestedBlockAsync(bool first)
            {
                if (first)
                {
                    using var flow = AsyncLockFlow.Begin();
                    using var scope = await Ledger.TakeLedgerAsync();
                }

                using var late = {|LSM0058:await Ledger.TakeLedgerAsync()|};
            }

            public async Task BegunTooLateAsync()
            {
                using var scope = {|LSM0058:await Ledger.TakeLedgerAsync()|};
                using var flow = AsyncLockFlow.Begin();
            }
        }
        """ + Helpers));

    [Fact]
    public void NoLSM0058_WhileAnAsyncLockIsHeld() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Posting
        {
            private readonly AsyncExclusiveLock _accounts = new();
            private readonly AsyncReadWriteLock _rw = new();
            [Guarded(Lock = nameof(_accounts))] private int _posted;

            public async Task DeclaredAsync()
            {
                using var held = await _accounts.AcquireAsync();
                using var scope = await Ledger.TakeLedgerAsync();
            }

            public async Task StatementAsync()
            {
                using (await _rw.AcquireReadAsync())
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }

                using var late = {|LSM0058:await Ledger.TakeLedgerAsync()|};
            }

            public async Task ParameterAsync(AsyncExclusiveLock gate)
            {
                await using var held = await gate.AcquireAsync(TimeSpan.FromSeconds(5));
                using var scope = await Ledger.TakeLedgerAsync();
            }

            public async Task DisposedByHandAsync()
            {
                var held = await _accounts.AcquireAsync();
                try
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }
                finally
                {
                    held.Dispose();
                }
            }

            // The first helper's call is the mistake, reported once: the same Begin fixes the second.
            public async Task TwoHelpersAsync()
            {
                using var first = {|LSM0058:await Ledger.TakeLedgerAsync()|};
                using var second = await Ledger.TakeBothAsync();
            }

            // The wrapper holds _accounts while the core runs.
            [Guarded(Lock = nameof(_accounts))]
            private async Task PostCoreAsync()
            {
                using var scope = await Ledger.TakeLedgerAsync();
                _posted++;
            }
        }
        """ + Helpers));

    [Fact]
    public void NoLSM0058_ForLocksmithsOwnAcquisitions_OrInsideTheHelper() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncReadWriteLock _rw = new();
            private readonly AsyncStripedLock<int> _striped = new();

            public async Task TakeAsync()
            {
                using var a = await _lock.AcquireAsync();
                using var b = await _rw.AcquireWriteAsync().ConfigureAwait(false);
                using var c = await _lock.TryAcquireAsync(TimeSpan.FromSeconds(1));
                using var d = await _striped.AcquireManyAsync(new[] { 1, 2 });
                using var e = await LockSet.AcquireAsync(_lock, _rw);
            }
        }
        """ + Helpers));

    /// <summary>A PostgreSQL lock is owned by its flow the same way: its helper is reported, its own acquisitions and holds are not.</summary>
    [Fact]
    public void PostgresScopes_AreFlowScopesToo() => Compiles(Markup.AssertDiagnostics(
        """
        using System.Threading.Tasks;
        using Locksmith;
        using Locksmith.Postgres;
        public static class Nightly
        {
            public static async Task<PostgresLockScope> TakeAsync(PostgresExclusiveLock nightly) => await nightly.AcquireAsync();

            public static async Task RunAsync(PostgresExclusiveLock nightly, PostgresKeyedLock<int> accounts)
            {
                using (await nightly.AcquireAsync())
                {
                    using var helped = await Ledger.TakeLedgerAsync();
                }

                await using (await accounts.AcquireManyAsync(new[] { 1, 2 }))
                {
                }

                using var scope = {|LSM0058:await TakeAsync(nightly)|};
            }
        }
        """ + Helpers,
        MetadataReference.CreateFromFile(typeof(Locksmith.Postgres.PostgresLockProvider).Assembly.Location)));

    [Fact]
    public void NoLSM0058_InAHelperReturningTheScopeOnward_ButAtItsCaller() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public static class Outer
        {
            public static async Task<AsyncLockScope> ReturnedAsync() => await Ledger.TakeLedgerAsync();

            public static async Task<AsyncLockScope> ReturnedConfiguredAsync(bool yield)
            {
                if (yield)
                {
                    await Task.Yield();
                }

                return await Ledger.TakeLedgerValueAsync().ConfigureAwait(false);
            }

            public static async Task<AsyncLockScope> KeptThenReturnedAsync()
            {
                var scope = await Ledger.TakeLedgerAsync();
                await Task.Yield();
                return scope;
            }

            public static async Task<AsyncLockScope> SwitchedAsync(int which) => which switch
            {
                0 => await Ledger.TakeLedgerAsync(),
                _ => await Ledger.TakeLedgerValueAsync(),
            };

            public static async Task CallerAsync()
            {
                using var scope = {|LSM0058:await ReturnedAsync()|};
            }
        }
        """ + Helpers));

    [Fact]
    public void NoLSM0058_WhereTheHelperIsNotAsync_OrItsBodyOrCallerIsNotKnown() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public interface ILedger { Task<AsyncLockScope> TakeAsync(); }
        public abstract class LedgerBase { public abstract Task<AsyncLockScope> TakeAsync(); }
        public sealed class Posting
        {
            private readonly AsyncExclusiveLock _lock = new();

            // Not async: AcquireAsync claims in the caller's frame, which this method does not end.
            private ValueTask<AsyncLockScope> ForwardAsync() => _lock.AcquireAsync();

            public async Task CallsAsync(ILedger ledger, LedgerBase based, Func<Task<AsyncLockScope>> take)
            {
                using (await ForwardAsync()) { }
                using (await ledger.TakeAsync()) { }
                using (await based.TakeAsync()) { }
                using (await take()) { }
            }

            // A lambda or local function may run where a caller holds a lock: not known here.
            public Func<Task> Later() => async () =>
            {
                using var scope = await Ledger.TakeLedgerAsync();
            };

            public async Task LocalAsync()
            {
                await PostAsync();

                static async Task PostAsync()
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }
            }
        }
        """ + Helpers));

    /// <summary>
    /// A scope kept past the frame (a field, a wrapper, a tuple) is used elsewhere, where a <c>Begin</c> belongs; and a
    /// method of the user's that returns <c>AsyncLockFlow.Begin()</c>'s claim begins the flow as it does.
    /// </summary>
    [Fact]
    public void NoLSM0058_WhereTheScopeOutlivesTheFrame_OrTheFlowIsBegunThroughAMethodOfTheUsers() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Lease(AsyncLockScope scope) { public AsyncLockScope Scope { get; } = scope; }
        public sealed class Posting
        {
            private AsyncLockScope _held;

            private static AsyncLockFlowScope BeginPosting() => AsyncLockFlow.Begin();

            public async Task StoreAsync() { _held = await Ledger.TakeLedgerAsync(); }

            public async Task<Lease> WrapAsync() => new Lease(await Ledger.TakeLedgerAsync());

            public async Task<(AsyncLockScope Scope, int Id)> PairAsync() => (await Ledger.TakeLedgerAsync(), 1);

            public async Task BegunThroughAMethodAsync()
            {
                using var flow = BeginPosting();
                using var scope = await Ledger.TakeLedgerAsync();
            }

            public async Task KeptInALocalAsync()
            {
                AsyncLockScope scope;
                scope = {|LSM0058:await Ledger.TakeLedgerAsync()|};
                scope.Dispose();
            }
        }
        """ + Helpers));

    /// <summary>
    /// A helper whose own body only takes a <see cref="CountingSemaphore"/>'s permits (a throttle): a permit has no owner, so
    /// there is no ownership for the caller to miss. A helper that takes a lock too, or calls another helper, is reported.
    /// </summary>
    [Fact]
    public void NoLSM0058_ForAHelperThatOnlyTakesASemaphoresPermits() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Throttle
        {
            private readonly CountingSemaphore _slots = new(4, 4);

            public async Task<AsyncLockScope> EnterAsync(CancellationToken ct)
            {
                await Task.Yield();
                return await _slots.AcquireAsync(ct);
            }

            public async Task<AsyncLockScope> EnterTwoAsync() => await _slots.AcquireAsync(2);

            public async Task<AsyncLockScope> EnterThenLedgerAsync()
            {
                using (await _slots.AcquireAsync()) { }
                return await Ledger.TakeLedgerAsync();
            }

            public async Task UseAsync(CancellationToken ct)
            {
                using (await EnterAsync(ct)) { }
                using (await EnterTwoAsync()) { }
                using var mixed = {|LSM0058:await EnterThenLedgerAsync()|};
            }
        }
        """ + Helpers));

    /// <summary>A helper compiled into another assembly is known async by its <c>[AsyncStateMachine]</c>.</summary>
    [Fact]
    public void LSM0058_ForAnAsyncHelperFromAReference_NotForANonAsyncOne()
    {
        var library = TestCompilation.Create("""
            using System.Threading.Tasks;
            using Locksmith;
            """ + Helpers + """
            public static class Forwarders
            {
                public static ValueTask<AsyncLockScope> ForwardAsync() => Ledger.Lock.AcquireAsync();
            }
            """).WithAssemblyName("Locksmith.Generators.TestHelpers");
        using var image = new MemoryStream();
        var emitted = library.Emit(image);
        Assert.True(emitted.Success, Snapshot.Render(emitted.Diagnostics));

        Compiles(Markup.AssertDiagnostics(
            """
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Posting
            {
                public async Task PostAsync()
                {
                    using var scope = {|LSM0058:await Ledger.TakeLedgerAsync()|};
                    using var forwarded = await Forwarders.ForwardAsync();
                }
            }
            """,
            MetadataReference.CreateFromImage(image.ToArray())));
    }

    /// <summary>
    /// A forwarder that is not async (every return a call to an async helper, or to another such forwarder) adds no frame
    /// the claim could live in: its caller is told, at the await, and the message names the helper underneath.
    /// </summary>
    [Fact]
    public void LSM0058_AtAForwardersAwait_NamingTheHelperUnderIt() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public static class Forwards
        {
            public static Task<AsyncLockScope> TakeAsync() => Ledger.TakeLedgerAsync();

            public static Task<AsyncLockScope> AgainAsync() => TakeAsync();

            public static ValueTask<AsyncLockScope> EitherAsync(bool first)
            {
                if (first)
                {
                    return Ledger.TakeLedgerValueAsync();
                }

                return Ledger.TakeLedgerValueAsync();
            }

            public static Task<AsyncLockScope> OfAsync(this AsyncExclusiveLock gate) => gate.TakeOfAsync();
        }
        public sealed class Posting
        {
            public async Task PostAsync()
            {
                using var scope = {|LSM0058:await Forwards.TakeAsync()|};
            }

            public async Task ThroughTwoAsync()
            {
                using var scope = {|LSM0058:await Forwards.AgainAsync().ConfigureAwait(false)|};
            }

            public async Task BranchesAsync()
            {
                using ({|LSM0058:await Forwards.EitherAsync(true)|})
                {
                }
            }

            public async Task ExtensionAsync(AsyncExclusiveLock gate)
            {
                using var scope = {|LSM0058:await gate.OfAsync()|};
            }

            public async Task LocalForwarderAsync()
            {
                using var scope = {|LSM0058:await BothAsync()|};

                static Task<AsyncLockSetScope> BothAsync() => Ledger.TakeBothAsync();
            }
        }
        """ + Helpers));

    /// <summary>
    /// Not a forwarder: a method that does more than return the helper's task (begins the flow around it, bounds its wait,
    /// returns it from a local), one an override may replace, one whose helper only takes permits, or a cycle of
    /// forwarders with no helper under them. Nor a forwarder's await where the flow is owned or the scope is returned onward.
    /// </summary>
    [Fact]
    public void NoLSM0058_ForAForwarderThatDoesMoreThanForward_OrWhereTheFlowIsOwned() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public class Forwards
        {
            private static readonly CountingSemaphore Slots = new(2, 2);
            private static Task<AsyncLockScope>? _last;

            public static Task<AsyncLockScope> BegunAsync()
            {
                using (AsyncLockFlow.Begin())
                {
                    return Ledger.TakeLedgerAsync();
                }
            }

            public static Task<AsyncLockScope> BoundedAsync() => Ledger.TakeLedgerAsync().WaitAsync(TimeSpan.FromSeconds(5));

            public static Task<AsyncLockScope> KeptAsync()
            {
                var task = Ledger.TakeLedgerAsync();
                _last = task;
                return task;
            }

            public virtual Task<AsyncLockScope> OverridableAsync() => Ledger.TakeLedgerAsync();

            public static Task<AsyncLockScope> PermitsAsync() => EnterAsync();

            public static Task<AsyncLockScope> PingAsync() => PongAsync();

            public static Task<AsyncLockScope> PongAsync() => PingAsync();

            public static Task<AsyncLockScope> SelfAsync() => SelfAsync();

            private static async Task<AsyncLockScope> EnterAsync() => await Slots.AcquireAsync();
        }
        public sealed class Posting
        {
            public async Task CallsAsync(Forwards forwards)
            {
                using (await Forwards.BegunAsync()) { }
                using (await Forwards.BoundedAsync()) { }
                using (await Forwards.KeptAsync()) { }
                using (await forwards.OverridableAsync()) { }
                using (await Forwards.PermitsAsync()) { }
                using (await Forwards.PingAsync()) { }
                using (await Forwards.SelfAsync()) { }
            }

            public async Task BegunAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Forwards2.TakeAsync();
            }

            public static async Task<AsyncLockScope> OnwardAsync() => await Forwards2.TakeAsync();
        }
        public static class Forwards2
        {
            public static Task<AsyncLockScope> TakeAsync() => Ledger.TakeLedgerAsync();
        }
        """ + Helpers));

    /// <summary>
    /// A helper's task kept in a local and awaited later: the helper runs from the call, in a copy of the context the
    /// caller had then, so ownership is decided at the call (a flow begun between the call and the await comes too late
    /// for the helper), and the report is there, once, however the local is awaited.
    /// </summary>
    [Fact]
    public void LSM0058_AtAKeptHelperCall_WhenTheFlowIsNotOwnedThere() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public static class Forwards
        {
            public static Task<AsyncLockScope> TakeAsync() => Ledger.TakeLedgerAsync();
        }
        public sealed class Posting
        {
            public async Task KeptAsync()
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                await Task.Yield();
                using var scope = await pending;
            }

            public async Task ConfiguredAsync()
            {
                var pending = {|LSM0058:Ledger.TakeLedgerValueAsync()|};
                using (await pending.ConfigureAwait(false))
                {
                }
            }

            public async Task ForwardedAsync()
            {
                var pending = {|LSM0058:Forwards.TakeAsync()|};
                using var scope = await pending;
            }

            // The first call is the mistake, reported once: the same Begin fixes the second.
            public async Task TwoKeptAsync()
            {
                var first = {|LSM0058:Ledger.TakeLedgerAsync()|};
                var second = Ledger.TakeBothAsync();
                using var both = await second;
                using var ledger = await first;
            }

            // The helper started before the flow was begun, in a copy of the context without the claim.
            public async Task BegunAfterTheCallAsync()
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                using var flow = AsyncLockFlow.Begin();
                using var scope = await pending;
            }
        }
        """ + Helpers));

    /// <summary>
    /// Not followed: a local written again, passed on, returned or awaited in a lambda; not reported where the flow is
    /// owned at the call (begun, or an async lock held, before it; a guarded core), or the awaited scope is returned onward.
    /// </summary>
    [Fact]
    public void NoLSM0058_ForAKeptHelperCall_ReassignedOrPassedOn_OrOwned() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Posting
        {
            private readonly AsyncExclusiveLock _accounts = new();
            [Guarded(Lock = nameof(_accounts))] private int _posted;

            public async Task ReassignedAsync(bool both)
            {
                var pending = Ledger.TakeLedgerAsync();
                if (both)
                {
                    pending = Ledger.TakeLedgerAsync();
                }

                using var scope = await pending;
            }

            public async Task PassedOnAsync()
            {
                var pending = Ledger.TakeLedgerAsync();
                using var scope = await KeepAsync(pending);
            }

            public async Task InALambdaAsync()
            {
                var pending = Ledger.TakeLedgerAsync();
                Func<Task> later = async () =>
                {
                    using var scope = await pending;
                };
                await later();
            }

            public Task<AsyncLockScope> ReturnedTask()
            {
                var pending = Ledger.TakeLedgerAsync();
                return pending;
            }

            public async Task<AsyncLockScope> ReturnedOnwardAsync()
            {
                var pending = Ledger.TakeLedgerAsync();
                return await pending;
            }

            public async Task BegunBeforeAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                var pending = Ledger.TakeLedgerAsync();
                using var scope = await pending;
            }

            public async Task HeldBeforeAsync()
            {
                using (await _accounts.AcquireAsync())
                {
                    var pending = Ledger.TakeLedgerAsync();
                    using var scope = await pending;
                }
            }

            // The wrapper holds _accounts while the core runs.
            [Guarded(Lock = nameof(_accounts))]
            private async Task PostCoreAsync()
            {
                var pending = Ledger.TakeLedgerAsync();
                using var scope = await pending;
                _posted++;
            }

            private static async Task<AsyncLockScope> KeepAsync(Task<AsyncLockScope> pending) => await pending;
        }
        """ + Helpers));

    /// <summary>
    /// A forwarder whose return picks between helpers (a conditional or switch expression, or an <c>if</c>/<c>else</c> with
    /// a return in each branch) adds no frame either: its caller is told, naming the first helper.
    /// </summary>
    [Fact]
    public void LSM0058_AtAConditionalForwardersAwait() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public static class Forwards
        {
            public static Task<AsyncLockScope> EitherAsync(bool ledger) => ledger ? Ledger.TakeLedgerAsync() : Ledger.Other.TakeOfAsync();

            public static Task<AsyncLockScope> BranchesAsync(bool ledger)
            {
                if (ledger)
                {
                    return Ledger.TakeLedgerAsync();
                }
                else
                {
                    return Ledger.Other.TakeOfAsync();
                }
            }

            public static Task<AsyncLockScope> SwitchedAsync(int which) => which switch
            {
                0 => Ledger.TakeLedgerAsync(),
                1 => (Ledger.Other.TakeOfAsync()),
                _ => EitherAsync(which > 1),
            };
        }
        public sealed class Posting
        {
            public async Task ConditionalAsync(bool ledger)
            {
                using var scope = {|LSM0058:await Forwards.EitherAsync(ledger)|};
            }

            public async Task IfElseAsync(bool ledger)
            {
                using var scope = {|LSM0058:await Forwards.BranchesAsync(ledger)|};
            }

            public async Task SwitchAsync(int which)
            {
                using var scope = {|LSM0058:await Forwards.SwitchedAsync(which)|};
            }

            public async Task KeptAsync(bool ledger)
            {
                var pending = {|LSM0058:Forwards.EitherAsync(ledger)|};
                using var scope = await pending;
            }
        }
        """ + Helpers));

    /// <summary>
    /// A forwarder whose choice throws where it has no helper to pick (<c>_ =&gt; throw …</c>, <c>ok ? … : throw …</c>) still
    /// adds no frame, as one with a guard that throws before its <c>return</c> does; one that only throws is no forwarder.
    /// </summary>
    [Fact]
    public void LSM0058_AtAForwarderWhoseChoiceThrowsOtherwise() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public static class Forwards
        {
            public static Task<AsyncLockScope> ByNumberAsync(int which) => which switch
            {
                0 => Ledger.TakeLedgerAsync(),
                1 => Ledger.Other.TakeOfAsync(),
                _ => throw new ArgumentOutOfRangeException(nameof(which)),
            };

            public static Task<AsyncLockScope> CheckedAsync(bool ready) => ready ? Ledger.TakeLedgerAsync() : throw new InvalidOperationException();

            public static Task<AsyncLockScope> NeverAsync(bool ready) => ready ? throw new InvalidOperationException() : throw new NotSupportedException();
        }
        public sealed class Posting
        {
            public async Task SwitchAsync(int which)
            {
                using var scope = {|LSM0058:await Forwards.ByNumberAsync(which)|};
            }

            public async Task ConditionalAsync(bool ready)
            {
                var pending = {|LSM0058:Forwards.CheckedAsync(ready)|};
                using var scope = await pending;
            }

            public async Task NeverAsync(bool ready)
            {
                using var scope = await Forwards.NeverAsync(ready);
            }

            public async Task OwnedAsync(int which)
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Forwards.ByNumberAsync(which);
            }
        }
        """ + Helpers));

    /// <summary>
    /// Not a forwarder: a branch that is not a helper's call (an acquisition made in the caller's frame, a task made
    /// otherwise, <c>null</c>, a task returned from a local); nor one whose caller owns its flow.
    /// </summary>
    [Fact]
    public void NoLSM0058_ForAConditionalForwarder_WithABranchThatIsNoHelpers_OrWhereTheFlowIsOwned() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public static class Forwards
        {
            public static Task<AsyncLockScope> OrAcquiredAsync(bool ledger) => ledger ? Ledger.TakeLedgerAsync() : Ledger.Other.AcquireAsync().AsTask();

            public static Task<AsyncLockScope> OrMadeAsync(bool ledger) => ledger ? Ledger.TakeLedgerAsync() : Task.FromResult(default(AsyncLockScope));

            public static Task<AsyncLockScope> OrNullAsync(bool ledger) => ledger ? Ledger.TakeLedgerAsync() : null!;

            public static Task<AsyncLockScope> OrBegunAsync(bool ledger) => Begun(ledger) ? Ledger.TakeLedgerAsync() : Ledger.Other.TakeOfAsync();

            public static Task<AsyncLockScope> OrFromALocalAsync(bool ledger)
            {
                if (ledger)
                {
                    return Ledger.TakeLedgerAsync();
                }
                else
                {
                    var task = Ledger.Other.TakeOfAsync();
                    return task;
                }
            }

            private static bool Begun(bool ledger)
            {
                if (ledger)
                {
                    AsyncLockFlow.Begin().Dispose();
                }

                return ledger;
            }
        }
        public sealed class Posting
        {
            public async Task CallsAsync(bool ledger)
            {
                using (await Forwards.OrAcquiredAsync(ledger)) { }
                using (await Forwards.OrMadeAsync(ledger)) { }
                using (await Forwards.OrNullAsync(ledger)) { }
                using (await Forwards.OrFromALocalAsync(ledger)) { }
            }

            public async Task BegunAsync(bool ledger)
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Forwards.OrBegunAsync(ledger);
                using var again = await Forwards.OrMadeAsync(ledger);
            }
        }
        """ + Helpers));

    /// <summary>
    /// A helper's task kept in a local that this method also only observes (<c>Task.WhenAll</c>, <c>Task.WhenAny</c>,
    /// <c>IsCompleted</c>) and takes the scope from with an await or <c>Result</c>: the helper started at the call, in a copy
    /// of the context without a claim, however its scope is later read, so the report is at the call.
    /// </summary>
    [Fact]
    public void LSM0058_AtAKeptHelperCall_ObservedAndThenRead() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task WhenAllAsync(Task other)
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                await Task.WhenAll(pending, other);
                using var scope = pending.Result;
            }

            public async Task WhenAnyAsync()
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                if (await Task.WhenAny(pending, Task.Delay(1000)) == pending && pending.IsCompletedSuccessfully)
                {
                    using var scope = await pending;
                }
            }

            public async Task GetResultAsync()
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                await Task.WhenAll(pending).ConfigureAwait(false);
                using (pending.GetAwaiter().GetResult())
                {
                }
            }

            public void Blocking()
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                using var scope = pending.Result;
            }

            // Declared first and assigned once: its only value, as an initializer is.
            public async Task AssignedLaterAsync()
            {
                Task<AsyncLockScope> pending;
                pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                using var scope = await pending;
            }
        }
        """ + Helpers));

    /// <summary>
    /// <c>Task.WhenAll</c> or <c>Task.WhenAny</c> given the kept task in an array or collection expression written in the call
    /// itself observes it as a <c>params</c> argument does: nothing else can read that array.
    /// </summary>
    [Fact]
    public void LSM0058_AtAKeptHelperCall_ObservedThroughAnArrayWrittenInTheCall() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task ArrayAsync(Task other)
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                await Task.WhenAll(new[] { pending, other });
                using var scope = pending.Result;
            }

            public async Task TypedArrayAsync(Task other)
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                await Task.WhenAny(new Task[] { pending, other });
                using var scope = await pending;
            }

            public async Task CollectionAsync(Task other)
            {
                var pending = {|LSM0058:Ledger.TakeLedgerAsync()|};
                await Task.WhenAll([pending, other]);
                using var scope = await pending;
            }
        }
        """ + Helpers));

    /// <summary>
    /// Not followed: a kept task whose scope this method never takes (only observed, or read through what <c>WhenAll</c>
    /// returns), or whose scope it returns onward, stores or passes on, or a local assigned twice; nor one observed where
    /// the flow is owned at the call.
    /// </summary>
    [Fact]
    public void NoLSM0058_ForAKeptHelperCall_OnlyObserved_OrItsResultHandedOn() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            private AsyncLockScope _kept;

            public async Task OnlyObservedAsync(Task other)
            {
                var pending = Ledger.TakeLedgerAsync();
                await Task.WhenAll(pending, other);
            }

            public async Task ThroughWhenAllAsync()
            {
                var pending = Ledger.TakeLedgerAsync();
                var second = Ledger.Other.TakeOfAsync();
                var scopes = await Task.WhenAll(pending, second);
                scopes[0].Dispose();
            }

            public AsyncLockScope ReturnedOnward()
            {
                var pending = Ledger.TakeLedgerAsync();
                return pending.Result;
            }

            public async Task StoredAsync()
            {
                var pending = Ledger.TakeLedgerAsync();
                await Task.WhenAll(pending);
                _kept = pending.Result;
            }

            public async Task PassedOnAsync()
            {
                var pending = Ledger.TakeLedgerAsync();
                await Task.WhenAll(pending);
                Keep(pending.Result);
            }

            public async Task InAnArrayAsync(Task other)
            {
                var pending = Ledger.TakeLedgerAsync();
                var all = new Task[] { pending, other };
                await Task.WhenAll(all);
                using var scope = pending.Result;
            }

            public async Task BegunAsync(Task other)
            {
                using var flow = AsyncLockFlow.Begin();
                var pending = Ledger.TakeLedgerAsync();
                await Task.WhenAll(pending, other);
                using var scope = pending.Result;
            }

            public async Task AssignedTwiceAsync(bool both)
            {
                Task<AsyncLockScope> pending;
                pending = Ledger.TakeLedgerAsync();
                if (both)
                {
                    pending = Ledger.TakeLedgerAsync();
                }

                using var scope = await pending;
            }

            private static void Keep(AsyncLockScope scope) => scope.Dispose();
        }
        """ + Helpers));

    /// <summary>
    /// A helper's task blocked on where it is made (<c>TakeLedgerAsync().Result</c>, <c>.GetAwaiter().GetResult()</c>) is
    /// the kept task's case without the local: the helper starts at the call, in a copy of this method's context, and its
    /// claim stays in its own frame. Told at the blocking read, as an await is; not where the flow is owned, the scope
    /// is returned onward or kept past the frame, or in a lambda.
    /// </summary>
    [Fact]
    public void LSM0058_AtAHelpersTaskBlockedOn_WithNoLocal() => Compiles(Markup.AssertDiagnostics("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            private AsyncLockScope _kept;

            public void Blocking()
            {
                using var scope = {|LSM0058:Ledger.TakeLedgerAsync().Result|};
            }

            public void GetResult()
            {
                using ({|LSM0058:Ledger.TakeLedgerValueAsync().GetAwaiter().GetResult()|})
                {
                }
            }

            public void Owned()
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = Ledger.TakeLedgerAsync().Result;
            }

            public AsyncLockScope ReturnedOnward() => Ledger.TakeLedgerAsync().Result;

            public void Stored() => _kept = Ledger.TakeLedgerAsync().Result;

            public void InALambda()
            {
                System.Action take = () =>
                {
                    using var scope = Ledger.TakeLedgerAsync().Result;
                };
                take();
            }

            public bool OnlyObserved() => Ledger.TakeLedgerAsync().IsCompleted;
        }
        """ + Helpers));

    /// <summary>
    /// Forwarders that pick, eight deep, each of whose twelve arms is the next one's call: 13^8 paths lead to the helper,
    /// but each forwarder is read once at each depth, so the await is told at once (the analysis is cancelled, failing
    /// the test, if it is still reading after a minute).
    /// </summary>
    [Fact]
    public async Task LSM0058_ThroughWidePickingForwarders_ReadsEachForwarderOnce()
    {
        var forwarders = new StringBuilder();
        for (int level = 0; level < 8; level++)
        {
            string next = level == 7 ? "Ledger.TakeLedgerAsync()" : $"Pick{level + 1}Async(which / 2)";
            forwarders.Append(CultureInfo.InvariantCulture, $"    public static Task<AsyncLockScope> Pick{level}Async(int which) => which switch {{ ");
            for (int arm = 0; arm < 12; arm++)
            {
                forwarders.Append(CultureInfo.InvariantCulture, $"{arm} => {next}, ");
            }

            forwarders.Append(CultureInfo.InvariantCulture, $"_ => {next} }};\n");
        }

        var run = GeneratorHarness.Run(TestCompilation.Create("""
            using System.Threading.Tasks;
            using Locksmith;
            public static class Forwards
            {
            """ + "\n" + forwarders + """
            }
            public sealed class Posting
            {
                public async Task PostAsync()
                {
                    using var scope = await Forwards.Pick0Async(4);
                }
            }
            """ + Helpers));
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var diagnostics = await run.Output.WithAnalyzers([new HelperScopeOwnershipAnalyzer()], options).GetAnalyzerDiagnosticsAsync(bound.Token);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("LSM0058", diagnostic.Id);
        Assert.StartsWith("'TakeLedgerAsync' is an async method", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void TheMessage_NamesTheHelper_AndGivesTheFix()
    {
        var run = Markup.AssertDiagnostics("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Posting
            {
                public async Task PostAsync()
                {
                    using var scope = {|LSM0058:await Ledger.TakeLedgerAsync()|};
                }
            }
            """ + Helpers);
        var diagnostic = Assert.Single(run.LocksmithDiagnostics, static d => d.Id == "LSM0058");
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal("Locksmith.Concurrency", diagnostic.Descriptor.Category);
        Assert.Equal(
            "'TakeLedgerAsync' is an async method that returns the scope of a lock taken in its own frame, and its lock ownership " +
            "does not flow back here: this method's flow does not own the lock ('IsHeldByCurrentFlow' is false, the lock order " +
            "does not count it, and asking for the lock again waits for itself instead of throwing LockRecursionException); " +
            "begin the flow before the call: 'using var flow = AsyncLockFlow.Begin();'",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
