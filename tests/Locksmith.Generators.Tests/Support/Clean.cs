using System.Linq;

namespace Locksmith.Generators.Tests.Support;

/// <summary>Assertions that a run produced code that compiles without a single warning and no Locksmith diagnostic.</summary>
internal static class Clean
{
    public static void Assert(GeneratorRun run)
    {
        var problems = TestCompilation.Problems(run.CompilerDiagnostics).Concat(run.LocksmithDiagnostics).ToList();
        Xunit.Assert.True(problems.Count == 0, "Unexpected diagnostics:\n" + Snapshot.Render(problems) + "\n" + GeneratedText(run));
    }

    private static string GeneratedText(GeneratorRun run) =>
        string.Join("\n", run.Result.Results.SelectMany(static r => r.GeneratedSources).Select(static s => "// " + s.HintName + "\n" + s.SourceText));
}
