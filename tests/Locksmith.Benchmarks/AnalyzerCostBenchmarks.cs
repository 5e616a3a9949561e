using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Benchmarks;

/// <summary>
/// Each shipped analyzer alone over <see cref="GeneratorBenchmarks"/>' compilation (1,000 annotated classes and their
/// generated wrappers), against the no-op analyzer that registers the same operations: what each one adds to a build,
/// so a slow one shows by name instead of inside the whole pass.
/// </summary>
[MemoryDiagnoser]
public class AnalyzerCostBenchmarks
{
    private Compilation _generated = null!;
    private ImmutableArray<DiagnosticAnalyzer> _analyzer;

    /// <summary>The analyzer's type name; "NoOp" is the floor every row is compared with.</summary>
    [ParamsSource(nameof(Names))]
    public string Analyzer { get; set; } = "NoOp";

    /// <summary>The floor, then every analyzer the package ships.</summary>
    public static string[] Names => ["NoOp", .. GeneratorBenchmarks.AllAnalyzers.Select(static a => a.GetType().Name)];

    [GlobalSetup]
    public void Setup()
    {
        _generated = GeneratorBenchmarks.Generated();
        _analyzer = Analyzer == "NoOp"
            ? GeneratorBenchmarks.Floor
            : [GeneratorBenchmarks.AllAnalyzers.Single(a => a.GetType().Name == Analyzer)];
    }

    [Benchmark]
    public ImmutableArray<Diagnostic> OnePass() =>
        _generated.Clone().WithAnalyzers(_analyzer).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
}
