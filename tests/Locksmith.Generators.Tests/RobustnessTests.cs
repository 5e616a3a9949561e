using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The generator and analyzers survive any input: broken sources get diagnostics, never a crash, and never a generated
/// file that carries an error or a warning (the user's own broken code may; only generated trees count).
/// </summary>
public sealed class RobustnessTests
{
    private const int MutationCount = 300;

    [Fact]
    public void MutatedInputs_NeverMakeTheGeneratorThrowOrEmitCodeWithErrorsOrWarnings()
    {
        // LOCKSMITH_MUTATIONS and LOCKSMITH_MUTATION_SEED run a longer or another sweep by hand.
        int mutationCount = int.TryParse(Environment.GetEnvironmentVariable("LOCKSMITH_MUTATIONS"), out int count) ? count : MutationCount;
        var random = new Random(int.TryParse(Environment.GetEnvironmentVariable("LOCKSMITH_MUTATION_SEED"), out int seed) ? seed : 20261125);
        var failures = new List<string>();
        int runsWithFindings = 0;

        // One driver for all runs, so the incremental paths see a stream of random edits too.
        var driver = GeneratorHarness.CreateDriver();
        for (int i = 0; i < mutationCount; i++)
        {
            string source = Mutations.Apply(Samples.All[random.Next(Samples.All.Length)], random);
            var run = GeneratorHarness.Run(TestCompilation.Create(source), driver);
            driver = run.Driver;

            var crashes = run.GeneratorDiagnostics.Concat(run.AnalyzerDiagnostics)
                .Where(static d => d.Id is "CS8785" or "AD0001" or "LSM0099")
                .Select(static d => d.GetMessage())
                .ToList();
            if (run.LocksmithDiagnostics.Any(static d => d.Id != "LSM0099"))
            {
                runsWithFindings++;
            }

            if (run.Result.Results.Single().Exception is { } exception)
            {
                crashes.Add(exception.ToString());
            }

            var generatedPaths = new HashSet<string>(run.Result.GeneratedTrees.Select(static t => t.FilePath));
            var generatedProblems = run.CompilerDiagnostics
                .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is { } tree && generatedPaths.Contains(tree.FilePath))
                .ToList();
            if (generatedProblems.Count > 0)
            {
                crashes.Add("Generated code has diagnostics:\n" + Snapshot.Render(generatedProblems) +
                    string.Join("\n", run.Result.GeneratedTrees.Select(static t => "// " + t.FilePath + "\n" + t)));
            }

            if (crashes.Count > 0)
            {
                failures.Add($"Mutation {i}:\n{source}\n{string.Join("\n", crashes)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(3)));

        // The mutations must reach the checks, not just break the parse: many runs end in a Locksmith diagnostic.
        Assert.True(runsWithFindings > mutationCount / 5, $"Only {runsWithFindings} of {mutationCount} mutated inputs produced a Locksmith diagnostic.");
    }

    [Fact]
    public void ValidInputs_StillCompileWithoutDiagnostics()
    {
        foreach (string source in Samples.All)
        {
            Clean.Assert(GeneratorHarness.Run(source));
        }
    }
}
