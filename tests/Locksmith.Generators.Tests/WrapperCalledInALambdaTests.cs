using System;
using System.IO;
using System.Linq;
using System.Runtime.Loader;
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
        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.True(emitted.Success, Snapshot.Render(emitted.Diagnostics));

        var context = new AssemblyLoadContext("wrapper-in-lambda", isCollectible: true);
        try
        {
            image.Position = 0;
            var assembly = context.LoadFromStream(image);
            var account = Activator.CreateInstance(assembly.GetType("N.Account", throwOnError: true)!)!;
            var vault = Activator.CreateInstance(assembly.GetType("N.Vault", throwOnError: true)!)!;
            Assert.Equal("busy", account.GetType().GetMethod("Sweep", Type.EmptyTypes)!.Invoke(account, null));
            Assert.Equal("threw", Sweep(vault, suppressFlow: false));
            Assert.Equal("busy", Sweep(vault, suppressFlow: true));
        }
        finally
        {
            context.Unload();
        }
    }

    private static string Sweep(object vault, bool suppressFlow)
    {
        var method = vault.GetType().GetMethods().Single(static m => m.Name == "SweepAsync");
        var arguments = method.GetParameters().Select(p => p.ParameterType == typeof(bool) ? (object)suppressFlow : default(System.Threading.CancellationToken)).ToArray();
        return Await((Task<string>)method.Invoke(vault, arguments)!);
    }

    private static string Await(Task<string> task) => task.GetAwaiter().GetResult();
}
