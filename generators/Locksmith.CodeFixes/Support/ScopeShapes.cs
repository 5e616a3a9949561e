using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes.Support;

/// <summary>What a <c>using</c> can dispose, and the function a statement runs in.</summary>
internal static class ScopeShapes
{
    /// <summary>
    /// Whether a plain <c>using</c> disposes a value of the type: it implements <c>IDisposable</c>, or is a ref struct
    /// with a public parameterless <c>Dispose()</c> (the scopes of the synchronous locks).
    /// </summary>
    public static bool IsDisposable(ITypeSymbol type) =>
        type.AllInterfaces.Any(static i => i is { Name: "IDisposable", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } }) ||
        (type.IsRefLikeType && type.GetMembers("Dispose").Any(static m =>
            m is IMethodSymbol { IsStatic: false, DeclaredAccessibility: Accessibility.Public, Parameters.Length: 0 }));

    /// <summary>Whether <c>await using</c> disposes a value of the type: it implements <c>IAsyncDisposable</c>.</summary>
    public static bool IsAsyncDisposable(ITypeSymbol type) =>
        type.AllInterfaces.Any(static i => i is { Name: "IAsyncDisposable", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } });

    /// <summary>The method, local function, lambda or accessor whose body holds <paramref name="node"/>, or null.</summary>
    public static SyntaxNode? EnclosingFunction(SyntaxNode node) =>
        node.Ancestors().FirstOrDefault(static a =>
            a is BaseMethodDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax or AccessorDeclarationSyntax);

    /// <summary>
    /// Whether an <c>await</c> can go at <paramref name="node"/>: its function is <c>async</c>, and it is neither in the
    /// body of a <c>lock</c> of that function (CS1996) nor in an unsafe context (CS4004).
    /// </summary>
    public static bool CanAwaitAt(SyntaxNode node)
    {
        if (!IsInAsyncFunction(node))
        {
            return false;
        }

        var function = EnclosingFunction(node);
        bool inFunction = true;
        foreach (var ancestor in node.Ancestors())
        {
            inFunction &= ancestor != function;
            if ((inFunction && ancestor is LockStatementSyntax) ||
                ancestor is UnsafeStatementSyntax ||
                (ancestor is MemberDeclarationSyntax member && member.Modifiers.Any(SyntaxKind.UnsafeKeyword)) ||
                (ancestor is LocalFunctionStatementSyntax local && local.Modifiers.Any(SyntaxKind.UnsafeKeyword)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether the function around <paramref name="node"/> is declared <c>async</c>, or is top-level statements of
    /// which one awaits (they compile to an async <c>Main</c>).
    /// </summary>
    public static bool IsInAsyncFunction(SyntaxNode node) => EnclosingFunction(node) switch
    {
        MethodDeclarationSyntax method => method.Modifiers.Any(SyntaxKind.AsyncKeyword),
        LocalFunctionStatementSyntax local => local.Modifiers.Any(SyntaxKind.AsyncKeyword),
        AnonymousFunctionExpressionSyntax lambda => lambda.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword),
        null => IsInTopLevelStatements(node) && TopLevelAwaits(node),
        _ => false,
    };

    /// <summary>Whether <paramref name="node"/> is in top-level statements, outside their lambdas and local functions.</summary>
    public static bool IsInTopLevelStatements(SyntaxNode node) =>
        EnclosingFunction(node) is null && node.FirstAncestorOrSelf<GlobalStatementSyntax>() is not null;

    /// <summary>Whether the top-level statements of <paramref name="node"/>'s file await (outside lambdas and local functions).</summary>
    public static bool TopLevelAwaits(SyntaxNode node) =>
        node.FirstAncestorOrSelf<CompilationUnitSyntax>() is { } unit &&
        unit.Members.OfType<GlobalStatementSyntax>().Any(static global => AwaitsOrYields(global, yields: false));

    /// <summary>
    /// Whether <paramref name="node"/> holds an <c>await</c> (<c>await foreach</c>, <c>await using</c> included) or,
    /// with <paramref name="yields"/>, a <c>yield</c>, outside its lambdas and local functions.
    /// </summary>
    public static bool AwaitsOrYields(SyntaxNode node, bool yields) =>
        node.DescendantTokens(static n => n is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax))
            .Any(t => t.IsKind(SyntaxKind.AwaitKeyword) || (yields && t.IsKind(SyntaxKind.YieldKeyword)));

    /// <summary>
    /// Whether a ref struct value or a ref local of the function around <paramref name="node"/> may be alive there:
    /// one declared before it and still in scope, the resource of a <c>using</c> statement around it, the enumerator
    /// of a <c>foreach</c> around it. An <c>await</c> at <paramref name="node"/> would keep it across (CS4007). Not a
    /// liveness analysis: a local no longer used after <paramref name="node"/> counts too.
    /// </summary>
    public static bool RefLikeInScope(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken)
    {
        var function = EnclosingFunction(node);
        foreach (var ancestor in node.Ancestors())
        {
            if (ancestor == function)
            {
                break;
            }

            if ((ancestor is UsingStatementSyntax { Expression: { } resource } &&
                 model.GetTypeInfo(resource, cancellationToken).Type is { IsRefLikeType: true }) ||
                (ancestor is CommonForEachStatementSyntax forEach &&
                 model.GetForEachStatementInfo(forEach).GetEnumeratorMethod?.ReturnType is { IsRefLikeType: true }))
            {
                return true;
            }
        }

        return model.LookupSymbols(node.SpanStart).OfType<ILocalSymbol>().Any(local =>
            (local.IsRef || local.Type.IsRefLikeType) &&
            local.DeclaringSyntaxReferences.Any(reference =>
                reference.SyntaxTree == node.SyntaxTree &&
                reference.Span.End <= node.SpanStart &&
                EnclosingFunction(reference.GetSyntax(cancellationToken)) == function));
    }
}
