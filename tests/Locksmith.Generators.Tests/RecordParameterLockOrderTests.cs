using System.Runtime.CompilerServices;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// <c>[property: LockOrder(n)]</c> on a record's positional parameter puts the level on the property the compiler makes
/// from it: its wrappers declared it, and now the lock-order manifest and the declaration checks see it too (and those
/// of <c>[property: Guarded]</c>).
/// </summary>
public sealed class RecordParameterLockOrderTests
{
    /// <summary>The loaded assembly's module initializer registers the parameter's lock: type, member, level and kind.</summary>
    [Fact]
    public void APositionalParametersLockOrder_IsRegisteredInTheManifest()
    {
        var source = Samples.RecordParameterLockOrder.Replace("namespace Records;", "namespace RecordManifest;", System.StringComparison.Ordinal);
        var compilation = TestCompilation.Create(source);
        compilation = compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);
        Assert.Empty(run.LocksmithDiagnostics);
        using var loaded = LoadedAssembly.Load(run, "record-parameter-levels");

        RuntimeHelpers.RunModuleConstructor(loaded.Assembly.ManifestModule.ModuleHandle);

        Assert.Contains(new LockOrderDeclaration("RecordManifest.Account", "Gate", 10, LockKind.Exclusive), LockOrderManifest.Entries);
        Assert.Contains(new LockOrderDeclaration("RecordManifest.Slot", "Latch", 20, LockKind.ReadWrite), LockOrderManifest.Entries);
    }

    /// <summary>The checks of a declared level apply to it too: on a member that is no lock (LSM0011), a level shared in one type (LSM0012, reported on the parameter, whose entry comes after the type's declared members).</summary>
    [Fact]
    public void APositionalParametersLockOrder_IsChecked() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial record Account([property: LockOrder(10)] ExclusiveLock {|LSM0012:Gate|}, [property: LockOrder(20)] string {|LSM0011:Owner|})
        {
            [LockOrder(10)] private readonly ExclusiveLock _journal = new();
        }
        """);

    /// <summary>
    /// <c>[property: Guarded]</c> on a positional parameter gets the checks of a guarded property: a lock that names no
    /// member (LSM0002); one naming a lock is fine, and the
    /// analyzer reports its use without the lock (LSM0020).
    /// </summary>
    [Fact]
    public void APositionalParametersGuarded_IsChecked() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial record Account([property: {|LSM0002:Guarded(Lock = "nope")|}] int Balance, [property: Guarded(Lock = nameof(Account.Gate))] int Count)
        {
            public ExclusiveLock Gate { get; } = new();
            public int Peek() => {|LSM0020:Count|};
        }
        """);
}
