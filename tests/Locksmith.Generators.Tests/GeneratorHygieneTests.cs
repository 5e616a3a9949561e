using System;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Guarded;
using Locksmith.Generators.Symbols;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Tests;

/// <summary>The pipeline's syntax predicates and the attribute-data readers.</summary>
public sealed class GeneratorHygieneTests
{
    private const string EveryTarget = """
        using System;
        using Locksmith;
        [ReadMostly] public partial class C
        {
            [LockOrder(1)] private readonly ExclusiveLock _a = new(), _b = new();
            [LockOrder(2)] private ReadWriteLock Rw { get; } = new();
            [Guarded(Lock = nameof(_a))] private int _x, _y;
            [Guarded(Lock = nameof(_a))] private int P { get; set; }
            [Guarded(Lock = nameof(_a))] private int this[int i] => i;
            [Guarded(Lock = nameof(_a))] private void RunCore() { [Guarded(Lock = nameof(_a))] void LocalCore() { } }
            [AcquiresLocksOf("other", Lock = nameof(_a))] private static void MergeCore(C other) { }
            private Action Lambda() => [Guarded(Lock = nameof(_a))] () => { };
            private int Q { [Guarded(Lock = nameof(_a))] get => 0; }
        }
        [ReadMostly] public partial struct S { }
        [ReadMostly] public partial record R { }
        """;

    [Fact]
    public void Predicates_AcceptEveryNodeTheirAttributeCanTarget()
    {
        var compilation = TestCompilation.Create(EveryTarget);
        var model = compilation.GetSemanticModel(compilation.SyntaxTrees[0]);
        var targets = compilation.SyntaxTrees[0].GetRoot().DescendantNodes().OfType<AttributeSyntax>()
            .SelectMany(attribute => TargetNodes(attribute).Select(node => (Name: attribute.Name.ToString(), Node: node)))
            .ToList();

        Assert.Equal(15, targets.Count);
        foreach (var (name, node) in targets)
        {
            Func<SyntaxNode, CancellationToken, bool> predicate = name switch
            {
                "Guarded" => GuardedGenerator.IsGuardedTarget,
                "AcquiresLocksOf" => GuardedGenerator.IsMethodTarget,
                "LockOrder" => GuardedGenerator.IsLockMemberTarget,
                "ReadMostly" => GuardedGenerator.IsTypeTarget,
                _ => throw new InvalidOperationException(name),
            };
            Assert.True(predicate(node, CancellationToken.None), $"[{name}] on {node.Kind()} is filtered out.");
            Assert.NotNull(model.GetDeclaredSymbol(node) ?? model.GetSymbolInfo(node).Symbol);
        }
    }

    [Fact]
    public void Predicates_RejectNodesNoAttributeOfThemCanTarget()
    {
        var root = TestCompilation.Parse(EveryTarget, "Source0.cs").GetRoot();
        var others = new SyntaxNode[]
        {
            root,
            root.DescendantNodes().OfType<ClassDeclarationSyntax>().First(),
            root.DescendantNodes().OfType<ParameterSyntax>().First(),
            root.DescendantNodes().OfType<BlockSyntax>().First(),
        };

        foreach (var node in others.Skip(2))
        {
            Assert.False(GuardedGenerator.IsGuardedTarget(node, CancellationToken.None), node.Kind().ToString());
            Assert.False(GuardedGenerator.IsMethodTarget(node, CancellationToken.None), node.Kind().ToString());
            Assert.False(GuardedGenerator.IsLockMemberTarget(node, CancellationToken.None), node.Kind().ToString());
            Assert.False(GuardedGenerator.IsTypeTarget(node, CancellationToken.None), node.Kind().ToString());
        }

        Assert.False(GuardedGenerator.IsTypeTarget(root, CancellationToken.None));
        Assert.False(GuardedGenerator.IsGuardedTarget(others[1], CancellationToken.None));
        Assert.False(GuardedGenerator.IsLockMemberTarget(others[1], CancellationToken.None));
    }

    [Fact]
    public void AttributeReaders_ReadLockOrderAndReadMostly()
    {
        var compilation = TestCompilation.Create("""
            using Locksmith;
            [ReadMostly(Policy = ReadWritePolicy.Fair)] public partial class Fair { [LockOrder(7)] private readonly ExclusiveLock _lock = new(); }
            [ReadMostly] public partial class Default { }
            [ReadMostly(Policy = (ReadWritePolicy)9)] public partial class Broken { }
            """);
        var fair = compilation.GetTypeByMetadataName("Fair")!;

        Assert.Equal(7, LockOrderAttributeData.Of(fair.GetMembers("_lock").Single())?.Level);
        Assert.Null(LockOrderAttributeData.Of(fair));
        Assert.Equal("Fair", ReadMostlyAttributeData.Of(fair)?.Policy?.Member?.Name);
        Assert.Empty(ReadMostlyAttributeData.Of(fair)!.Value.InvalidArguments);
        Assert.Null(ReadMostlyAttributeData.Of(compilation.GetTypeByMetadataName("Default")!)?.Policy);

        var broken = ReadMostlyAttributeData.Of(compilation.GetTypeByMetadataName("Broken")!)!.Value;
        var invalid = Assert.Single(broken.InvalidArguments);
        Assert.Equal(("Policy", "9", "ReadWritePolicy"), (invalid.Name, invalid.ValueText, invalid.EnumType.Name));
        Assert.Equal("ReadWritePolicy.ReaderPreferred, ReadWritePolicy.WriterPreferred, ReadWritePolicy.Fair", invalid.ValidMembers);
    }

    /// <summary>The nodes <c>ForAttributeWithMetadataName</c> hands to the predicate: each declarator of a field, else the attributed node.</summary>
    private static SyntaxNode[] TargetNodes(AttributeSyntax attribute) => attribute.Parent?.Parent switch
    {
        BaseFieldDeclarationSyntax field => [.. field.Declaration.Variables],
        { } node => [node],
        _ => [],
    };
}
