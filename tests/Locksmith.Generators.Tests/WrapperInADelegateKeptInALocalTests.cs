using System;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lambda (or method group) kept in a local that is only invoked (<c>later()</c>, <c>later.Invoke()</c>) is no work
/// started: it runs inline, on the invoker's thread and flow, where it is invoked. LSM0023 (and LSM0022) count the
/// holds at those invocations, for a synchronous lock too, not the holds where the lambda was made: one made inside an
/// async lock's scope and invoked after it takes the lock then, as it may. A local passed on (<c>Task.Run(work)</c>)
/// keeps the rules of any other lambda (a field: <see cref="WrapperInADelegateKeptInAFieldTests"/>).
/// </summary>
public sealed class WrapperInADelegateKeptInALocalTests
{
    [Fact]
    public void LSM0023_WhereTheKeptDelegateIsInvoked_NotWhereItWasMade() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Safe
        {
            private readonly AsyncExclusiveLock _lock = new();
            private Func<Task>? _kept;
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;

            public async Task LaterAsync(CancellationToken ct)
            {
                Func<Task> later;
                Func<CancellationToken, Task> group;
                using (await _lock.AcquireAsync())
                {
                    later = () => OpenAsync();
                    group = OpenAsync;
                }

                await later();
                await group.Invoke(ct);
            }

            public async Task InsideAsync(CancellationToken ct)
            {
                using (await _lock.AcquireAsync())
                {
                    Func<Task> now = () => {|LSM0023:OpenAsync()|};
                    Func<CancellationToken, Task> group = {|LSM0023:OpenAsync|};
                    await now();
                    await group(ct);
                }
            }

            public async Task EitherAsync(bool early)
            {
                Func<Task> f;
                using (await _lock.AcquireAsync())
                {
                    f = () => {|LSM0023:OpenAsync()|};
                    if (early)
                    {
                        await f();
                    }
                }

                await f();
            }

            public async Task NeverAsync()
            {
                using (await _lock.AcquireAsync())
                {
                    Func<Task> unused = () => OpenAsync();
                }
            }

            public async Task StartedAsync()
            {
                using (await _lock.AcquireAsync())
                {
                    // Passed on, or invoked in work started with the flow: the flow's hold, as for any lambda.
                    Func<Task> work = () => {|LSM0023:OpenAsync()|};
                    await Task.Run(work);
                    Func<Task> inRun = () => {|LSM0023:OpenAsync()|};
                    await Task.Run(() => inRun());
                    Func<Task> suppressed = () => OpenAsync();
                    Task t;
                    using (ExecutionContext.SuppressFlow())
                    {
                        t = Task.Run(() => suppressed());
                    }

                    await t;
                }
            }

            public async Task FieldAsync()
            {
                using (await _lock.AcquireAsync())
                {
                    // A private field only this type invokes, through this, runs where it is invoked: after the scope.
                    _kept = () => OpenAsync();
                }

                await _kept();
            }
        }
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            [Guarded(Lock = nameof(_lock))] private async Task SweepCoreAsync()
            {
                Func<Task> now = () => {|LSM0023:OpenAsync()|};
                await now();
            }

            [Guarded(Lock = nameof(_lock))] private Task UnusedCoreAsync()
            {
                Func<Task> never = () => OpenAsync();
                return Task.CompletedTask;
            }
        }
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }

            public void Later()
            {
                Action later;
                using (_lock.Acquire())
                {
                    later = () => Deposit();
                }

                later();
            }

            public void Inside()
            {
                using (_lock.Acquire())
                {
                    Action now = () => {|LSM0023:Deposit()|};
                    now.Invoke();
                }
            }

            [Guarded(Lock = nameof(_lock))] private void FlushCore()
            {
                Action now = () => {|LSM0023:Deposit()|};
                now();
                Action kept = () => Deposit();
                Task.Run(kept);
            }
        }
        public sealed partial class Till
        {
            [LockOrder(20)] private readonly ExclusiveLock _high = new();
            [LockOrder(10)] private readonly ExclusiveLock _low = new();
            [Guarded(Lock = nameof(_low))] private void TallyCore() { }
            public void Ring()
            {
                Action tally = () => {|LSM0022:Tally()|};
                using (_high.Acquire())
                {
                    tally();
                }

                Action after = () => Tally();
                after();
            }
        }
        """));

    private const string Shapes = """
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        namespace N;
        /// <summary>An async lock whose wrapper is kept in a local inside a scope of it.</summary>
        public sealed partial class Safe
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            /// <summary>Invokes the kept wrapper after the scope.</summary>
            /// <returns>The work.</returns>
            public async Task LaterAsync()
            {
                Func<Task> later;
                using (await _lock.AcquireAsync())
                {
                    later = () => OpenAsync();
                }

                await later();
            }

            /// <summary>Invokes the kept wrapper in the scope.</summary>
            /// <returns>The work.</returns>
            public async Task InsideAsync()
            {
                using (await _lock.AcquireAsync())
                {
                    Func<Task> now = () => OpenAsync();
                    await now();
                }
            }
        }
        """;

    /// <summary>What LSM0023 says of a kept delegate is what happens: invoked after the scope it takes the lock; invoked in it, it throws.</summary>
    [Fact]
    public async Task AKeptWrapper_TakesTheLockAfterTheScope_AndThrowsInIt_AsLSM0023Says()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create(Shapes));
        var reported = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0023", reported.Id);
        Assert.Contains("Func<Task> now", reported.Location.SourceTree!.GetText().Lines[reported.Location.GetLineSpan().StartLinePosition.Line].ToString(), StringComparison.Ordinal);
        using var loaded = LoadedAssembly.Load(run, "kept-delegate");
        var safe = loaded.Create("N.Safe");
        await (Task)safe.GetType().GetMethod("LaterAsync")!.Invoke(safe, null)!;
        await Assert.ThrowsAsync<System.Threading.LockRecursionException>(() => (Task)safe.GetType().GetMethod("InsideAsync")!.Invoke(safe, null)!);
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
