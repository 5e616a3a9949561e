using System;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lambda (or method group) calling a wrapper, kept in a private instance field of its type that is only assigned and
/// invoked through <c>this</c> (<c>_kept()</c>, <c>this._kept.Invoke()</c>, <c>_kept?.Invoke()</c>), runs inline where
/// the type invokes it: LSM0023 counts the holds at those invocations (a synchronous lock's too), not the ones where it
/// was made. A field used any other way (passed on, read by another object, not private) may be invoked anywhere, and
/// keeps the rules of any lambda.
/// </summary>
public sealed class WrapperInADelegateKeptInAFieldTests
{
    [Fact]
    public void LSM0023_WhereTheFieldIsInvoked_NotWhereTheDelegateWasMade() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Safe
        {
            private readonly AsyncExclusiveLock _lock = new();
            private Func<Task>? _later;
            private Func<Task>? _inside;
            private Func<Task>? _passed;
            private Func<Task>? _other;
            private Func<Task>? _started;
            public Func<Task>? Exposed;
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;

            public async Task KeepAsync(Safe other)
            {
                using (await _lock.AcquireAsync())
                {
                    _later = () => OpenAsync();
                    this._inside = () => {|LSM0023:OpenAsync()|};
                    // Passed on, another object's field, or a field other types reach: as any lambda in the hold.
                    _passed = () => {|LSM0023:OpenAsync()|};
                    other._other = () => {|LSM0023:OpenAsync()|};
                    Exposed = () => {|LSM0023:OpenAsync()|};
                }
            }

            public async Task RunLaterAsync() => await _later!();

            public async Task RunInsideAsync()
            {
                using (await _lock.AcquireAsync())
                {
                    await this._inside!.Invoke();
                }
            }

            public async Task StartAsync()
            {
                // Made outside any hold, invoked in work started inside an async lock's scope, which shares the flow's hold.
                _started = () => {|LSM0023:OpenAsync()|};
                using (await _lock.AcquireAsync())
                {
                    await Task.Run(() => _started!());
                }
            }

            public Task PassAsync() => Task.Run(_passed!);

            public Task OtherAsync() => _other!();
        }
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private Action? _kept;
            private Action? _now;
            private Action? _group;
            private Action? _never;
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }

            public void Keep()
            {
                using (_lock.Acquire())
                {
                    _kept = () => Deposit();
                    _never = () => Deposit();
                }
            }

            public void Later() => _kept?.Invoke();

            public void Arm()
            {
                _now = () => {|LSM0023:Deposit()|};
                _group = {|LSM0023:Deposit|};
            }

            public void Inside()
            {
                using (_lock.Acquire())
                {
                    _group?.Invoke();
                }
            }

            [Guarded(Lock = nameof(_lock))] private void FlushCore() => _now!();
        }
        """));

    /// <summary>
    /// A part of the type in another file that names the field is not read, so the delegate keeps the rules of any lambda:
    /// made in an async lock's scope, it is reported where it is made, since that part may invoke it in a hold.
    /// </summary>
    [Fact]
    public void AFieldNamedInAnotherFilesPart_KeepsTheLambdaRules()
    {
        const string Made = """
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Safe
            {
                private readonly AsyncExclusiveLock _lock = new();
                private Func<Task>? _kept;
                [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
                public async Task KeepAsync()
                {
                    using (await _lock.AcquireAsync())
                    {
                        _kept = () => OpenAsync();
                    }
                }
            }
            """;
        const string Invoked = """
            using System.Threading.Tasks;
            public sealed partial class Safe
            {
                public async Task RunAsync()
                {
                    using (await _lock.AcquireAsync())
                    {
                        await _kept!();
                    }
                }
            }
            """;
        var run = GeneratorHarness.Run(Made, Invoked);
        var reported = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0023", reported.Id);
        Assert.Contains("_kept = () => OpenAsync();", reported.Location.SourceTree!.GetText().Lines[reported.Location.GetLineSpan().StartLinePosition.Line].ToString(), StringComparison.Ordinal);
    }

    private const string Shapes = """
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        namespace N;
        /// <summary>An async lock whose wrapper is kept in fields inside a scope of it.</summary>
        public sealed partial class Safe
        {
            private readonly AsyncExclusiveLock _lock = new();
            private Func<Task>? _later;
            private Func<Task>? _inside;
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            /// <summary>Keeps two wrapper calls.</summary>
            /// <returns>The work.</returns>
            public async Task KeepAsync()
            {
                using (await _lock.AcquireAsync())
                {
                    _later = () => OpenAsync();
                    _inside = () => OpenAsync();
                }
            }

            /// <summary>Invokes one after the scope.</summary>
            /// <returns>The work.</returns>
            public async Task RunLaterAsync() => await _later!();

            /// <summary>Invokes the other in a scope.</summary>
            /// <returns>The work.</returns>
            public async Task RunInsideAsync()
            {
                using (await _lock.AcquireAsync())
                {
                    await _inside!();
                }
            }
        }

        /// <summary>A synchronous lock whose wrapper is kept in a field.</summary>
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private Action? _now;
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }
            /// <summary>Keeps a wrapper call.</summary>
            public void Arm() => _now = () => Deposit();
            /// <summary>Invokes it in a scope.</summary>
            public void Inside()
            {
                using (_lock.Acquire())
                {
                    _now!();
                }
            }
        }
        """;

    /// <summary>What LSM0023 says of a kept field is what happens: invoked after the scope it takes the lock; invoked in one, it throws.</summary>
    [Fact]
    public async Task AWrapperKeptInAField_TakesTheLockAfterTheScope_AndThrowsInOne_AsLSM0023Says()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create(Shapes));
        var lines = run.LocksmithDiagnostics.OrderBy(static d => d.Location.SourceSpan.Start).Select(d => d.Id + " " + d.Location.SourceTree!.GetText().Lines[d.Location.GetLineSpan().StartLinePosition.Line].ToString().Trim()).ToList();
        Assert.Equal(["LSM0023 _inside = () => OpenAsync();", "LSM0023 public void Arm() => _now = () => Deposit();"], lines);
        Assert.Contains(run.LocksmithDiagnostics, static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).StartsWith(
            "'Safe.RunInsideAsync' already holds '_lock' and calls 'OpenAsync', which takes it again (the call is in a delegate kept in the field '_inside', which runs it where it is invoked, under the hold)",
            StringComparison.Ordinal));

        using var loaded = LoadedAssembly.Load(run, "kept-field");
        var safe = loaded.Create("N.Safe");
        await Invoke(safe, "KeepAsync");
        await Invoke(safe, "RunLaterAsync");
        await Assert.ThrowsAsync<System.Threading.LockRecursionException>(() => Invoke(safe, "RunInsideAsync"));
        var account = loaded.Create("N.Account");
        account.GetType().GetMethod("Arm")!.Invoke(account, null);
        var thrown = Assert.Throws<TargetInvocationException>(() => account.GetType().GetMethod("Inside")!.Invoke(account, null));
        Assert.IsType<System.Threading.LockRecursionException>(thrown.InnerException);
    }

    private static Task Invoke(object target, string method) => (Task)target.GetType().GetMethod(method)!.Invoke(target, null)!;

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
