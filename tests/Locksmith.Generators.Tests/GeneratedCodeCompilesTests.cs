using System.Linq;
using System.Reflection;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The generator's rule: what it accepts compiles. Every snapshot input is compiled together with its generated code,
/// nullable enabled and every warning an error, and the whole compilation must be free of warnings and errors.
/// </summary>
public sealed class GeneratedCodeCompilesTests
{
    public static TheoryData<string> SnapshotInputNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in Samples.SnapshotInputs.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SnapshotInputNames))]
    public void SnapshotInput_AndItsGeneratedCode_CompileWithWarningsAsErrors(string name)
    {
        var compilation = TestCompilation.Create(Samples.SnapshotInputs[name]);
        compilation = compilation.WithOptions(compilation.Options
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error));

        var run = GeneratorHarness.Run(compilation);

        Assert.NotEmpty(run.Result.GeneratedTrees);
        var problems = GeneratorHarness.AllProblems(run);
        Assert.True(
            problems.Count == 0,
            "Diagnostics:\n" + Snapshot.Render(problems) + "\n" +
            string.Join("\n", run.Result.GeneratedTrees.Select(static t => "// " + t.FilePath + "\n" + t)));
    }

    [Fact]
    public void EverySnapshotTest_HasItsInputListed()
    {
        var tests = typeof(GeneratorSnapshotTests).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(static m => m.GetCustomAttribute<FactAttribute>() is not null)
            .Select(static m => m.Name)
            .ToList();

        Assert.NotEmpty(tests);
        Assert.All(tests, test => Assert.True(Samples.SnapshotInputs.ContainsKey(test), test));
        Assert.Equal(tests.Count, Samples.SnapshotInputs.Count);
    }
}
