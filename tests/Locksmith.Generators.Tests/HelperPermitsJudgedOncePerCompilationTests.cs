using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Diagnostics.Analyzers;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0058 reads an async helper's body to see whether it only takes a <c>CountingSemaphore</c>'s permits once per
/// compilation however many uses await it (<see cref="HelperScopeOwnershipAnalyzer"/>'s cache): one in another file was
/// bound through that file's semantic model again at each use. Each use is still reported or not as before.
/// </summary>
public sealed class HelperPermitsJudgedOncePerCompilationTests
{
    private const int Uses = 6;

    private const string Helpers = """
        using System.Threading.Tasks;
        using Locksmith;
        public static class Gates
        {
            private static readonly AsyncExclusiveLock Lock = new();
            private static readonly CountingSemaphore Slots = new(4, 4);
            public static async Task<AsyncLockScope> TakeLedgerAsync() => await Lock.AcquireAsync();
            public static async Task<AsyncLockScope> EnterAsync() => await Slots.AcquireAsync();
        }
        """;

    // Uses awaits of each helper, each in a caller of its own that owns no flow.
    private static readonly string s_uses = "using System.Threading.Tasks;\n" +
        "public sealed class Callers\n{\n" +
        string.Concat(Enumerable.Range(0, Uses).Select(static i =>
            $"    public async Task Ledger{i}Async() {{ using var scope = await Gates.TakeLedgerAsync(); }}\n" +
            $"    public async Task Enter{i}Async() {{ using var scope = await Gates.EnterAsync(); }}\n")) +
        "}\n";

    [Fact]
    public async Task HelpersInAnotherFile_AwaitedManyTimes_HaveTheirBodiesReadOnce()
    {
        var run = GeneratorHarness.Run(s_uses, Helpers);
        HelperJudgements<object>? cache = null;
        var analyzer = new HelperScopeOwnershipAnalyzer { CompilationStarted = made => cache = made };
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false);

        var diagnostics = await run.Output.WithAnalyzers([analyzer], options)
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None).WaitAsync(System.TimeSpan.FromSeconds(60));

        // The lock's helper is reported at each use; the permits' helper at none.
        var reported = diagnostics.Where(static d => d.Id == "LSM0058").ToList();
        Assert.Equal(Uses, reported.Count);
        Assert.All(reported, static d => Assert.Contains("TakeLedgerAsync", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), System.StringComparison.Ordinal));
        Assert.NotNull(cache);
        Assert.Equal(2, cache.BodiesRead);
    }
}
