using System;
using System.IO;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Generated code names every type from <c>global::</c>. A non-generic type named System or Locksmith in the global
/// namespace takes that name from the namespace (CS0437 when declared in the project, CS0434 when public in a
/// reference), so every generated file was errors; now nothing is generated and LSM0064 says why, once.
/// </summary>
public sealed class HiddenNamespaceTests
{
    private const string Account = """
        public partial class Account
        {
            [global::Locksmith.LockOrder(1)] private readonly global::Locksmith.ExclusiveLock _lock = new();
            [global::Locksmith.Guarded(Lock = nameof(_lock))] private int _balance;
            [global::Locksmith.Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 100)] private void DepositCore(int amount) => _balance += amount;
        }
        """;

    [Fact]
    public void LSM0064_ATypeNamedSystemInTheGlobalNamespace_GetsNothingGenerated_AndOneDiagnostic()
    {
        var (source, expected) = Markup.Parse("""
            public sealed class {|LSM0064:System|} { }
            public partial class Account
            {
                [Locksmith.LockOrder(1)] private readonly Locksmith.ExclusiveLock _lock = new();
                [Locksmith.Guarded(Lock = nameof(_lock))] private int _balance;
                [Locksmith.Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 100)] private void DepositCore(int amount) => _balance += amount;
                [Locksmith.Guarded(Lock = nameof(_lock))] private int ReadCore() => _balance;
            }
            """);

        var run = GeneratorHarness.Run(source);

        Assert.Empty(run.Result.GeneratedTrees);
        Assert.Equal(
            expected.Select(static e => (e.Id, e.Span)),
            run.LocksmithDiagnostics.Select(static d => (d.Id, d.Location.SourceSpan)));
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, Snapshot.Render(problems));
        Snapshot.VerifyText("diagnostics", Snapshot.Render(run.LocksmithDiagnostics));
    }

    [Theory]
    [InlineData("public struct System { }")]
    [InlineData("public enum System { A }")]
    [InlineData("public delegate void System();")]
    [InlineData("internal interface System { }")]
    public void LSM0064_EveryKindOfTypeHides(string declaration)
    {
        var run = GeneratorHarness.Run(declaration, Account);

        Assert.Empty(run.Result.GeneratedTrees);
        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0064", diagnostic.Id);
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)));
    }

    /// <summary>
    /// A type named Locksmith hides the runtime's namespace from the project's own code too: the attributes can only be
    /// reached through an extern alias then, while generated code still names 'global::Locksmith'.
    /// </summary>
    [Fact]
    public void LSM0064_ATypeNamedLocksmith_WithTheRuntimeAlsoUnderAnAlias()
    {
        string runtime = typeof(ExclusiveLock).Assembly.Location;
        var references = TestCompilation.References.Select(r =>
            r is PortableExecutableReference { FilePath: var path } && path == runtime ? r.WithAliases(["global", "LS"]) : r);
        var compilation = CSharpCompilation.Create(
            "Locksmith.Generators.TestInput",
            [TestCompilation.Parse(
                """
                extern alias LS;
                public sealed class Locksmith { }
                public partial class Account
                {
                    [LS::Locksmith.LockOrder(1)] private readonly LS::Locksmith.ExclusiveLock _lock = new();
                    [LS::Locksmith.Guarded(Lock = nameof(_lock))] private void DepositCore(int amount) { }
                }
                """,
                "Source0.cs")],
            references,
            TestCompilation.Options);

        var run = GeneratorHarness.Run(compilation);

        Assert.Empty(run.Result.GeneratedTrees);
        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0064", diagnostic.Id);
        Assert.StartsWith("Generated code names the namespace 'Locksmith' as 'global::Locksmith'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)));
    }

    [Fact]
    public void LSM0064_APublicTypeNamedSystemInAReference_HidesItToo_WhereAnInternalOneDoesNot()
    {
        var hidden = GeneratorHarness.Run(Compile(Account, Reference("Hider", "public class System { }")));
        var diagnostic = Assert.Single(hidden.LocksmithDiagnostics);
        Assert.Equal("LSM0064", diagnostic.Id);
        Assert.Equal(Location.None, diagnostic.Location);
        Assert.Contains("the type 'System' of assembly 'Hider' hides it", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(hidden.Result.GeneratedTrees);
        Assert.True(GeneratorHarness.CompileProblems(hidden).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(hidden)));

        var seen = GeneratorHarness.Run(Compile(Account, Reference("Keeper", "internal class System { }")));
        Assert.NotEmpty(seen.Result.GeneratedTrees);
        var problems = GeneratorHarness.CompileProblems(seen).Concat(seen.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + seen.GeneratedText);
    }

    /// <summary>Names that do not hide the namespace: generic, nested in a namespace or a type, or a member's.</summary>
    [Theory]
    [InlineData("public class System<T> { }")]
    [InlineData("namespace N { public class System { } public class Locksmith { } }")]
    [InlineData("public class Outer { public class System { } public int Locksmith; }")]
    public void NamesThatDoNotHideTheNamespace_KeepTheirWrappers(string declaration)
    {
        var run = GeneratorHarness.Run(declaration, Account);

        Assert.Contains(run.Result.GeneratedTrees, static t => t.FilePath.EndsWith("Account.Locksmith.g.cs", StringComparison.Ordinal));
        Assert.Contains(run.Result.GeneratedTrees, static t => t.FilePath.EndsWith("LockOrderManifest.g.cs", StringComparison.Ordinal));
        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
    }

    /// <summary>A project that asks for nothing to be generated is not told.</summary>
    [Fact]
    public void ATypeNamedSystem_InAProjectWithoutAttributes_IsNotReported()
    {
        var run = GeneratorHarness.Run("public class System { }", "public class Plain { }");

        Assert.Empty(run.Result.GeneratedTrees);
        Assert.Empty(run.LocksmithDiagnostics);
    }

    private static CSharpCompilation Compile(string source, MetadataReference reference) =>
        TestCompilation.Create(source).AddReferences(reference);

    private static MetadataReference Reference(string name, string source)
    {
        var compilation = CSharpCompilation.Create(name, [TestCompilation.Parse(source, name + ".cs")], TestCompilation.References, TestCompilation.Options);
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }
}
