using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>The generator and analyzers survive any input: broken sources get diagnostics, never a crash.</summary>
public sealed class RobustnessTests
{
    private const int MutationCount = 300;

    [Fact]
    public void MutatedInputs_NeverMakeTheGeneratorOrAnalyzersThrow()
    {
        var random = new Random(20261125);
        var failures = new List<string>();
        int runsWithFindings = 0;

        // One driver for all runs, so the incremental paths see a stream of random edits too.
        var driver = GeneratorHarness.CreateDriver();
        for (int i = 0; i < MutationCount; i++)
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

            if (crashes.Count > 0)
            {
                failures.Add($"Mutation {i}:\n{source}\n{string.Join("\n", crashes)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(3)));

        // The mutations must reach the checks, not just break the parse: many runs end in a Locksmith diagnostic.
        Assert.True(runsWithFindings > MutationCount / 5, $"Only {runsWithFindings} of {MutationCount} mutated inputs produced a Locksmith diagnostic.");
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
