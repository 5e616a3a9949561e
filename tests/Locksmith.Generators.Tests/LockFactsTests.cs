using System.Linq;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Tests;

/// <summary>The analyzers' per-compilation facts are worked out once per symbol, whatever the number of call sites.</summary>
public sealed class LockFactsTests
{
    [Fact]
    public void WrapperFacts_AreComputedOncePerWrapper_NotPerCallSite()
    {
        var run = GeneratorHarness.Run("""
            using Locksmith;
            public partial class Ledger
            {
                [LockOrder(10)] private readonly ExclusiveLock _accounts = new();
                [LockOrder(20)] private readonly ExclusiveLock _audit = new();
                [Guarded(Lock = nameof(_accounts))] private void DebitCore() { }
                [Guarded(Lock = nameof(_audit))] private void RecordCore() { Debit(); Debit(); }
                public override string ToString() => base.ToString();
            }
            """);
        var tree = run.Output.SyntaxTrees.First(static t => t.FilePath == "Source0.cs");
        var model = run.Output.GetSemanticModel(tree);
        var calls = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Select(call => model.GetOperation(call)).OfType<IInvocationOperation>()
            .Select(static invocation => invocation.TargetMethod)
            .ToList();
        Assert.Equal(3, calls.Count);

        var facts = LockFacts.Create(run.Output)!;
        var first = facts.WrapperOf(calls[0]);
        Assert.NotNull(first);
        Assert.Same(first, facts.WrapperOf(calls[1]));
        Assert.Equal("DebitCore", first.Body.Name);
        Assert.Equal([10], first.Taken.Select(static t => t.Level));
        Assert.Null(facts.WrapperOf(calls[2]));

        var record = run.Output.GetTypeByMetadataName("Ledger")!.GetMembers("RecordCore").OfType<IMethodSymbol>().Single();
        Assert.Same(facts.LocksHeldBy(record)[0], facts.LocksHeldBy(record)[0]);
        Assert.Same(facts.GuardOf(record), facts.GuardOf(record));
        Assert.Null(LockFacts.Create(TestCompilation.Create("class NoLocksmith { }").RemoveAllReferences()));
    }
}
