using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The timed async wrapper of a core returning <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c> returns
/// <c>(false, default)</c> when the lock was not acquired, so its <c>Result</c> element says it may be null: a
/// reference type gets <c>?</c> (<c>string?</c>), a type parameter that may be a reference type <c>T?</c>; value types,
/// whose default is a real value, and types already nullable keep theirs. A caller dereferencing <c>Result</c> without
/// testing it is warned (CS8602), as with the synchronous form's <c>[MaybeNullWhen(false)] out</c> result.
/// </summary>
public sealed class TimedAsyncResultNullabilityTests
{
    private const string Shapes = """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Shapes
        {
        /// <summary>A subject.</summary>
        public partial class Results<TItem>
        {
            private readonly AsyncExclusiveLock _lock = new AsyncExclusiveLock();

            [Guarded(Lock = nameof(_lock))]
            private Task<string> NameCoreAsync() => Task.FromResult("n");

            [Guarded(Lock = nameof(_lock))]
            private ValueTask<List<string>> NamesCoreAsync() => new ValueTask<List<string>>(new List<string>());

            [Guarded(Lock = nameof(_lock))]
            private Task<string?> MaybeNameCoreAsync() => Task.FromResult<string?>(null);

            [Guarded(Lock = nameof(_lock))]
            private Task<int> CountCoreAsync() => Task.FromResult(1);

            [Guarded(Lock = nameof(_lock))]
            private Task<int?> MaybeCountCoreAsync() => Task.FromResult<int?>(null);

            [Guarded(Lock = nameof(_lock))]
            private Task<TItem> ItemCoreAsync(TItem item) => Task.FromResult(item);

            [Guarded(Lock = nameof(_lock))]
            private Task<T> EchoCoreAsync<T>(T value) => Task.FromResult(value);

            [Guarded(Lock = nameof(_lock))]
            private Task<T> EchoClassCoreAsync<T>(T value) where T : class => Task.FromResult(value);

            [Guarded(Lock = nameof(_lock))]
            private Task<T> EchoNotNullCoreAsync<T>(T value) where T : notnull => Task.FromResult(value);

            [Guarded(Lock = nameof(_lock))]
            private Task<T> EchoStructCoreAsync<T>(T value) where T : struct => Task.FromResult(value);

            [Guarded(Lock = nameof(_lock))]
            private Task<T?> EchoMaybeClassCoreAsync<T>(T? value) where T : class => Task.FromResult(value);
        }
        }
        """;

    /// <summary>A core returning <c>Task&lt;T?&gt;</c> of an unconstrained <c>T</c> (C# 9 and later).</summary>
    private const string MaybeOfUnconstrained = """
        using System.Threading.Tasks;
        using Locksmith;

        namespace Shapes;

        /// <summary>A subject.</summary>
        public partial class Maybe
        {
            private readonly AsyncExclusiveLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            private Task<T?> EchoMaybeCoreAsync<T>(T? value) => Task.FromResult(value);
        }
        """;

    /// <summary>Every element type: nullable where its default is null and the type does not say so already.</summary>
    [Fact]
    public void ResultElement_IsNullableWhereItsDefaultIsNull()
    {
        var run = GeneratorHarness.RunStrict(Shapes, MaybeOfUnconstrained);

        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.DoesNotContain("default!", run.GeneratedText, System.StringComparison.Ordinal);
        Snapshot.VerifyGenerated(run);
    }

    /// <summary>
    /// Reading <c>Result</c> as non-null without testing it is CS8602 in the caller; a test that it is not null (here
    /// with its <c>Acquired</c>, in one pattern) is enough. The tuple cannot tie the two elements together, so a test of
    /// <c>Acquired</c> alone does not tell the compiler about <c>Result</c>.
    /// </summary>
    [Fact]
    public void DereferencedResult_WarnsUnlessTested()
    {
        var (caller, expected) = Markup.Parse("""
            using System;
            using System.Threading.Tasks;
            using Shapes;

            /// <summary>A caller.</summary>
            public static class Caller
            {
                /// <summary>Unchecked.</summary>
                public static async Task<int> UncheckedAsync(Results<Uri> results)
                {
                    var named = await results.TryNameAsync(TimeSpan.FromSeconds(1));
                    var item = await results.TryItemAsync(TimeSpan.FromSeconds(1), new Uri("http://a"));
                    var echoed = await results.TryEchoAsync(TimeSpan.FromSeconds(1), "e");
                    return {|CS8602:named.Result|}.Length + {|CS8602:item.Result|}.Port + {|CS8602:echoed.Result|}.Length;
                }

                /// <summary>Checked.</summary>
                public static async Task<int> CheckedAsync(Results<Uri> results)
                {
                    int total = (await results.TryCountAsync(TimeSpan.FromSeconds(1))).Result;
                    if (await results.TryNameAsync(TimeSpan.FromSeconds(1)) is (true, { } name))
                    {
                        total += name.Length;
                    }

                    var item = await results.TryItemAsync(TimeSpan.FromSeconds(1), new Uri("http://a"));
                    if (item is { Acquired: true, Result: { } uri })
                    {
                        total += uri.Port;
                    }

                    return total;
                }
            }
            """);
        var run = GeneratorHarness.RunStrict(Shapes, caller);

        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.All(problems, static p => Assert.Equal("Source1.cs", p.Location.SourceTree?.FilePath));
        Assert.Equal(
            expected.Select(static e => (e.Id, e.Span)).OrderBy(static e => e.Span.Start),
            problems.Select(static d => (d.Id, d.Location.SourceSpan)).OrderBy(static e => e.SourceSpan.Start));
    }

    /// <summary>
    /// C# 8 has no <c>T?</c> for a type parameter that may be a value type (CS8627), so there an unconstrained (or
    /// <c>notnull</c>) one keeps <c>T</c>; a class-constrained one and a reference type get <c>?</c> there too, and the
    /// wrappers compile without a warning at every version.
    /// </summary>
    [Theory]
    [InlineData(LanguageVersion.CSharp8)]
    [InlineData(LanguageVersion.CSharp9)]
    [InlineData(LanguageVersion.CSharp13)]
    public void EveryLanguageVersion_CompilesWithoutWarnings(LanguageVersion version)
    {
        var parse = new CSharpParseOptions(version, DocumentationMode.Diagnose);
        var compilation = TestCompilation.Create().AddSyntaxTrees(CSharpSyntaxTree.ParseText(Shapes, parse, "Source0.cs"));
        compilation = compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var driver = CSharpGeneratorDriver.Create([new Locksmith.Generators.Guarded.GuardedGenerator().AsSourceGenerator()], parseOptions: parse);
        var run = GeneratorHarness.Run(compilation, driver);

        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, version + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        string generated = run.GeneratedText;
        Assert.Contains("(bool Acquired, string? Result)", generated, System.StringComparison.Ordinal);
        Assert.Contains("(bool Acquired, T? Result)> TryEchoClassAsync", generated, System.StringComparison.Ordinal);
        Assert.Contains(
            version >= LanguageVersion.CSharp9 ? "(bool Acquired, T? Result)> TryEchoAsync" : "(bool Acquired, T Result)> TryEchoAsync",
            generated,
            System.StringComparison.Ordinal);
    }

    /// <summary>Where nullable annotations are disabled the types are oblivious: no <c>?</c> (CS8632 there), nothing suppressed.</summary>
    [Fact]
    public void ObliviousCore_KeepsItsType()
    {
        var run = GeneratorHarness.RunStrict("""
            using System.Threading.Tasks;
            using Locksmith;

            namespace Shapes;

            /// <summary>A subject.</summary>
            public partial class Legacy
            {
                private readonly AsyncExclusiveLock _lock = new();

            #nullable disable
                [Guarded(Lock = nameof(_lock))]
                private Task<string> NameCoreAsync() => Task.FromResult("n");

                [Guarded(Lock = nameof(_lock))]
                private Task<T> EchoCoreAsync<T>(T value) => Task.FromResult(value);
            #nullable enable
            }
            """);

        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.Contains("(bool Acquired, string Result)", run.GeneratedText, System.StringComparison.Ordinal);
        Assert.Contains("(bool Acquired, T Result)", run.GeneratedText, System.StringComparison.Ordinal);
        Assert.DoesNotContain("default!", run.GeneratedText, System.StringComparison.Ordinal);
    }
}
