using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Locksmith.Generators.Guarded;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>The pipeline caches: edits that do not touch a declaration leave its steps and outputs Cached or Unchanged.</summary>
public sealed class IncrementalityTests
{
    private static readonly string[] s_stepNames =
    [
        .. typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(static f => (string)f.GetRawConstantValue()!),
    ];

    // Both samples declare Bank.Account with its own _lock; in one compilation that is an error (an ambiguous
    // nameof(_lock)), and a declaration in error gets no wrapper. So this one lives in its own namespace.
    private static readonly string s_transfers = Samples.AcquiresLocksOfParameters.Replace("namespace Bank;", "namespace Transfers;");

    [Fact]
    public void UnrelatedFile_LeavesEveryStepCachedOrUnchanged()
    {
        var compilation = TestCompilation.Create(
            Samples.ExclusiveLockMethods, Samples.ReadMostlyReadWriteLock, s_transfers, Samples.AsyncExclusiveLockMethods, Samples.RecordParameterLockOrder);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var edited = compilation.AddSyntaxTrees(TestCompilation.Parse("namespace Elsewhere; public class Unrelated { public int Value => 42; }", "Unrelated.cs"));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        AssertAllCachedOrUnchanged(result, s_stepNames);
    }

    [Fact]
    public void EditInsideMethodBody_KeepsWrapperModelsAndOutputs()
    {
        var compilation = TestCompilation.Create(Samples.ExclusiveLockMethods, s_transfers);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var before = driver.GetRunResult().GeneratedTrees.Select(static t => t.ToString()).ToList();

        // A new line above shifts every location in the file (its diagnostics step re-runs) but no declaration changes.
        var tree = compilation.SyntaxTrees.First();
        string text = tree.ToString()
            .Replace("private void DepositCore(decimal amount) => _balance += amount;", "private void DepositCore(decimal amount) => _balance += amount * 1;")
            .Replace("namespace Bank;", "namespace Bank;\n");
        Assert.NotEqual(tree.ToString(), text);
        var edited = compilation.ReplaceSyntaxTree(tree, TestCompilation.Parse(text, tree.FilePath));
        driver = driver.RunGenerators(edited);
        var result = driver.GetRunResult().Results.Single();

        AssertAllCachedOrUnchanged(result, [TrackingNames.GuardedWrappers, TrackingNames.AcquiresLocksOfWrappers, TrackingNames.TypeModels]);
        Assert.Equal(before, driver.GetRunResult().GeneratedTrees.Select(static t => t.ToString()).ToList());
    }

    [Fact]
    public void ModelRecords_HoldNoSymbolsSyntaxOrLocations()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(AttributeData) };
        var modelTypes = typeof(WrapperModel).Assembly.GetTypes()
            .Where(static t => t.Namespace == typeof(WrapperModel).Namespace || t.Name is "DiagnosticInfo" or "LocationInfo")
            .ToList();
        Assert.Contains(typeof(WrapperModel), modelTypes);

        var seen = new HashSet<Type>();
        var offenders = new List<string>();
        foreach (var type in modelTypes)
        {
            Walk(type, type.Name);
        }

        Assert.Empty(offenders);

        void Walk(Type type, string path)
        {
            if (!seen.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string))
            {
                return;
            }

            if (forbidden.Any(f => f.IsAssignableFrom(type)) || (type.IsValueType && type.Name is "SyntaxToken" or "SyntaxTrivia"))
            {
                offenders.Add(path + " : " + type.Name);
                return;
            }

            foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : [])
            {
                Walk(argument, path + "<" + argument.Name + ">");
            }

            if (type.IsArray)
            {
                Walk(type.GetElementType()!, path + "[]");
            }

            if (type.Namespace?.StartsWith("Locksmith.Generators", StringComparison.Ordinal) != true)
            {
                return;
            }

            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                Walk(field.FieldType, path + "." + field.Name);
            }
        }
    }

    private static void AssertAllCachedOrUnchanged(GeneratorRunResult result, IEnumerable<string> stepNames)
    {
        foreach (string name in stepNames)
        {
            Assert.True(result.TrackedSteps.TryGetValue(name, out var steps), $"Step {name} did not run.");
            foreach (var output in steps.SelectMany(static s => s.Outputs))
            {
                Assert.True(
                    output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"Step {name} output was {output.Reason}: {output.Value}");
            }
        }

        if (!stepNames.Contains(TrackingNames.GuardedDiagnostics))
        {
            return;
        }

        foreach (var output in result.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs))
        {
            Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Output was {output.Reason}: {output.Value}");
        }
    }
}
