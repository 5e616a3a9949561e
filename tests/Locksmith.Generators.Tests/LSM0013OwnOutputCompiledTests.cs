using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0013 when the member a wrapper collides with is the generator's own output compiled as a source file (what
/// <c>EmitCompilerGeneratedFiles</c> with an output path inside the project does on the next build): renaming the wrapper
/// cannot help, so the message says what does.
/// </summary>
public sealed class LSM0013OwnOutputCompiledTests
{
    private const string Source = """
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private decimal _balance;
            [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) => _balance += amount;
        }
        """;

    [Fact]
    public void TheGeneratorsOwnOutputCompiledAsSource_IsNamedAsTheCause()
    {
        var first = GeneratorHarness.Run(Source);
        var generated = first.Result.GeneratedTrees.Single(static t => t.FilePath.Contains("Account", System.StringComparison.Ordinal));

        // The second build: the emitted file is now one of the project's own sources.
        var second = GeneratorHarness.Run(Source, generated.ToString());

        var collisions = second.GeneratorDiagnostics.Where(static d => d.Id == "LSM0013").Select(static d => d.GetMessage()).ToList();
        Assert.NotEmpty(collisions);
        Assert.All(collisions, message =>
        {
            Assert.Contains("this generator's own output, compiled as a source file", message, System.StringComparison.Ordinal);
            Assert.Contains("<Compile Remove=\"$(CompilerGeneratedFilesOutputPath)/**\" />", message, System.StringComparison.Ordinal);
            Assert.DoesNotContain("set WrapperName", message, System.StringComparison.Ordinal);
        });
    }

    // A base type's wrapper from a referenced assembly carries [GeneratedCode] too, but it is not this project's source:
    // renaming the derived type's wrapper is the fix.
    [Fact]
    public void AWrapperOfABaseTypeInAReferencedAssembly_AsksForAnotherWrapperName()
    {
        var library = GeneratorHarness.Run(TestCompilation.Create("""
            using Locksmith;
            namespace Lib;
            public partial class Account
            {
                protected readonly ExclusiveLock _lock = new();
                protected decimal _balance;
                [Guarded(Lock = nameof(_lock))] protected void DepositCore(decimal amount) => _balance += amount;
            }
            """).WithAssemblyName("Lib"));
        using var image = new System.IO.MemoryStream();
        Assert.True(library.Output.Emit(image).Success);
        var derived = TestCompilation.Create("""
            using Locksmith;
            public partial class Savings : Lib.Account
            {
                [Guarded(Lock = nameof(_lock), WrapperName = "Deposit")] private void AddCore(decimal amount) => _balance += amount;
            }
            """).AddReferences(MetadataReference.CreateFromImage(image.ToArray()));

        var run = GeneratorHarness.Run(derived);

        var collisions = run.GeneratorDiagnostics.Where(static d => d.Id == "LSM0013").Select(static d => d.GetMessage()).ToList();
        Assert.NotEmpty(collisions);
        Assert.All(collisions, static message => Assert.EndsWith("set WrapperName to another name", message, System.StringComparison.Ordinal));
    }

    [Fact]
    public void AMemberTheUserWrote_StillAsksForAnotherWrapperName()
    {
        var run = GeneratorHarness.Run(Source.Replace("private decimal _balance;", "private decimal _balance; public void Deposit(decimal amount) { }", System.StringComparison.Ordinal));

        var message = Assert.Single(run.GeneratorDiagnostics, static d => d.Id == "LSM0013").GetMessage();
        Assert.EndsWith("set WrapperName to another name", message, System.StringComparison.Ordinal);
    }
}
