using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Shapes a fuzzing run found the generator mishandling: each either compiles with its wrappers (nullable enabled,
/// every warning an error) or is refused with exactly the diagnostics that say why, and the rest still compiles.
/// </summary>
public sealed class FuzzFindingsTests
{
    public static TheoryData<string, string> AcceptedShapes() => new()
    {
        // Hint names that differ only in case: Roslyn compares them ignoring case, and one duplicate dropped every file (CS8785).
        {
            "two types whose names differ only in case",
            """
            using Locksmith;
            namespace N;
            public partial class Foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } }
            #pragma warning disable CS8981
            public partial class foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } }
            #pragma warning restore CS8981
            public partial class FOO { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } }
            """
        },
        {
            "two namespaces whose names differ only in case",
            """
            using Locksmith;
            namespace N { public partial class Foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } } }
            namespace n { public partial class Foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } } }
            """
        },
        {
            "two nested types whose names differ only in case",
            """
            using Locksmith;
            namespace N;
            public partial class Outer
            {
                public partial class Inner { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
                public partial class INNER { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            }
            public partial class Other { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            """
        },
    };

    [Theory]
    [MemberData(nameof(AcceptedShapes))]
    public void AcceptedShape_AndItsWrappers_CompileWithWarningsAsErrors(string shape, string source)
    {
        var run = RunStrict(source);

        var problems = Problems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + Generated(run));
        Assert.NotEmpty(run.Result.GeneratedTrees);
    }

    [Fact]
    public void HintNamesThatDifferOnlyInCase_AreMadeUnique_TheSameWhateverTheOrder_AndOthersKeepTheirs()
    {
        const string upper = "namespace N; public partial class Foo { private readonly Locksmith.ExclusiveLock _lock = new(); [Locksmith.Guarded(Lock = nameof(_lock))] private void DoCore() { } }";
        const string lower = "#pragma warning disable CS8981\nnamespace N; public partial class foo { private readonly Locksmith.ExclusiveLock _lock = new(); [Locksmith.Guarded(Lock = nameof(_lock))] private void DoCore() { } }";
        const string other = "namespace N; public partial class Other { private readonly Locksmith.ExclusiveLock _lock = new(); [Locksmith.Guarded(Lock = nameof(_lock))] private void DoCore() { } }";

        var forward = HintNames(RunStrict(upper, lower, other));
        var backward = HintNames(RunStrict(other, lower, upper));

        Assert.Equal(3, forward.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(forward.Order(StringComparer.Ordinal), backward.Order(StringComparer.Ordinal));
        Assert.Contains("N.Other.Locksmith.g.cs", forward);
    }

    private static List<string> HintNames(GeneratorRun run) =>
        [.. run.Result.Results.Single().GeneratedSources.Select(static s => s.HintName)];

    private static GeneratorRun RunStrict(params string[] sources)
    {
        var compilation = TestCompilation.Create(sources);
        compilation = compilation.WithOptions(compilation.Options
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        return GeneratorHarness.Run(compilation);
    }

    /// <summary>The generator's own failures (CS8785) and every compiler warning or error, less missing docs of the test sources.</summary>
    private static List<Diagnostic> Problems(GeneratorRun run) =>
        [.. run.GeneratorDiagnostics.Where(static d => !d.Id.StartsWith("LSM", StringComparison.Ordinal) && (d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError))
            .Concat(TestCompilation.Problems(run.CompilerDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError)))];

    private static string Generated(GeneratorRun run) =>
        string.Join("\n", run.Result.GeneratedTrees.Select(static t => "// " + t.FilePath + "\n" + t));
}
