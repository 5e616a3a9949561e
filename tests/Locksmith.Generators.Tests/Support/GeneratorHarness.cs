using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Guarded;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Generators.Tests.Support;

/// <summary>The result of running the generator and then the analyzers over a compilation.</summary>
internal sealed record GeneratorRun(
    GeneratorDriver Driver,
    GeneratorDriverRunResult Result,
    Compilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics)
{
    // Each is a full bind of the output compilation, so each is computed once per output (a test or the mutation sweep
    // reading both, or one twice through LocksmithDiagnostics, does not bind again); keyed by the output, so a copy
    // made with another Output computes its own.
    private (Compilation? Of, ImmutableArray<Diagnostic> Diagnostics) _compilerDiagnostics;
    private (Compilation? Of, ImmutableArray<Diagnostic> Diagnostics) _analyzerDiagnostics;

    /// <summary>Compiler diagnostics of the output compilation (generated code included).</summary>
    public ImmutableArray<Diagnostic> CompilerDiagnostics
    {
        get
        {
            if (!ReferenceEquals(_compilerDiagnostics.Of, Output))
            {
                _compilerDiagnostics = (Output, Output.GetDiagnostics());
            }

            return _compilerDiagnostics.Diagnostics;
        }
    }

    /// <summary>The analyzers' diagnostics over the output compilation, AD0001 included if one threw.</summary>
    public ImmutableArray<Diagnostic> AnalyzerDiagnostics
    {
        get
        {
            if (!ReferenceEquals(_analyzerDiagnostics.Of, Output))
            {
                _analyzerDiagnostics = (Output, GeneratorHarness.Analyze(Output));
            }

            return _analyzerDiagnostics.Diagnostics;
        }
    }

    /// <summary>The generated files, each under a comment naming it: for assertion messages.</summary>
    public string GeneratedText => string.Join("\n", Result.GeneratedTrees.Select(static t => "// " + t.FilePath + "\n" + t));

    /// <summary>Every Locksmith diagnostic: the generator's and the analyzers'.</summary>
    public ImmutableArray<Diagnostic> LocksmithDiagnostics =>
        [.. GeneratorDiagnostics.Concat(AnalyzerDiagnostics).Where(static d => d.Id.StartsWith("LSM", StringComparison.Ordinal))];

    /// <summary>The generator or an analyzer failing: CS8785 (it threw), AD0001 (an analyzer threw), LSM0099 (it caught its own exception).</summary>
    public ImmutableArray<Diagnostic> Failures =>
        [.. GeneratorDiagnostics.Concat(AnalyzerDiagnostics).Where(static d => d.Id is "CS8785" or "AD0001" or "LSM0099")];

    /// <summary>Compiler diagnostics of at least <paramref name="severity"/> located in a generated file.</summary>
    public ImmutableArray<Diagnostic> InGeneratedCode(DiagnosticSeverity severity) =>
        [.. CompilerDiagnostics.Where(d => d.Severity >= severity && IsGenerated(d.Location.SourceTree))];

    /// <summary>Compiler errors located in the user's own sources.</summary>
    public ImmutableArray<Diagnostic> ErrorsInUserCode =>
        [.. CompilerDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree is { } tree && !IsGenerated(tree))];

    private bool IsGenerated(SyntaxTree? tree) => tree is not null && Result.GeneratedTrees.Any(t => t.FilePath == tree.FilePath);
}

/// <summary>Runs the real generator and analyzers the way the compiler does.</summary>
internal static class GeneratorHarness
{
    public static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
    [
        .. typeof(GuardedGenerator).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
            .OrderBy(static t => t.Name, StringComparer.Ordinal)
            .Select(static t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!),
    ];

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new GuardedGenerator().AsSourceGenerator()],
            parseOptions: TestCompilation.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratorRun(driver, driver.GetRunResult(), output, diagnostics);
    }

    public static GeneratorRun Run(params string[] sources) => Run(TestCompilation.Create(sources));

    /// <summary>Runs over <paramref name="sources"/> compiled as a strict user project would be: nullable on, every warning an error.</summary>
    public static GeneratorRun RunStrict(params string[] sources)
    {
        var compilation = TestCompilation.Create(sources);
        compilation = compilation.WithOptions(compilation.Options
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        return Run(compilation);
    }

    /// <summary>Every warning or error of the run: the generator's (LSM diagnostics included), the compiler's and the analyzers'.</summary>
    public static System.Collections.Generic.List<Diagnostic> AllProblems(GeneratorRun run) =>
        [.. run.GeneratorDiagnostics
            .Concat(run.CompilerDiagnostics)
            .Concat(run.AnalyzerDiagnostics)
            .Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError)];

    /// <summary>The generator's own failures (CS8785) and every compiler warning or error, less missing docs of the test sources.</summary>
    public static System.Collections.Generic.List<Diagnostic> CompileProblems(GeneratorRun run) =>
        [.. run.GeneratorDiagnostics.Where(static d => !d.Id.StartsWith("LSM", StringComparison.Ordinal) && (d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError))
            .Concat(TestCompilation.Problems(run.CompilerDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError)))];

    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation)
    {
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([]),
            onAnalyzerException: null,
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false);
        return compilation.WithAnalyzers(Analyzers, options).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
