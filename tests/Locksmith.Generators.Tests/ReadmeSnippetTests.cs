using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Basic.Reference.Assemblies;
using Locksmith.Generators.Guarded;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Every <c>```csharp</c> block of README.md compiles with the generator and the analyzers, nullable on and every warning
/// an error, as a user who copies it into a new project would build it.
/// </summary>
/// <remarks>
/// <para>A block with no marker is a whole file (top-level statements allowed) with the .NET SDK's implicit usings only,
/// so a missing <c>using</c> fails. A fragment says what it is in an HTML comment on the line just before its fence,
/// which GitHub does not show:</para>
/// <list type="bullet">
/// <item><c>&lt;!-- snippet: types --&gt;</c>: type declarations;</item>
/// <item><c>&lt;!-- snippet: members --&gt;</c> or <c>members of Account</c>: members of a partial class (named
/// <c>Snippet</c> unless given);</item>
/// <item><c>&lt;!-- snippet: statements --&gt;</c>: the body of a method of such a class (async if it awaits);</item>
/// <item><c>&lt;!-- skip-compile: reason --&gt;</c>: refused. A block that cannot compile is rewritten (or shown as text):
/// a skipped case would be a failing one hidden.</item>
/// </list>
/// <para>A fragment's comment may go on over more lines, up to a line <c>--&gt;</c>: hidden declarations the fragment
/// needs (the fields it uses, a type it names), compiled as members of the wrapper class (or, for <c>types</c>, beside
/// the types). A hidden line <c>using X;</c> becomes a using directive. Fragments also get the usings of every
/// referenced Locksmith namespace, Npgsql's and Microsoft.Extensions' DependencyInjection and Hosting.</para>
/// <para>Each package's own README, <c>src/&lt;project&gt;/PACKAGE.md</c>, goes through the same compilation, with two
/// differences: its blocks are whole files (a user pastes them into a new project), and they see only what a project
/// referencing that one package sees, plus a Microsoft.Extensions package the page says to add.</para>
/// </remarks>
public sealed class ReadmeSnippetTests
{
    private static readonly Regex s_marker = new(@"^<!--\s*(?<kind>snippet|skip-compile):\s*(?<text>.*?)\s*(?<end>-->)?\s*$", RegexOptions.CultureInvariant);

    private static readonly Regex s_usingDirective = new(@"^using\s+[A-Za-z_][A-Za-z0-9_.]*\s*;\s*(//.*)?$", RegexOptions.CultureInvariant);

    // Microsoft.NET.Sdk's ImplicitUsings, on in every `dotnet new` project.
    private const string ImplicitUsings = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    private static readonly string[] s_fragmentUsings =
    [
        "using Locksmith;", "using Locksmith.Hosting;", "using Locksmith.Postgres;", "using Locksmith.Testing;",
        "using Microsoft.Extensions.DependencyInjection;", "using Microsoft.Extensions.Hosting;", "using Npgsql;",
    ];

    // C# 14 as in TestCompilation; a user's project does not ask for documentation comments (the generator's own docs
    // are checked by the snapshot tests), so a public snippet type without them is no CS1591.
    private static readonly CSharpParseOptions s_userParseOptions = TestCompilation.ParseOptions.WithDocumentationMode(DocumentationMode.Parse);

    private static readonly Lazy<IReadOnlyList<Snippet>> s_snippets = new(static () => ReadSnippets("README.md"));

    private static readonly string[] s_packageProjects = ["Locksmith", "Locksmith.Hosting", "Locksmith.Postgres", "Locksmith.Testing"];

    private static readonly Lazy<IReadOnlyList<Snippet>> s_packageSnippets =
        new(static () => [.. s_packageProjects.SelectMany(static p => ReadSnippets($"src/{p}/PACKAGE.md"))]);

    // The .NET 10 reference assemblies, and the packages' own assemblies as the build copied them beside the tests
    // (Locksmith's, Microsoft.Extensions.* of the versions Directory.Packages.props pins, Npgsql, xUnit's for the
    // README's controlled test).
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(static () =>
    [
        .. Net100.References.All,
        .. new[]
            {
                typeof(ExclusiveLock), typeof(Locksmith.Testing.Scenario), typeof(Locksmith.Hosting.LocksmithOptions),
                typeof(Locksmith.Postgres.PostgresLockProvider), typeof(Npgsql.NpgsqlDataSource), typeof(FactAttribute),
                typeof(Assert),
            }
            .Select(static t => t.Assembly.Location)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "Microsoft.Extensions.*.dll"))
            .Distinct(StringComparer.Ordinal)
            .Select(static path => MetadataReference.CreateFromFile(path)),
    ]);

    // What a project that references only this package compiles against: its assembly and those it references,
    // transitively, among the ones the build copied beside the tests (Microsoft.Extensions.*, Npgsql), so a block that
    // names another package's type fails. A Microsoft.Extensions package the page tells the reader to add ("adds
    // `Microsoft.Extensions.Hosting`", which has Host) comes with what it references in turn; Testing's blocks get xUnit,
    // as a test project has. (Before, Hosting's and Postgres's blocks saw every Microsoft.Extensions.* assembly, so a
    // block could use Host or BuildServiceProvider where its page never said to add the package that has it.)
    private static ImmutableArray<MetadataReference> PackageReferences(string project)
    {
        string page = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", project, "PACKAGE.md"));
        var added = Regex.Matches(page, @"\badds?\s+`(?<id>Microsoft\.Extensions\.[A-Za-z.]+)`", RegexOptions.CultureInvariant)
            .Select(static m => System.Reflection.Assembly.Load(m.Groups["id"].Value));
        System.Reflection.Assembly[] roots = project switch
        {
            "Locksmith" => [typeof(ExclusiveLock).Assembly],
            "Locksmith.Hosting" => [typeof(Locksmith.Hosting.LocksmithOptions).Assembly],
            "Locksmith.Postgres" => [typeof(Locksmith.Postgres.PostgresLockProvider).Assembly],
            "Locksmith.Testing" => [typeof(Locksmith.Testing.Scenario).Assembly, typeof(FactAttribute).Assembly, typeof(Assert).Assembly],
            _ => throw new ArgumentOutOfRangeException(nameof(project), project, "not a package project"),
        };
        return [.. Net100.References.All, .. BesideTheTests([.. roots, .. added]).Select(static path => MetadataReference.CreateFromFile(path))];
    }

    // The files of these assemblies and of every assembly they reference, transitively, that lies beside the tests
    // (the framework's are Net100.References already).
    private static SortedSet<string> BesideTheTests(IEnumerable<System.Reflection.Assembly> roots)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<System.Reflection.Assembly>(roots);
        while (pending.Count > 0)
        {
            var assembly = pending.Pop();
            if (!files.Add(assembly.Location))
            {
                continue;
            }

            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (File.Exists(Path.Combine(AppContext.BaseDirectory, name.Name + ".dll")))
                {
                    pending.Push(System.Reflection.Assembly.Load(name));
                }
            }
        }

        return files;
    }

    public static TheoryData<string, int> PackageSnippetLines()
    {
        var data = new TheoryData<string, int>();
        foreach (var snippet in s_packageSnippets.Value)
        {
            data.Add(snippet.File, snippet.Line);
        }

        return data;
    }

    public static TheoryData<int> SnippetLines()
    {
        var data = new TheoryData<int>();
        foreach (var snippet in s_snippets.Value)
        {
            data.Add(snippet.Line);
        }

        return data;
    }

    /// <summary>One case per block, named by the README line of its opening fence.</summary>
    [Theory]
    [MemberData(nameof(SnippetLines))]
    public void CsharpBlock_Compiles(int readmeLine)
    {
        var snippet = s_snippets.Value.Single(s => s.Line == readmeLine);
        Assert.False(
            snippet.Kind == "skip-compile",
            $"README.md line {readmeLine} is marked skip-compile ({snippet.Argument}): make it compile, or show it as a text block.");

        AssertCompiles(snippet, s_references.Value);
    }

    /// <summary>One case per block of a package's PACKAGE.md, named by its file and the line of its opening fence.</summary>
    [Theory]
    [MemberData(nameof(PackageSnippetLines))]
    public void PackageReadmeBlock_Compiles(string file, int line)
    {
        var snippet = s_packageSnippets.Value.Single(s => s.File == file && s.Line == line);
        Assert.True(snippet.Kind == "file", $"{file} line {line}: a package README shows whole files, without a marker ({snippet.Kind}: {snippet.Argument}).");

        AssertCompiles(snippet, PackageReferences(file.Split('/')[1]));
    }

    /// <summary>Every package has a PACKAGE.md with at least one C# block, so the theory above has cases to run.</summary>
    [Fact]
    public void EveryPackageReadme_HasACsharpBlock() =>
        Assert.All(s_packageProjects, static p => Assert.Contains(s_packageSnippets.Value, s => s.File == $"src/{p}/PACKAGE.md"));

    private static void AssertCompiles(Snippet snippet, ImmutableArray<MetadataReference> references)
    {
        var driver = CSharpGeneratorDriver.Create([new GuardedGenerator().AsSourceGenerator()], parseOptions: s_userParseOptions);
        var run = GeneratorHarness.Run(Compile(snippet, references), driver);

        var problems = GeneratorHarness.AllProblems(run);
        Assert.True(
            problems.Count == 0,
            $"{snippet.File} line {snippet.Line} ({snippet.Kind} {snippet.Argument}):\n" + Render(problems) + "\n" + run.GeneratedText);
    }

    /// <summary>The markers are the ones documented above; none skips a block.</summary>
    [Fact]
    public void Markers_AreKnown_AndNoneSkipsABlock()
    {
        var snippets = s_snippets.Value;

        Assert.NotEmpty(snippets);
        Assert.All(snippets, static s => Assert.True(
            s.Kind switch
            {
                "file" => true,
                "snippet" => Regex.IsMatch(s.Argument, @"^(types|statements|members( of [A-Za-z_][A-Za-z0-9_]*)?)$", RegexOptions.CultureInvariant),
                _ => false,
            },
            $"README.md line {s.Line}: unknown or empty marker '{s.Kind}: {s.Argument}'"));
    }

    // Where a problem is in README.md (through the #line the wrapper puts before the block), or in which hidden file.
    private static string Render(IEnumerable<Diagnostic> diagnostics) =>
        string.Concat(diagnostics.Select(static d =>
        {
            var span = d.Location.GetMappedLineSpan();
            return $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): {d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}\n";
        }));

    private static CSharpCompilation Compile(Snippet snippet, ImmutableArray<MetadataReference> references)
    {
        var parse = s_userParseOptions;
        string path = $"{snippet.File}:{snippet.Line}";
        var trees = new List<SyntaxTree> { CSharpSyntaxTree.ParseText(ImplicitUsings, parse, "GlobalUsings.g.cs") };
        string[] code = snippet.Code.Split('\n');
        bool fragment = snippet.Kind != "file";

        // A fragment's own using lines (a statements block that starts with one) move to the top of the file; blank
        // lines keep the rest at their README line numbers.
        string fragmentUsings = string.Join(
            "\n",
            s_fragmentUsings.Concat(snippet.Hidden.Concat(fragment ? code : []).Where(static l => s_usingDirective.IsMatch(l.Trim()))
                .Select(static l => l.Trim().Split(';')[0] + ";")).Distinct(StringComparer.Ordinal)) + "\n";
        string hidden = string.Join("\n", snippet.Hidden.Where(static l => !s_usingDirective.IsMatch(l.Trim())));
        string body = fragment ? string.Join("\n", code.Select(static l => s_usingDirective.IsMatch(l.Trim()) ? "" : l)) : snippet.Code;
        string located = $"#line {snippet.Line + 1} \"{snippet.File}\"\n{body}\n#line default\n";

        string source;
        string argument = snippet.Argument;
        if (snippet.Kind == "file")
        {
            source = located;
        }
        else if (argument == "types")
        {
            source = fragmentUsings + located;
            trees.Add(CSharpSyntaxTree.ParseText(fragmentUsings + hidden, parse, path + ".hidden.cs"));
        }
        else if (argument.StartsWith("members", StringComparison.Ordinal))
        {
            string name = argument.StartsWith("members of ", StringComparison.Ordinal) ? argument["members of ".Length..] : "Snippet";
            source = $"{fragmentUsings}public partial class {name}\n{{\n{located}{hidden}\n}}\n";
        }
        else
        {
            bool awaits = snippet.Code.Contains("await ", StringComparison.Ordinal);
            source = $"{fragmentUsings}public partial class Snippet\n{{\n{hidden}\n    public {(awaits ? "async Task" : "void")} Run()\n    {{\n{located}    }}\n}}\n";
        }

        var tree = CSharpSyntaxTree.ParseText(source, parse, path);
        trees.Add(tree);
        bool topLevel = tree.GetRoot().DescendantNodes().OfType<GlobalStatementSyntax>().Any();
        return CSharpCompilation.Create(
            "ReadmeSnippet" + snippet.Line,
            trees,
            references,
            new CSharpCompilationOptions(
                topLevel ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error,
                warningLevel: 9999,
                // The SDK's default NoWarn: xUnit's assemblies were built against an older System.Runtime.
                specificDiagnosticOptions: [new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));
    }

    private static IReadOnlyList<Snippet> ReadSnippets(string file)
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, file));
        var snippets = new List<Snippet>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```csharp")
            {
                continue;
            }

            int end = Array.FindIndex(lines, i + 1, static l => l.TrimEnd() == "```");
            Assert.True(end > i, $"{file} line {i + 1}: the ```csharp block is never closed.");
            string code = string.Join("\n", lines[(i + 1)..end]);
            var (kind, argument, hidden) = MarkerAbove(lines, i);
            snippets.Add(new Snippet(file, i + 1, kind, argument, hidden, code));
            i = end;
        }

        return snippets;
    }

    /// <summary>The marker comment that ends on the line just above the fence at <paramref name="fence"/>, if any.</summary>
    private static (string Kind, string Argument, IReadOnlyList<string> Hidden) MarkerAbove(string[] lines, int fence)
    {
        if (fence == 0 || !lines[fence - 1].TrimEnd().EndsWith("-->", StringComparison.Ordinal))
        {
            return ("file", "", []);
        }

        int start = fence - 1;
        while (start >= 0 && !lines[start].StartsWith("<!--", StringComparison.Ordinal))
        {
            start--;
        }

        var match = start >= 0 ? s_marker.Match(lines[start]) : Match.Empty;
        if (!match.Success)
        {
            return ("file", "", []);
        }

        var hidden = match.Groups["end"].Success ? [] : lines[(start + 1)..(fence - 1)];
        return (match.Groups["kind"].Value, match.Groups["text"].Value, hidden);
    }

    private sealed record Snippet(string File, int Line, string Kind, string Argument, IReadOnlyList<string> Hidden, string Code);
}
