using System;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A wrapper called in a lambda or local function inside a guarded core may run on another thread, or after the hold.
/// A synchronous lock is the thread's: there it is not held, and the wrapper waits for the hold rather than failing,
/// so no LSM0023 (nor LSM0022 for it). An async lock's hold is the flow's, which work started inside it shares (its
/// execution context carries it): the wrapper fails with LockRecursionException, so LSM0023 stays, except where
/// <c>ExecutionContext.SuppressFlow()</c> starts the work without the flow.
/// </summary>
public sealed class WrapperCalledInALambdaTests
{
    [Fact]
    public void LSM0023_InALambda_OnlyForAnAsyncLockThatTheFlowCarries() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }
            [Guarded(Lock = nameof(_lock))] private void SweepCore()
            {
                Task.Run(() => Deposit());
                Task.Run(() => { Deposit(); });
                void Local() => Deposit();
                Task.Run(Local);
                void Called() => {|LSM0023:Deposit()|};
                Called();
                void Recursive(int n) { if (n > 0) Recursive(n - 1); else {|LSM0023:Deposit()|}; }
                Recursive(2);
                {|LSM0023:Deposit()|};
            }
        }
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private async Task SweepCoreAsync()
            {
                await Task.Run(() => {|LSM0023:OpenAsync()|});
                await Task.Run(async () => await {|LSM0023:OpenAsync()|});
                Task started;
                using (ExecutionContext.SuppressFlow())
                {
                    started = Task.Run(() => OpenAsync());
                }

                await {|LSM0023:OpenAsync()|};
            }
        }
        """);

    /// <summary>
    /// A using scope of an async lock is the flow's hold as an async core's is: a wrapper of the lock in a lambda started
    /// inside it fails (LSM0023), unless the work starts under SuppressFlow. A synchronous lock's scope is the thread's: not
    /// in a lambda. A local function counts where it is used: one only started as work in the scope (<c>Task.Run(Inner)</c>)
    /// is the lambda in its place; one also called before the scope begins is not in it.
    /// </summary>
    [Fact]
    public void LSM0023_InALambda_InsideAnAsyncLocksUsingScope() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _other = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            public async Task SweepAsync(CancellationToken ct)
            {
                using var s = await _lock.AcquireAsync(ct);
                await Task.Run(() => {|LSM0023:OpenAsync()|});
                await Task.Run(async () => await {|LSM0023:OpenAsync()|});
                await Task.Run(() => Task.Run(() => {|LSM0023:OpenAsync()|}));
                Task started;
                using (ExecutionContext.SuppressFlow())
                {
                    started = Task.Run(() => OpenAsync());
                }

                await started;
                await Task.Run(Local);
                await {|LSM0023:OpenAsync()|};
            }

            private async Task Local() => await OpenAsync();

            public async Task BlockAsync(CancellationToken ct)
            {
                using (await _lock.AcquireAsync(ct).ConfigureAwait(false))
                {
                    await Task.Run(() => {|LSM0023:OpenAsync()|});
                }

                using (await _other.AcquireAsync(ct))
                {
                    await Task.Run(() => OpenAsync());
                }

                await Task.Run(() => OpenAsync());
            }

            public async Task LocalFunctionAsync(CancellationToken ct)
            {
                using var s = await _lock.AcquireAsync(ct);
                await Task.Run(Inner);
                async Task Inner() => await {|LSM0023:OpenAsync()|};
            }

            public async Task LocalFunctionAlsoCalledBeforeTheScopeAsync(CancellationToken ct)
            {
                await Inner();
                using var s = await _lock.AcquireAsync(ct);
                await Task.Run(Inner);
                async Task Inner() => await OpenAsync();
            }
        }
        public sealed partial class Till
        {
            [LockOrder(20)] private readonly AsyncExclusiveLock _high = new();
            [LockOrder(10)] private readonly AsyncExclusiveLock _low = new();
            [LockOrder(40)] private readonly ExclusiveLock _syncHigh = new();
            [LockOrder(30)] private readonly ExclusiveLock _syncLow = new();
            [Guarded(Lock = nameof(_low))] private Task CountCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_syncLow))] private void TallyCore() { }
            public async Task RingAsync(CancellationToken ct)
            {
                using var s = await _high.AcquireAsync(ct);
                await Task.Run(() => {|LSM0022:CountAsync()|});
                Task started;
                using (ExecutionContext.SuppressFlow())
                {
                    started = Task.Run(() => CountAsync());
                }

                await started;
            }
            public void Ring()
            {
                using var s = _syncHigh.Acquire();
                Task.Run(() => Tally());
                {|LSM0022:Tally()|};
            }
        }
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }
            public void Sweep()
            {
                using var s = _lock.Acquire();
                Task.Run(() => Deposit());
                Task.Run(() => { Deposit(); });
                {|LSM0023:Deposit()|};
            }
        }
        """);

    private const string Shapes = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        namespace N;
        /// <summary>A synchronous lock.</summary>
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }
            // A thread, not Task.Run: a task waited for here may run inline on this thread, which holds the lock.
            [Guarded(Lock = nameof(_lock))] private string SweepCore()
            {
                string outcome = "";
                var other = new Thread(() =>
                {
                    try { outcome = TryDeposit(TimeSpan.Zero) ? "took" : "busy"; }
                    catch (LockRecursionException) { outcome = "threw"; }
                });
                other.Start();
                other.Join();
                return outcome;
            }
        }
        /// <summary>An async lock.</summary>
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private async Task<string> SweepCoreAsync(bool suppressFlow)
            {
                Task<string> started;
                if (suppressFlow)
                {
                    using (ExecutionContext.SuppressFlow()) { started = Task.Run(TryOnce); }
                }
                else
                {
                    started = Task.Run(TryOnce);
                }

                try { return await started; }
                catch (LockRecursionException) { return "threw"; }
            }
            private async Task<string> TryOnce() => (await TryOpenAsync(TimeSpan.Zero)) ? "took" : "busy";
        }
        """;

    /// <summary>What a wrapper started on another thread inside a hold of its lock does, which LSM0023 follows.</summary>
    [Fact]
    public void AWrapperStartedOnAnotherThreadInsideAHold_WaitsForASyncLock_AndSharesAnAsyncLocksFlow()
    {
        var compilation = TestCompilation.Create(Shapes);
        var run = GeneratorHarness.Run(compilation);
        Assert.Empty(run.LocksmithDiagnostics);
        using var loaded = LoadedAssembly.Load(run, "wrapper-in-lambda");
        var account = loaded.Create("N.Account");
        var vault = loaded.Create("N.Vault");
        Assert.Equal("busy", account.GetType().GetMethod("Sweep", Type.EmptyTypes)!.Invoke(account, null));
        Assert.Equal("threw", Sweep(vault, suppressFlow: false));
        Assert.Equal("busy", Sweep(vault, suppressFlow: true));
    }

    private const string ScopeShapes = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        namespace N;
        /// <summary>An async lock held in a using scope.</summary>
        public sealed partial class Safe
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            /// <summary>Starts a wrapper of the lock on another thread inside the scope.</summary>
            /// <param name="suppressFlow">Whether the work starts under SuppressFlow.</param>
            /// <returns>What the wrapper did.</returns>
            public async Task<string> SweepAsync(bool suppressFlow)
            {
                using var s = await _lock.AcquireAsync();
                try
                {
                    if (suppressFlow)
                    {
                        Task<bool> started;
                        using (ExecutionContext.SuppressFlow())
                        {
                            started = Task.Run(async () => await TryOpenAsync(TimeSpan.Zero));
                        }

                        return await started ? "took" : "busy";
                    }

                    await Task.Run(() => OpenAsync());
                    return "opened";
                }
                catch (LockRecursionException)
                {
                    return "threw";
                }
            }
        }
        """;

    /// <summary>What LSM0023 reports for a using scope of an async lock around a lambda is what happens at run time.</summary>
    [Fact]
    public void AWrapperStartedInsideAnAsyncLocksUsingScope_SharesTheFlowsHold_AsLSM0023Says()
    {
        var compilation = TestCompilation.Create(ScopeShapes);
        var run = GeneratorHarness.Run(compilation);
        var reported = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0023", reported.Id);
        Assert.Equal("OpenAsync()", reported.Location.SourceTree!.GetText().ToString(reported.Location.SourceSpan));
        using var loaded = LoadedAssembly.Load(run, "scope-in-lambda");
        var safe = loaded.Create("N.Safe");
        var sweep = safe.GetType().GetMethod("SweepAsync", [typeof(bool)])!;
        Assert.Equal("threw", Await((Task<string>)sweep.Invoke(safe, [false])!));
        Assert.Equal("busy", Await((Task<string>)sweep.Invoke(safe, [true])!));
    }

    /// <summary>
    /// LSM0027: a synchronous lock's hold that waits, untimed, for a task whose lambda calls a wrapper of that lock on
    /// the same object deadlocks (the wrapper on the other thread waits for the hold); held as a guarded core or in a
    /// using scope around the wait, a ReentrantLock's too (another thread). Not for a timed wait or wrapper, a task not waited for,
    /// one waited for after the scope ended, another object's lock, a keyed lock, or a caller that holds nothing.
    /// </summary>
    [Fact]
    public void LSM0027_WaitingInAHoldForWorkThatTakesTheLock() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReentrantLock _journal = new();
            private readonly StripedLock<string> _stripes = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) { }
            [Guarded(Lock = nameof(_lock))] private decimal BalanceCore() => 0m;
            [Guarded(Lock = nameof(_journal))] private void NoteCore() { }
            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private void TouchCore(string key) { }

            [Guarded(Lock = nameof(_lock))]
            private decimal FlushCore(Account other, CancellationToken ct)
            {
                Task.Run(() => {|LSM0027:Deposit(1m)|}).Wait();
                Task.Run(() => { {|LSM0027:Deposit(2m)|}; }).Wait(ct);
                var kept = Task.Factory.StartNew(() => {|LSM0027:Deposit(3m)|});
                kept.GetAwaiter().GetResult();
                Task.WaitAll(Task.Run(() => {|LSM0027:Deposit(4m)|}), Task.Run(() => other.Deposit(5m)));
                Task.Run(() => Deposit(6m)).Wait(100);
                Task.Run(() => TryDeposit(12m, TimeSpan.FromSeconds(1))).Wait();
                _ = Task.Run(() => Deposit(7m));
                Task.Run(() => other.Deposit(8m)).Wait();
                return Task.Run(() => {|LSM0027:Balance()|}).Result;
            }

            [Guarded(Lock = nameof(_journal))]
            private void AuditCore() => Task.Run(() => {|LSM0027:Note()|}).ConfigureAwait(false).GetAwaiter().GetResult();

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))]
            private void SweepCore(string key) => Task.Run(() => Touch("other")).Wait();

            public void Scoped()
            {
                Task later;
                using (_lock.Acquire())
                {
                    Task.Run(() => {|LSM0027:Deposit(9m)|}).Wait();
                    later = Task.Run(() => Deposit(10m));
                }

                later.Wait();
                Task.Run(() => Deposit(11m)).Wait();
            }
        }
        """);

    private static string Sweep(object vault, bool suppressFlow)
    {
        var method = vault.GetType().GetMethods().Single(static m => m.Name == "SweepAsync");
        var arguments = method.GetParameters().Select(p => p.ParameterType == typeof(bool) ? (object)suppressFlow : default(System.Threading.CancellationToken)).ToArray();
        return Await((Task<string>)method.Invoke(vault, arguments)!);
    }

    private static string Await(Task<string> task) => task.GetAwaiter().GetResult();
}
