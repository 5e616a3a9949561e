using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// The generator fuzz of <see cref="RobustnessTests"/>: one seeded stream of mutated samples, run in two halves by two
/// test classes so that xUnit runs them on both cores (the sweep is the longest test of the suite).
/// </summary>
internal static class MutationSweep
{
    private const int MutationCount = 300;

    /// <summary>Runs the mutations whose index has the given parity and asserts none made the generator or analyzers fail.</summary>
    public static void RunHalf(int parity)
    {
        // LOCKSMITH_MUTATIONS and LOCKSMITH_MUTATION_SEED run a longer or another sweep by hand.
        int mutationCount = int.TryParse(Environment.GetEnvironmentVariable("LOCKSMITH_MUTATIONS"), out int count) ? count : MutationCount;
        var random = new Random(int.TryParse(Environment.GetEnvironmentVariable("LOCKSMITH_MUTATION_SEED"), out int seed) ? seed : 20261125);

        // The whole stream is drawn, so each half runs the same inputs it would in one sweep.
        var sources = new string[mutationCount];
        for (int i = 0; i < mutationCount; i++)
        {
            sources[i] = Mutations.Apply(Samples.All[random.Next(Samples.All.Length)], random);
        }

        var failures = new List<string>();
        int runs = 0;
        int runsWithFindings = 0;

        // One driver for the half's runs, so the incremental paths see a stream of random edits too.
        var driver = GeneratorHarness.CreateDriver();
        for (int i = parity; i < mutationCount; i += 2)
        {
            string source = sources[i];
            var run = GeneratorHarness.Run(TestCompilation.Create(source), driver);
            driver = run.Driver;
            runs++;

            var crashes = run.Failures.Select(static d => d.GetMessage()).ToList();
            if (run.LocksmithDiagnostics.Any(static d => d.Id != "LSM0099"))
            {
                runsWithFindings++;
            }

            if (run.Result.Results.Single().Exception is { } exception)
            {
                crashes.Add(exception.ToString());
            }

            var generatedProblems = run.InGeneratedCode(DiagnosticSeverity.Warning);
            if (generatedProblems.Length > 0)
            {
                crashes.Add("Generated code has diagnostics:\n" + Snapshot.Render(generatedProblems) + run.GeneratedText);
            }

            if (crashes.Count > 0)
            {
                failures.Add($"Mutation {i}:\n{source}\n{string.Join("\n", crashes)}");
            }
        }

        Xunit.Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(3)));

        // The mutations must reach the checks, not just break the parse: many runs end in a Locksmith diagnostic.
        Xunit.Assert.True(runsWithFindings > runs / 5, $"Only {runsWithFindings} of {runs} mutated inputs produced a Locksmith diagnostic.");
    }
}
