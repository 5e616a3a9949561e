using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Diagnostics.Analyzers;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A helper's body (a scope helper of LSM0020, a forwarder of LSM0063) is read and judged once per compilation however
/// many uses ask, through the compilation's <see cref="LockFacts"/> or the analyzer's compilation-start closure: a helper
/// in another file was bound through that file's semantic model again at each use. Judged from several threads at once,
/// the helpers give the same holds and reports as one by one.
/// </summary>
public sealed class HelperJudgedOncePerCompilationTests
{
    private const int Uses = 6;

    private const string Helpers = """
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Ledger
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            private ExclusiveLock.Scope TakeLedger() => _lock.Acquire();
            private ExclusiveLock.Scope TakeLedgerAgain() => TakeLedger();
            private ValueTask<AsyncLockScope> TakeAsync() => _async.AcquireAsync();
            private ValueTask<AsyncLockScope> TakeAgainAsync() => TakeAsync();
        }
        """;

    // Uses uses of each helper: a scope of TakeLedgerAgain around a core call and a state write, and a blocking read of
    // TakeAgainAsync's task.
    private static readonly string s_uses = "using Locksmith;\n" +
        "public partial class Ledger\n{\n" +
        "    [Guarded(Lock = nameof(_lock))] private int _n;\n" +
        "    [Guarded(Lock = nameof(_lock))] private void BumpCore() => _n++;\n" +
        string.Concat(Enumerable.Range(0, Uses).Select(static i =>
            $"    public void Use{i}() {{ using var s = TakeLedgerAgain(); BumpCore(); _n++; }}\n" +
            $"    public AsyncLockScope Block{i}() => TakeAgainAsync().Result;\n")) +
        "}\n";

    [Fact]
    public void AScopeHelperInAnotherFile_IsJudgedOnce_HoweverManyUsesAsk()
    {
        var compilation = TestCompilation.Create(s_uses, Helpers);
        var facts = LockFacts.Create(compilation)!;
        var tree = compilation.SyntaxTrees.First();
        var model = compilation.GetSemanticModel(tree);
        var calls = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Select(node => model.GetOperation(node)).OfType<IInvocationOperation>()
            .Where(static call => call.TargetMethod.Name == "BumpCore")
            .ToList();
        Assert.Equal(Uses, calls.Count);

        foreach (var call in calls)
        {
            var guard = facts.GuardOf(call.TargetMethod)!;
            var containing = model.GetEnclosingSymbol(call.Syntax.SpanStart)!;
            Assert.True(HeldLocks.HeldByMethodOrScopeAt(call, guard, call.Instance, containing, facts));
        }

        // TakeLedgerAgain and the TakeLedger it returns: two bodies, each read once for six uses.
        Assert.Equal(2, facts.HelperAcquisitions.BodiesRead);
    }

    [Fact]
    public void AForwarderInAnotherFile_IsJudgedOnce_HoweverManyUsesAsk()
    {
        var compilation = TestCompilation.Create(s_uses, Helpers);
        var forwarders = BlockingOnAsyncAcquisitionAnalyzer.Forwarders();
        var tree = compilation.SyntaxTrees.First();
        var model = compilation.GetSemanticModel(tree);
        var calls = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Select(node => model.GetOperation(node)).OfType<IInvocationOperation>()
            .Where(static call => call.TargetMethod.Name == "TakeAgainAsync")
            .ToList();
        Assert.Equal(Uses, calls.Count);

        foreach (var call in calls)
        {
            Assert.Equal("_async", forwarders.Of(call.TargetMethod, model, CancellationToken.None)?.Held);
        }

        Assert.Equal(2, forwarders.BodiesRead);
    }

    [Fact]
    public async Task JudgedFromSeveralThreads_TheHoldsAndReportsAreTheSameAsOneByOne()
    {
        var run = GeneratorHarness.Run(s_uses, Helpers);
        var sequential = Rendered(run.AnalyzerDiagnostics);
        // The helpers' uses are held (no LSM0020) and each blocking read is reported (LSM0063), once each.
        Assert.DoesNotContain("LSM0020", sequential);
        Assert.Equal(Uses, run.AnalyzerDiagnostics.Count(static d => d.Id == "LSM0063"));

        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false);
        for (int round = 0; round < 4; round++)
        {
            var concurrent = await run.Output.WithAnalyzers(GeneratorHarness.Analyzers, options)
                .GetAnalyzerDiagnosticsAsync(CancellationToken.None).WaitAsync(System.TimeSpan.FromSeconds(60));
            Assert.Equal(sequential, Rendered(concurrent));
        }
    }

    // Ordered fully first (Render orders by start and id only, keeping ties as given).
    private static string Rendered(ImmutableArray<Diagnostic> diagnostics) =>
        Snapshot.Render([.. diagnostics
            .OrderBy(static d => d.Location.GetLineSpan().Path, System.StringComparer.Ordinal)
            .ThenBy(static d => d.Location.SourceSpan.Start)
            .ThenBy(static d => d.Id, System.StringComparer.Ordinal)
            .ThenBy(static d => d.GetMessage(), System.StringComparer.Ordinal)]);
}
