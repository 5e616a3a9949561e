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
/// incremental run after a one-line edit in one file, and one pass of all the analyzers the package ships.
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private const int ClassCount = 1_000;

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    // Every analyzer the package ships, found the way the compiler finds them (by the attribute), so a new one is timed
    // without a change here (the row timed five of them before).
    private static readonly ImmutableArray<DiagnosticAnalyzer> s_analyzers =
    [
        .. typeof(GuardedMemberAccessAnalyzer).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.IsDefined(typeof(DiagnosticAnalyzerAttribute), inherit: false))
            .OrderBy(static t => t.FullName, System.StringComparer.Ordinal)
            .Select(static t => (DiagnosticAnalyzer)System.Activator.CreateInstance(t)!),
    ];

    /// <summary>Every analyzer the package ships (what <see cref="Analyzers"/> runs).</summary>
    internal static ImmutableArray<DiagnosticAnalyzer> AllAnalyzers => s_analyzers;

    /// <summary>The no-op analyzer <see cref="AnalyzerFloor_NoOpAnalyzer"/> runs.</summary>
    internal static ImmutableArray<DiagnosticAnalyzer> Floor => s_floor;

    private static readonly ImmutableArray<DiagnosticAnalyzer> s_floor = [new NoOpAnalyzer()];

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private Compilation _generated = null!;
    private GeneratorDriver _warmDriver = null!;

    /// <summary>The synthetic compilation of <see cref="ClassCount"/> annotated classes, before the generator ran.</summary>
    internal static CSharpCompilation Annotated()
    {
        var trees = Enumerable.Range(0, ClassCount).Select(static i => CSharpSyntaxTree.ParseText(Source(i, "_value"), s_parseOptions, $"C{i}.cs"));
        return CSharpCompilation.Create(
            "GeneratorBenchmark",
            trees,
            [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(ExclusiveLock).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary><see cref="Annotated"/> with the generator's output added: what the analyzers see in a build.</summary>
    internal static Compilation Generated()
    {
        CreateDriver().RunGeneratorsAndUpdateCompilation(Annotated(), out var generated, out _);
        return generated;
    }

    [GlobalSetup]
    public void Setup()
    {
        _compilation = Annotated();

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

    /// <summary>
    /// The floor under <see cref="Analyzers"/>: the same pass with one analyzer that asks for the same operations and
    /// does nothing with them, so what remains above it is the analyzers' own work, not the binding it forces.
    /// </summary>
    [Benchmark]
    public ImmutableArray<Diagnostic> AnalyzerFloor_NoOpAnalyzer() =>
        _generated.Clone().WithAnalyzers(s_floor).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();

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

    // Run in-process by the benchmark only, never loaded by a compiler: the rules for shipped analyzers do not apply.
#pragma warning disable RS1001, RS1036, RS1041, RS2008

    /// <summary>Registers what the Locksmith analyzers register and does nothing: the cost of the pass itself.</summary>
    private sealed class NoOpAnalyzer : DiagnosticAnalyzer
    {
        private static readonly DiagnosticDescriptor s_never = new("BENCH0001", "never", "never", "bench", DiagnosticSeverity.Hidden, true);

        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [s_never];

        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterOperationAction(
                static _ => { },
                OperationKind.FieldReference,
                OperationKind.PropertyReference,
                OperationKind.Invocation,
                OperationKind.MethodReference,
                OperationKind.ObjectCreation,
                OperationKind.Lock);
            context.RegisterSyntaxNodeAction(static _ => { }, Microsoft.CodeAnalysis.CSharp.SyntaxKind.AttributeList);
        }
    }
#pragma warning restore RS1001, RS1036, RS1041, RS2008
}
