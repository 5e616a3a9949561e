using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// Compilations of test sources against the .NET 10 reference assemblies from a package plus the Locksmith runtime and its scheduler,
/// never against the assemblies this test process happens to have loaded.
/// </summary>
internal static class TestCompilation
{
    /// <summary>
    /// C# 14, the language of .NET 10 projects. Roslyn 4.14 (the generator's, pinned here too) calls it Preview: its
    /// Latest is C# 13, which would parse a C# 14 extension block as something else.
    /// </summary>
    public static readonly CSharpParseOptions ParseOptions =
        new(LanguageVersion.Preview, DocumentationMode.Diagnose);

    /// <summary>The references of every test compilation (the code-fix workspace's project takes them too).</summary>
    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(ExclusiveLock).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Locksmith.Testing.Scenario).Assembly.Location),
    ];

    /// <summary>
    /// Every warning wave on, as a .NET 10 project has them (its warning level is 10); the compilation options' default
    /// level, 4, would hide waves 5 and later (CS8981 for a lower-case type name among them) in generated code.
    /// </summary>
    public static readonly CSharpCompilationOptions Options = new(
        OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable,
        allowUnsafe: true,
        warningLevel: 9999);

    /// <summary>A compilation of the sources, named <c>Source0.cs</c>, <c>Source1.cs</c>, ….</summary>
    public static CSharpCompilation Create(params string[] sources) =>
        CSharpCompilation.Create(
            "Locksmith.Generators.TestInput",
            sources.Select((source, i) => Parse(source, $"Source{i}.cs")),
            References,
            Options);

    public static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    /// <summary>Warnings and errors, less the missing-doc warnings of hand-written test sources (generated code must have docs).</summary>
    public static IEnumerable<Diagnostic> Problems(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning)
            .Where(static d => !(d.Id == "CS1591" && d.Location.SourceTree?.FilePath.StartsWith("Source", System.StringComparison.Ordinal) == true));
}
