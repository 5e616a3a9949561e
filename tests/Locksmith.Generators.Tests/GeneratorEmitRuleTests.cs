using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The generator never emits code that does not compile: a declaration it accepts gets wrappers that compile cleanly,
/// one it does not accept gets an LSM diagnostic (or, when the compiler already rejects it, nothing) and no code.
/// </summary>
public sealed class GeneratorEmitRuleTests
{
    [Fact]
    public void LSM0040_ExplicitVisibilityWiderThanSignature() => DiagnosticCheck.Verify("""
        using Locksmith;
        internal sealed class Secret { }
        public partial class Vault
        {
            private readonly ExclusiveLock _lock = new();
            private sealed class Token { }
            [{|LSM0040:Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Public)|}] private Secret OpenCore() => new();
            [{|LSM0040:Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Internal)|}] private void UseCore(Token token) { }
            [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Internal)] private Secret PeekCore() => new();
        }
        """);

    [Fact]
    public void LSM0041_NullableLockMember() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock? _lock = new();
            private ExclusiveLock? Gate => _lock;
            [{|LSM0041:Guarded(Lock = nameof(_lock))|}] private void DepositCore() { }
            [{|LSM0041:Guarded(Lock = nameof(Gate))|}] private void WithdrawCore() { }
        }
        """);

    [Fact]
    public void LSM0013_WrapperCollidesWithAnotherGeneratedWrapper() => DiagnosticCheck.Verify("""
        using Locksmith;
        public partial class Account
        {
            protected readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void {|LSM0013:{|LSM0013:DepositCore|}|}(int cents) { }
            [Guarded(Lock = nameof(_lock), WrapperName = "Deposit")] private void {|LSM0013:{|LSM0013:Add|}|}(int amount) { }
            [Guarded(Lock = nameof(_lock))] protected void WithdrawCore(int amount) { }
        }
        public partial class Savings : Account
        {
            [Guarded(Lock = nameof(_lock))] private new void {|LSM0013:{|LSM0013:WithdrawCore|}|}(int amount) { }
        }
        """);

    [Fact]
    public void UnresolvedTypesInSignature_GetNoWrapper_AndNoLocksmithDiagnostic()
    {
        var run = GeneratorHarness.Run("""
            using System.Collections.Generic;
            using Locksmith;
            public partial class Store
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Missing FindCore(int key) => null!;
                [Guarded(Lock = nameof(_lock))] private void PutCore(List<Missing[]> items) { }
                [Guarded(Lock = nameof(_lock))] private void TakeCore<T>(T item) where T : IMissing { }
                [Guarded(Lock = nameof(_lock))] private void NameCore(string name = 42) { }
                [Guarded(Lock = nameof(_lock))] private int CountCore() => 0;
            }
            """);

        Assert.Empty(run.LocksmithDiagnostics);
        string generated = Assert.Single(run.Result.GeneratedTrees).ToString();
        Assert.Contains(" Count()", generated, System.StringComparison.Ordinal);
        Assert.DoesNotContain("Find", generated, System.StringComparison.Ordinal);
        Assert.DoesNotContain("Put", generated, System.StringComparison.Ordinal);
        Assert.DoesNotContain("Take", generated, System.StringComparison.Ordinal);
        Assert.DoesNotContain("Name", generated, System.StringComparison.Ordinal);
        AssertNoDiagnosticsInGeneratedTrees(run);
    }

    [Fact]
    public void OverrideOfGuardedCoreFromAnotherAssembly_GetsNoWrapper_AndNoDiagnostic()
    {
        var baseRun = GeneratorHarness.Run("""
            using Locksmith;
            namespace Lib;
            /// <summary>A base.</summary>
            public abstract partial class Job
            {
                /// <summary>The lock.</summary>
                protected ExclusiveLock Gate { get; } = new();
                /// <summary>A step.</summary>
                /// <param name="step">The step.</param>
                /// <returns>The total.</returns>
                [Guarded(Lock = nameof(Gate))] protected abstract int StepCore(int step);
            }
            """);
        Clean.Assert(baseRun);

        var derived = TestCompilation.Create("""
            using Locksmith;
            namespace App;
            public sealed class CopyJob : Lib.Job
            {
                [Guarded(Lock = nameof(Gate))] protected override int StepCore(int step) => step;
            }
            public static class Use
            {
                public static int Run(Lib.Job job) => job.Step(1);
            }
            """).AddReferences(baseRun.Output.ToMetadataReference());
        var run = GeneratorHarness.Run(derived);

        Assert.Empty(run.Result.GeneratedTrees);
        Clean.Assert(run);
    }

    private static void AssertNoDiagnosticsInGeneratedTrees(GeneratorRun run)
    {
        var generated = run.Result.GeneratedTrees.Select(static t => t.FilePath).ToHashSet();
        var problems = run.CompilerDiagnostics
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is { } tree && generated.Contains(tree.FilePath))
            .ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems));
    }
}
