using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// A method of this type whose one body runs where it is named in a parallel body: given by name
/// (<c>Parallel.For(0, n, Step)</c>, or kept in a local given to the loop) or called directly from a lambda given to the
/// loop (<c>i =&gt; Step(i)</c>), or, for LSM0023/LSM0022, from another lambda run inline (<c>items.ForEach(x =&gt; Step(x))</c>).
/// Its body is read as the lambda's in its place would be; calls in it are not followed further.
/// </summary>
internal static class BodiesByName
{
    /// <summary>
    /// Whether <paramref name="method"/>, given by name or called, is an ordinary method of the type
    /// <paramref name="containingSymbol"/> is in, on <c>this</c> (<paramref name="instance"/>) or static, and not one an
    /// override can replace (virtual, abstract or an override, neither it nor its type sealed), so the body read is the
    /// one that runs. Given by name (<c>Parallel.For(0, n, Step)</c>) and called (<c>i =&gt; Step(i)</c>) alike.
    /// </summary>
    public static bool IsOwnCallee(IMethodSymbol method, IOperation? instance, ISymbol containingSymbol) =>
        method.MethodKind == MethodKind.Ordinary &&
        SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, containingSymbol.ContainingType?.OriginalDefinition) &&
        (method.IsStatic || OperationFacts.IsThis(instance)) &&
        (!(method.IsVirtual || method.IsAbstract || method.IsOverride) || method.IsSealed || method.ContainingType?.IsSealed == true);

    /// <summary>
    /// The operation of <paramref name="method"/>'s body (a partial method's implementing part), or null when it has none in
    /// source. A part of the type in another file is read through that file's semantic model: one method body, bound only
    /// when a parallel body under a hold names it, not a search of the compilation.
    /// </summary>
    public static IOperation? BodyOf(IMethodSymbol method, SemanticModel model, CancellationToken token)
    {
        var definition = method.OriginalDefinition;
        definition = definition.PartialImplementationPart ?? definition;
        foreach (var declaration in definition.DeclaringSyntaxReferences)
        {
            var tree = declaration.SyntaxTree;
            if (tree != model.SyntaxTree && !model.Compilation.ContainsSyntaxTree(tree))
            {
                continue;
            }

#pragma warning disable RS1030 // One body of another part of the type, read only for a method named in a parallel body under a hold.
            var semantic = tree == model.SyntaxTree ? model : model.Compilation.GetSemanticModel(tree);
#pragma warning restore RS1030
            if (semantic.GetOperation(declaration.GetSyntax(token), token) is { } body)
            {
                return body;
            }
        }

        return null;
    }
}
