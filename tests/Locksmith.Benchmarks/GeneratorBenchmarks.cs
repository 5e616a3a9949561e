using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Basic.Reference.Assemblies;
using BenchmarkDotNet.Attributes;
using Locksmith.Generators.Diagnostics.Analyzers;
using Locksmith.Generators.Guarded;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Benchmarks;

/// <summary>
/// The generator and analyzers over a synthetic compilation of 1,000 annotated classes: a full generator run, an
/// incremental run after a one-line edit in one file, and one pass of all the analyzers.
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private const int ClassCount = 1_000;

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<DiagnosticAnalyzer> s_analyzers =
    [
        new GuardedMemberAccessAnalyzer(),
        new ReadAccessWriteAnalyzer(),
        new LockOrderAnalyzer(),
        new LockStatementAnalyzer(),
    ];

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private Compilation _generated = null!;
    private GeneratorDriver _warmDriver = null!;

    [GlobalSetup]
    public void Setup()
    {
        var trees = Enumerable.Range(0, ClassCount).Select(static i => CSharpSyntaxTree.ParseText(Source(i, "_value"), s_parseOptions, $"C{i}.cs"));
        _compilation = CSharpCompilation.Create(
            "GeneratorBenchmark",
            trees,
            [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(ExclusiveLock).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var editedTree = _compilation.SyntaxTrees.ElementAt(ClassCount / 2);
        _edited = _compilation.ReplaceSyntaxTree(
            editedTree,
            CSharpSyntaxTree.ParseText(Source(ClassCount / 2, "_value + 1"), s_parseOptions, editedTree.FilePath));

        _warmDriver = CreateDriver().RunGeneratorsAndUpdateCompilation(_compilation, out _generated, out _);
    }

    [Benchmark(Baseline = true)]
    public GeneratorDriver FullRun() => CreateDriver().RunGenerators(_compilation);

    [Benchmark]
    public GeneratorDriver IncrementalRunAfterOneLineEdit() => _warmDriver.RunGenerators(_edited);

    [Benchmark]
    public ImmutableArray<Diagnostic> Analyzers() =>
        _generated.Clone().WithAnalyzers(s_analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();

    private static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create([new GuardedGenerator().AsSourceGenerator()], parseOptions: s_parseOptions);

    private static string Source(int index, string readExpression) => new StringBuilder()
        .AppendLine("using Locksmith;")
        .AppendLine($"namespace Bench.N{index};")
        .AppendLine($"public partial class C{index}")
        .AppendLine("{")
        .AppendLine("    [LockOrder(10)] private readonly ExclusiveLock _lock = new();")
        .AppendLine("    [Guarded(Lock = nameof(_lock))] private int _value;")
        .AppendLine($"    [Guarded(Lock = nameof(_lock))] private int GetCore() => {readExpression};")
        .AppendLine("    [Guarded(Lock = nameof(_lock))] private void SetCore(int value) => _value = value;")
        .AppendLine("}")
        .ToString();
}
