using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Diagnostics.Analyzers;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A method of the type read as an inline body by the lock order checks (called from a lambda run inline,
/// <c>items.ForEach(x =&gt; Step(x))</c>, or given by name, <c>items.ForEach(Step)</c>) has its body read once per
/// compilation however many uses name it (<see cref="LockOrderAnalyzer.WrapperCallsIn"/>): one in another file was bound
/// through that file's semantic model again at each use. Each use is still judged against its own holds.
/// </summary>
public sealed class InlineBodyReadOncePerCompilationTests
{
    private const int Uses = 6;

    private const string Step = """
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private void DepositCore(decimal amount) { }
            private void Step(decimal x) => Deposit(x);
        }
        """;

    // Uses uses of Step under the hold, half called from a lambda run inline, half given by name; and as many out of it.
    private static readonly string s_uses = "using System.Collections.Generic;\nusing Locksmith;\n" +
        "public sealed partial class Account\n{\n" +
        string.Concat(Enumerable.Range(0, Uses).Select(static i =>
            $"    [Guarded(Lock = nameof(_lock))] private void Sweep{i}Core(List<decimal> items) => items.ForEach({(i % 2 == 0 ? "x => Step(x)" : "Step")});\n" +
            $"    public void Free{i}(List<decimal> items) => items.ForEach({(i % 2 == 0 ? "x => Step(x)" : "Step")});\n")) +
        "}\n";

    [Fact]
    public async Task AMethodInAnotherFile_ReadAsAnInlineBody_IsReadOnce_HoweverManyUsesNameIt()
    {
        var run = GeneratorHarness.Run(s_uses, Step);
        HelperJudgements<IReadOnlyList<(IInvocationOperation Call, Wrapper Wrapper)>>? cache = null;
        var analyzer = new LockOrderAnalyzer { CompilationStarted = made => cache = made };
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false);

        var diagnostics = await run.Output.WithAnalyzers([analyzer], options)
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None).WaitAsync(System.TimeSpan.FromSeconds(60));

        // Each use under the hold is reported (Deposit takes the held lock again), none out of it.
        Assert.Equal(Uses, diagnostics.Count(static d => d.Id == "LSM0023"));
        Assert.All(diagnostics.Where(static d => d.Id == "LSM0023"),
            static d => Assert.Contains("Sweep", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), System.StringComparison.Ordinal));
        Assert.NotNull(cache);
        Assert.Equal(1, cache.BodiesRead);
    }
}
