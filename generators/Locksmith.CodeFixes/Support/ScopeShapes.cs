using System.Linq;
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

    /// <summary>Whether the function around <paramref name="node"/> is declared <c>async</c>.</summary>
    public static bool IsInAsyncFunction(SyntaxNode node) => EnclosingFunction(node) switch
    {
        MethodDeclarationSyntax method => method.Modifiers.Any(SyntaxKind.AsyncKeyword),
        LocalFunctionStatementSyntax local => local.Modifiers.Any(SyntaxKind.AsyncKeyword),
        AnonymousFunctionExpressionSyntax lambda => lambda.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword),
        _ => false,
    };
}
