using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Guarded;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// Applies code fixes the way the IDE does, in an <see cref="AdhocWorkspace"/>: the source is a document of a project
/// with the test compilations' references and options, its diagnostics come from the real generator and analyzers,
/// the diagnostics of one span go to the provider together, and a chosen fix's changed solution is read back.
/// </summary>
internal static class CodeFixHarness
{
    /// <summary>
    /// A document <c>Source0.cs</c> holding <paramref name="source"/>, in C# 14 (Preview) unless told otherwise; a
    /// source of top-level statements is a console program's (a library's would not compile, CS8805).
    /// </summary>
    public static Document Document(string source, LanguageVersion? version = null)
    {
        var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId();
        var parseOptions = version is { } v ? TestCompilation.ParseOptions.WithLanguageVersion(v) : TestCompilation.ParseOptions;
        bool program = CSharpSyntaxTree.ParseText(source, parseOptions).GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any();
        var solution = workspace.CurrentSolution.AddProject(ProjectInfo.Create(
            projectId,
            VersionStamp.Create(),
            "Locksmith.CodeFixes.TestInput",
            "Locksmith.CodeFixes.TestInput",
            LanguageNames.CSharp,
            compilationOptions: program ? TestCompilation.Options.WithOutputKind(OutputKind.ConsoleApplication) : TestCompilation.Options,
            parseOptions: parseOptions,
            metadataReferences: TestCompilation.References));
        var documentId = DocumentId.CreateNewId(projectId);
        solution = solution.AddDocument(documentId, "Source0.cs", SourceText.From(source), filePath: "Source0.cs");
        return solution.GetDocument(documentId)!;
    }

    /// <summary>The generator's and analyzers' diagnostics of the document's project, in the document's language version.</summary>
    public static async Task<GeneratorRun> RunAsync(Document document)
    {
        var compilation = await document.Project.GetCompilationAsync(CancellationToken.None);
        var driver = CSharpGeneratorDriver.Create(
            [new GuardedGenerator().AsSourceGenerator()],
            parseOptions: (CSharpParseOptions)document.Project.ParseOptions!);
        return GeneratorHarness.Run(compilation!, driver);
    }

    /// <summary>
    /// The diagnostics <paramref name="id"/> of the document, grouped by span as the IDE hands them to a provider, each
    /// located in the document's tree as the IDE locates them: the generator's carry only a file path and span (it keeps
    /// no syntax tree in its pipeline), and fix-all takes only diagnostics in source.
    /// </summary>
    public static async Task<List<ImmutableArray<Diagnostic>>> DiagnosticsAsync(Document document, string id)
    {
        var run = await RunAsync(document);
        var tree = await document.GetSyntaxTreeAsync(CancellationToken.None);
        return [.. run.LocksmithDiagnostics
            .Where(d => d.Id == id)
            .Select(d => InSource(d, tree!))
            .GroupBy(static d => d.Location.SourceSpan)
            .OrderBy(static g => g.Key.Start)
            .Select(static g => g.ToImmutableArray())];
    }

    private static Diagnostic InSource(Diagnostic diagnostic, SyntaxTree tree)
    {
        if (diagnostic.Location.IsInSource)
        {
            return diagnostic;
        }

        Assert.Equal(tree.FilePath, diagnostic.Location.GetLineSpan().Path);
        var descriptor = diagnostic.Descriptor;
        return Diagnostic.Create(
            new DiagnosticDescriptor(
                descriptor.Id,
                descriptor.Title,
                diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal),
                descriptor.Category,
                descriptor.DefaultSeverity,
                descriptor.IsEnabledByDefault),
            Location.Create(tree, diagnostic.Location.SourceSpan));
    }

    /// <summary>The fixes the provider registers for the diagnostics of one span.</summary>
    public static async Task<List<CodeAction>> ActionsAsync(CodeFixProvider provider, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostics[0].Location.SourceSpan, diagnostics, (action, _) => actions.Add(action), CancellationToken.None);
        await provider.RegisterCodeFixesAsync(context);
        return actions;
    }

    /// <summary>The document as the fix leaves it.</summary>
    public static async Task<Document> ApplyAsync(CodeAction action, Document document)
    {
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        var apply = Assert.Single(operations.OfType<ApplyChangesOperation>());
        return apply.ChangedSolution.GetDocument(document.Id)!;
    }

    /// <summary>
    /// Applies the fix titled <paramref name="title"/> to the only span where <paramref name="id"/> is reported, and
    /// asserts the fixed text and that the fixed project has no warning or error left: no Locksmith diagnostic, no
    /// compiler one (its generated wrappers included).
    /// </summary>
    public static async Task AssertFixAsync(CodeFixProvider provider, string source, string id, string title, string expected, LanguageVersion? version = null)
    {
        var document = Document(source, version);
        var spans = await DiagnosticsAsync(document, id);
        var diagnostics = Assert.Single(spans);
        var actions = await ActionsAsync(provider, document, diagnostics);
        var action = actions.SingleOrDefault(a => a.Title == title);
        Assert.True(action is not null, $"No fix titled \"{title}\"; offered: {string.Join(", ", actions.Select(static a => "\"" + a.Title + "\""))}");

        var fixedDocument = await ApplyAsync(action, document);
        Assert.Equal(Normalize(expected), (await fixedDocument.GetTextAsync()).ToString());
        await AssertCleanAsync(fixedDocument);
    }

    /// <summary>
    /// Like <see cref="AssertFixAsync"/> for a source that already warns: asserts the fixed text, that the compiler's
    /// warnings are the same before and after (by ID and the text they point at: none added, none hidden), or
    /// <paramref name="warningsAfter"/> when the fix drops what a warning pointed at, and that no Locksmith warning is left.
    /// </summary>
    public static async Task AssertFixKeepsWarningsAsync(
        CodeFixProvider provider, string source, string id, string title, string expected, string[]? warningsAfter = null)
    {
        var document = Document(source);
        var before = await CompilerWarningsAsync(document);
        Assert.NotEmpty(before);
        var diagnostics = Assert.Single(await DiagnosticsAsync(document, id));
        var actions = await ActionsAsync(provider, document, diagnostics);
        var action = actions.SingleOrDefault(a => a.Title == title);
        Assert.True(action is not null, $"No fix titled \"{title}\"; offered: {string.Join(", ", actions.Select(static a => "\"" + a.Title + "\""))}");

        var fixedDocument = await ApplyAsync(action, document);
        Assert.Equal(Normalize(expected), (await fixedDocument.GetTextAsync()).ToString());
        Assert.Equal(warningsAfter ?? [.. before], await CompilerWarningsAsync(fixedDocument));
        Assert.Empty((await RunAsync(fixedDocument)).LocksmithDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning));
    }

    private static async Task<List<string>> CompilerWarningsAsync(Document document)
    {
        var run = await RunAsync(document);
        return [.. GeneratorHarness.CompileProblems(run)
            .Concat(TestCompilation.Problems(run.Output.Emit(Stream.Null).Diagnostics))
            .Select(static d => d.Id + " at '" + d.Location.SourceTree?.GetText().ToString(d.Location.SourceSpan) + "'")
            .Distinct()
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>The titles of the fixes offered at the only span where <paramref name="id"/> is reported.</summary>
    public static async Task<List<string>> TitlesAsync(CodeFixProvider provider, string source, string id, LanguageVersion? version = null)
    {
        var document = Document(source, version);
        var diagnostics = Assert.Single(await DiagnosticsAsync(document, id));
        return [.. (await ActionsAsync(provider, document, diagnostics)).Select(static a => a.Title)];
    }

    /// <summary>Asserts that <paramref name="id"/> is reported at <paramref name="spanCount"/> spans, and that the provider offers no fix for any of them.</summary>
    public static async Task AssertNoFixAsync(CodeFixProvider provider, string source, string id, int spanCount, LanguageVersion? version = null)
    {
        var document = Document(source, version);
        var spans = await DiagnosticsAsync(document, id);
        Assert.Equal(spanCount, spans.Count);
        foreach (var diagnostics in spans)
        {
            var actions = await ActionsAsync(provider, document, diagnostics);
            Assert.True(actions.Count == 0, $"Offered at {diagnostics[0].Location.GetLineSpan()}: {string.Join(", ", actions.Select(static a => a.Title))}");
        }
    }

    /// <summary>Applies the provider's fix-all for <paramref name="equivalenceKey"/> to the whole document, asserts the result is clean, and returns its text.</summary>
    public static async Task<string> FixAllAsync(CodeFixProvider provider, string source, string id, string equivalenceKey)
    {
        var document = Document(source);
        var fixAll = provider.GetFixAllProvider();
        Assert.NotNull(fixAll);
        var context = new FixAllContext(
            document, provider, FixAllScope.Document, equivalenceKey, [id], new DocumentDiagnostics(id), CancellationToken.None);
        var action = await fixAll.GetFixAsync(context);
        Assert.NotNull(action);
        var fixedDocument = await ApplyAsync(action, document);
        await AssertCleanAsync(fixedDocument);
        return (await fixedDocument.GetTextAsync()).ToString();
    }

    /// <summary>
    /// Asserts that the document's project compiles with its generated code without a warning or error, Locksmith's
    /// included. It is emitted: some errors come only then (CS4007, a ref struct kept across an await).
    /// </summary>
    public static async Task AssertCleanAsync(Document document)
    {
        var run = await RunAsync(document);
        var emitted = run.Output.Emit(Stream.Null).Diagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError);
        var problems = GeneratorHarness.CompileProblems(run)
            .Concat(TestCompilation.Problems(emitted))
            .Distinct()
            .Concat(run.LocksmithDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning))
            .Select(static d => d.ToString())
            .ToList();
        Assert.True(problems.Count == 0, "The fixed code has problems:\n" + string.Join("\n", problems) + "\n" + await document.GetTextAsync());
    }

    /// <summary>Raw string literals in the tests have the file's line ends; sources are compared with \n.</summary>
    public static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>The real generator's and analyzers' diagnostics of one ID, for fix-all.</summary>
    private sealed class DocumentDiagnostics(string id) : FixAllContext.DiagnosticProvider
    {
        public override async Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken) =>
            (await DiagnosticsAsync(document, id)).SelectMany(static g => g);

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult(Enumerable.Empty<Diagnostic>());

        public override async Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken)
        {
            var all = new List<Diagnostic>();
            foreach (var document in project.Documents)
            {
                all.AddRange(await GetDocumentDiagnosticsAsync(document, cancellationToken));
            }

            return all;
        }
    }
}
